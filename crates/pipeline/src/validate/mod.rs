//! The validation stage: prove that a published output folder is what its manifest says.
//!
//! Every check is reported on its own named line and every failure is listed, not just
//! the first: `manifest` (format 2), the two checksum files (complete and matching),
//! then per output variant the WIM (file digests, `verify`, one image, identity,
//! staged files by size and SHA-1, content digest), its answer file (well-formed,
//! planned sections, product-key state), the first-boot references, and its ISO when
//! there is one (boot catalog, install image, `autounattend.xml`). With several outputs
//! the per-output names carry the variant as a prefix (`key/wim_verify`).
//!
//! A check that depends on another one that could not run (the WIM did not open, the
//! answer file is unreadable) is left out rather than reported twice.

mod answer;
mod iso;
mod load;
mod script;
mod sums;
mod wim;
mod xml;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::PipelineError;

/// One named check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    pub checks: Vec<Check>,
}

impl ValidationReport {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    pub fn failures(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }

    fn push(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.to_string(),
            ok,
            detail: detail.into(),
        });
    }
}

/// Where the checks of one output go: the report, with the variant prefix applied.
pub(super) struct Scope<'a> {
    report: &'a mut ValidationReport,
    prefix: String,
}

impl Scope<'_> {
    fn push(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        let name = format!("{}{name}", self.prefix);
        self.report.push(&name, ok, detail);
    }

    /// A check that passes when `problems` is empty, listing every problem otherwise.
    fn push_all(&mut self, name: &str, problems: &[String], passed: impl Into<String>) {
        if problems.is_empty() {
            self.push(name, true, passed);
        } else {
            self.push(name, false, problems.join("; "));
        }
    }
}

/// Validate the output folder `dir`. `Err` means the check itself could not run (or
/// was cancelled); a failed check is an `Ok` report whose `passed()` is false.
pub fn validate_output(
    dir: &Path,
    cancel: Arc<AtomicBool>,
) -> Result<ValidationReport, PipelineError> {
    if !dir.is_dir() {
        return Err(PipelineError::Validation(format!(
            "{}: not a folder",
            dir.display()
        )));
    }
    let mut report = ValidationReport::default();
    let manifest = load::load_manifest(dir, &mut report);
    // The checksum files and the images are read in parallel: both are full reads of
    // the largest files, and each keeps one core busy (MD5+SHA-256 there, decompression
    // and SHA-1 in libwim's verify here).
    let mut sums_report = ValidationReport::default();
    let (sums, images) = std::thread::scope(|threads| {
        let sums = threads.spawn(|| sums::check_sums(dir, &mut sums_report, &cancel));
        let images = manifest
            .as_ref()
            .map(|m| image_checks(dir, m, &cancel))
            .transpose();
        let sums = sums.join().unwrap_or_else(|_| {
            Err(PipelineError::Validation(
                "internal: the checksum thread panicked".into(),
            ))
        });
        (sums, images)
    });
    let (sums, images) = (sums?, images?);
    report.checks.extend(sums_report.checks);
    let (Some(manifest), Some(images)) = (manifest, images) else {
        return Ok(report);
    };
    let several = manifest.outputs.len() > 1;
    for (output, checks) in manifest.outputs.iter().zip(images) {
        stop_if_cancelled(&cancel)?;
        let mut scope = Scope {
            report: &mut report,
            prefix: if several {
                format!("{}/", output.variant)
            } else {
                String::new()
            },
        };
        let listed = sums.file_check(&output.image_file, output.size, &output.md5, &output.sha256);
        scope.push_all(
            "wim_file",
            &listed,
            format!("{} matches the manifest", output.image_file),
        );
        for c in checks.checks {
            scope.push(&c.name, c.ok, c.detail);
        }
        if let Some(iso) = &output.iso {
            stop_if_cancelled(&cancel)?;
            iso::check_iso(dir, output, iso, &sums, &cancel, &mut scope)?;
        }
    }
    Ok(report)
}

/// The checks of each output that read its image (WIM, answer file, first-boot
/// references), unprefixed, one report per output in manifest order.
fn image_checks(
    dir: &Path,
    manifest: &crate::Manifest,
    cancel: &Arc<AtomicBool>,
) -> Result<Vec<ValidationReport>, PipelineError> {
    let mut all = Vec::new();
    for output in &manifest.outputs {
        stop_if_cancelled(cancel)?;
        let mut report = ValidationReport::default();
        let mut scope = Scope {
            report: &mut report,
            prefix: String::new(),
        };
        if let Some(image) = wim::check_image(dir, manifest, output, cancel, &mut scope)? {
            stop_if_cancelled(cancel)?;
            let answer = answer::check_answer_file(&image, output, &mut scope);
            script::check_first_boot(&image, &manifest.first_boot, answer.as_ref(), &mut scope);
        }
        all.push(report);
    }
    Ok(all)
}

fn stop_if_cancelled(cancel: &AtomicBool) -> Result<(), PipelineError> {
    if cancel.load(Ordering::Relaxed) {
        Err(PipelineError::Cancelled)
    } else {
        Ok(())
    }
}

/// Whether `name` is a plain file name inside the output folder (no path, no `..`).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.contains('\0')
}
