//! The validation stage: prove that a published output folder is what its manifest says.
//!
//! Checks, each reported on its own line: the checksum files match the files they list,
//! the WIM's data verifies (every blob is read and its hash compared), the image count
//! and identity match the manifest, and every staged file is inside the image with the
//! recorded size and SHA-1.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use wait_wim::{ProgressControl, Wim};

use crate::checksum::{digest_file, read_checksum_file};
use crate::{IMAGE_FILE, Manifest, PipelineError};

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

/// Validate the output folder `dir`. `Err` means the check itself could not run (or
/// was cancelled); a failed check is an `Ok` report whose `passed()` is false.
pub fn validate_output(
    dir: &Path,
    cancel: Arc<AtomicBool>,
) -> Result<ValidationReport, PipelineError> {
    let mut report = ValidationReport::default();
    let manifest_path = dir.join("manifest.json");
    let manifest: Manifest = match std::fs::read_to_string(&manifest_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(m) => {
            report.push("manifest", true, "manifest.json parses");
            m
        }
        Err(e) => {
            report.push("manifest", false, format!("manifest.json: {e}"));
            return Ok(report);
        }
    };

    check_sums(dir, &mut report, &cancel)?;

    let image_path = dir.join(IMAGE_FILE);
    let mut wim = match Wim::open(&image_path) {
        Ok(w) => w,
        Err(e) => {
            report.push("wim_open", false, format!("{IMAGE_FILE}: {e}"));
            return Ok(report);
        }
    };
    let flag = Arc::clone(&cancel);
    wim.set_progress(move |_| {
        if flag.load(Ordering::Relaxed) {
            ProgressControl::Abort
        } else {
            ProgressControl::Continue
        }
    });
    match wim.verify() {
        Ok(()) => report.push(
            "wim_verify",
            true,
            "every blob read back with a matching hash",
        ),
        Err(wait_wim::WimError::Aborted) => return Err(PipelineError::Cancelled),
        Err(e) => report.push("wim_verify", false, e.to_string()),
    }
    wim.clear_progress();

    let count = wim.image_count();
    report.push(
        "image_count",
        count == 1,
        format!("{count} image(s), expected 1"),
    );
    match wim.image_info(1) {
        Ok(info) => {
            let build = info.version.map(|v| v.2);
            let same = build == manifest.base_image.build
                && info.edition_id == manifest.base_image.edition;
            report.push(
                "image_identity",
                same,
                format!(
                    "edition {} build {}; manifest says {} build {}",
                    show(info.edition_id.as_deref()),
                    show(build.map(|b| b.to_string()).as_deref()),
                    show(manifest.base_image.edition.as_deref()),
                    show(manifest.base_image.build.map(|b| b.to_string()).as_deref()),
                ),
            );
        }
        Err(e) => report.push("image_identity", false, e.to_string()),
    }

    let mut in_image: HashMap<String, (u64, [u8; 20])> = HashMap::new();
    let listed = wim.for_each_file(1, crate::IMAGE_DRIVER_ROOT, |f| {
        in_image.insert(f.path.clone(), (f.size, f.sha1));
        true
    });
    // Packages and software are optional folders: absent ones simply list nothing, and
    // any file the manifest promises there is then reported missing below.
    for extra in [
        crate::IMAGE_UNATTEND_PATH,
        crate::IMAGE_SETUPCOMPLETE_PATH,
        "/WAIT/Packages",
        "/WAIT/Software",
    ] {
        let _ = wim.for_each_file(1, extra, |f| {
            in_image.insert(f.path.clone(), (f.size, f.sha1));
            true
        });
    }
    if let Err(e) = listed {
        report.push(
            "staged_files",
            false,
            format!("{}: {e}", crate::IMAGE_DRIVER_ROOT),
        );
    } else {
        let mut missing = Vec::new();
        for s in &manifest.staged_files {
            match in_image.get(&s.image_path) {
                Some((size, sha1)) if *size == s.size && hex::encode(sha1) == s.sha1 => {}
                Some((size, _)) => missing.push(format!(
                    "{} differs (size {size}, manifest {})",
                    s.image_path, s.size
                )),
                None => missing.push(format!("{} is missing", s.image_path)),
            }
        }
        let detail = if missing.is_empty() {
            format!(
                "all {} staged files present with matching size and SHA-1",
                manifest.staged_files.len()
            )
        } else {
            missing.join("; ")
        };
        report.push(
            "staged_files",
            missing.is_empty() && !manifest.staged_files.is_empty(),
            detail,
        );
    }
    Ok(report)
}

fn show(v: Option<&str>) -> &str {
    v.unwrap_or("(none)")
}

/// Check both checksum files, reading each listed file once for both digests.
fn check_sums(
    dir: &Path,
    report: &mut ValidationReport,
    cancel: &AtomicBool,
) -> Result<(), PipelineError> {
    let mut lists = Vec::new();
    for file in ["checksum.md5", "checksum.sha256"] {
        match read_checksum_file(&dir.join(file)) {
            Ok(l) if !l.is_empty() => lists.push((file, l)),
            Ok(_) => report.push(file, false, "empty"),
            Err(e) => report.push(file, false, e.to_string()),
        }
    }
    let mut digests: HashMap<String, Result<crate::FileDigests, String>> = HashMap::new();
    for (_, lines) in &lists {
        for (name, _) in lines {
            if digests.contains_key(name) {
                continue;
            }
            let result = if name.contains('/') || name.contains("..") {
                Err(format!("{name}: not a plain file name"))
            } else {
                match digest_file(&dir.join(name), |_| !cancel.load(Ordering::Relaxed)) {
                    Ok(d) => Ok(d),
                    Err(PipelineError::Cancelled) => return Err(PipelineError::Cancelled),
                    Err(e) => Err(e.to_string()),
                }
            };
            digests.insert(name.clone(), result);
        }
    }
    for (file, lines) in &lists {
        let mut bad = Vec::new();
        for (name, want) in lines {
            match digests.get(name) {
                Some(Ok(d)) => {
                    let have = if *file == "checksum.md5" {
                        &d.md5
                    } else {
                        &d.sha256
                    };
                    if have != want {
                        bad.push(format!("{name}: mismatch"));
                    }
                }
                Some(Err(e)) => bad.push(e.clone()),
                None => bad.push(format!("{name}: not checked")),
            }
        }
        if bad.is_empty() {
            report.push(file, true, format!("{} file(s) match", lines.len()));
        } else {
            report.push(file, false, bad.join("; "));
        }
    }
    Ok(())
}
