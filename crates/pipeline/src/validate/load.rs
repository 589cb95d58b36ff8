//! The `manifest` check: `manifest.json` is there and parses as format 2.

use std::collections::HashSet;
use std::path::Path;

use super::ValidationReport;
use crate::Manifest;

/// The manifest format this validation understands.
const FORMAT: u64 = 2;

/// Read `manifest.json`; pushes the `manifest` check and returns the manifest when it
/// could be read (even if it then fails a consistency rule, so the other checks run).
pub(super) fn load_manifest(dir: &Path, report: &mut ValidationReport) -> Option<Manifest> {
    let path = dir.join("manifest.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            report.push("manifest", false, format!("manifest.json: {e}"));
            return None;
        }
    };
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            report.push("manifest", false, format!("manifest.json: not JSON: {e}"));
            return None;
        }
    };
    // Format 1 manifests had no `format` field and a single image at the top level.
    match value.get("format").and_then(serde_json::Value::as_u64) {
        Some(FORMAT) => {}
        Some(other) => {
            report.push(
                "manifest",
                false,
                format!("manifest.json is format {other}; this validation reads format {FORMAT}"),
            );
            return None;
        }
        None => {
            report.push(
                "manifest",
                false,
                format!(
                    "manifest.json has no format field: it was written by an older WAIT \
                     (format 1, one image and no outputs list); this validation reads format {FORMAT}"
                ),
            );
            return None;
        }
    }
    let manifest: Manifest = match serde_json::from_value(value) {
        Ok(m) => m,
        Err(e) => {
            report.push("manifest", false, format!("manifest.json: {e}"));
            return None;
        }
    };
    let problems = consistency(&manifest);
    if problems.is_empty() {
        report.push(
            "manifest",
            true,
            format!(
                "manifest.json is format {FORMAT} with {} output(s)",
                manifest.outputs.len()
            ),
        );
    } else {
        report.push("manifest", false, problems.join("; "));
    }
    Some(manifest)
}

/// Rules the types cannot express: at least one output, variants that tell the
/// outputs apart (their names prefix the checks).
fn consistency(m: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    if m.outputs.is_empty() {
        problems.push("manifest.json lists no outputs".to_string());
    }
    let mut seen = HashSet::new();
    for o in &m.outputs {
        if !seen.insert(o.variant.as_str()) {
            problems.push(format!("outputs: variant {:?} appears twice", o.variant));
        }
    }
    problems
}
