//! The WIM checks of one output: `wim_open`, `wim_verify`, `image_count`,
//! `image_identity`, `staged_files` and `content_digest`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wait_catalog::Arch;
use wait_wim::{Wim, WimError};

use super::{Scope, plain_name};
use crate::{Manifest, ManifestOutput, PipelineError, StagedFile};

/// The one image of an output WIM is image 1.
pub(super) const IMAGE: u32 = 1;

/// Size and libwim's SHA-1 of one image entry.
#[derive(Debug, Clone, Copy)]
pub(super) struct EntryFacts {
    pub size: u64,
    pub sha1: [u8; 20],
    pub is_dir: bool,
}

/// An opened output WIM with the listing of its image, for the checks that follow.
pub(super) struct OpenImage {
    pub wim: Wim<'static>,
    /// Every entry of the image by its exact path ('/'-separated, leading '/').
    pub entries: HashMap<String, EntryFacts>,
    /// Lower-cased path → the path as stored: Windows looks paths up without regard
    /// to case.
    pub folded: HashMap<String, String>,
}

impl OpenImage {
    /// The stored path that `path` names when compared as Windows compares paths.
    pub(super) fn resolve(&self, path: &str) -> Option<&str> {
        if let Some((stored, _)) = self.entries.get_key_value(path) {
            return Some(stored);
        }
        self.folded.get(&path.to_lowercase()).map(String::as_str)
    }

    /// Read a small file of the image (an answer file, a script) without extracting.
    pub(super) fn read_small(&self, path: &str) -> Result<Vec<u8>, String> {
        let Some(stored) = self.resolve(path) else {
            return Err(format!("{path} is not in the image"));
        };
        let mut reader = self
            .wim
            .open_file(IMAGE, stored)
            .map_err(|e| format!("{stored}: {e}"))?;
        if reader.size() > MAX_SMALL_FILE {
            return Err(format!(
                "{stored} is {} bytes, more than any such file has",
                reader.size()
            ));
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut bytes)
            .map_err(|e| format!("{stored}: {e}"))?;
        Ok(bytes)
    }
}

/// Answer files and scripts are kilobytes; a cap keeps a damaged size from turning
/// into a huge allocation.
const MAX_SMALL_FILE: u64 = 16 << 20;

/// Run the WIM checks. `None` when the WIM could not be opened or listed (that
/// failure is reported), so the checks that read the image are left out.
pub(super) fn check_image(
    dir: &Path,
    manifest: &Manifest,
    output: &ManifestOutput,
    cancel: &Arc<AtomicBool>,
    scope: &mut Scope<'_>,
) -> Result<Option<OpenImage>, PipelineError> {
    if !plain_name(&output.image_file) {
        scope.push(
            "wim_open",
            false,
            format!(
                "image_file {:?} is not a plain file name",
                output.image_file
            ),
        );
        return Ok(None);
    }
    let path = dir.join(&output.image_file);
    let mut wim = match Wim::open(&path) {
        Ok(w) => w,
        Err(e) => {
            scope.push("wim_open", false, format!("{}: {e}", output.image_file));
            return Ok(None);
        }
    };
    verify(&mut wim, &output.image_file, cancel, scope)?;

    let count = wim.image_count();
    scope.push(
        "image_count",
        count == 1,
        format!("{count} image(s), expected 1"),
    );
    identity(&wim, manifest, scope);

    let mut entries = HashMap::new();
    let listed = wim.for_each_file(IMAGE, "/", |f| {
        entries.insert(
            f.path.clone(),
            EntryFacts {
                size: f.size,
                sha1: f.sha1,
                is_dir: f.is_directory,
            },
        );
        true
    });
    if let Err(e) = listed {
        scope.push(
            "staged_files",
            false,
            format!("{}: cannot list image {IMAGE}: {e}", output.image_file),
        );
        return Ok(None);
    }
    staged_files(&entries, manifest, output, scope);

    match crate::content_digest(&wim, IMAGE) {
        Ok(d) if d.eq_ignore_ascii_case(&output.content_digest) => {
            scope.push("content_digest", true, format!("{d} as recorded"));
        }
        Ok(d) => scope.push(
            "content_digest",
            false,
            format!(
                "image content digest is {d}, manifest says {}",
                output.content_digest
            ),
        ),
        Err(PipelineError::Cancelled) => return Err(PipelineError::Cancelled),
        Err(e) => scope.push("content_digest", false, e.to_string()),
    }

    let folded = entries
        .keys()
        .map(|p| (p.to_lowercase(), p.clone()))
        .collect();
    Ok(Some(OpenImage {
        wim,
        entries,
        folded,
    }))
}

/// `wim_verify`: every blob is read back and its hash compared; the cancel flag is
/// polled from libwim's progress callback.
fn verify(
    wim: &mut Wim<'static>,
    file: &str,
    cancel: &Arc<AtomicBool>,
    scope: &mut Scope<'_>,
) -> Result<(), PipelineError> {
    wim.abort_when_set(cancel);
    let verified = wim.verify();
    wim.clear_progress();
    match verified {
        Ok(()) => scope.push(
            "wim_verify",
            true,
            "every blob read back with a matching hash",
        ),
        Err(WimError::Aborted) => return Err(PipelineError::Cancelled),
        Err(e) => scope.push("wim_verify", false, format!("{file}: {e}")),
    }
    Ok(())
}

/// `image_identity`: edition, build and architecture as the manifest recorded them
/// from the base image.
fn identity(wim: &Wim<'static>, manifest: &Manifest, scope: &mut Scope<'_>) {
    let info = match wim.image_info(IMAGE) {
        Ok(i) => i,
        Err(e) => {
            scope.push("image_identity", false, e.to_string());
            return;
        }
    };
    let base = &manifest.base_image;
    let build = info.version.map(|v| v.2);
    let arch = info.arch.map(|code| {
        Arch::from_wim(code).map_or_else(|| format!("code {code}"), |a| a.as_str().to_string())
    });
    let show = |v: Option<String>| v.unwrap_or_else(|| "(none)".to_string());
    let mut problems = Vec::new();
    if info.edition_id != base.edition {
        problems.push(format!(
            "edition {}, manifest says {}",
            show(info.edition_id.clone()),
            show(base.edition.clone())
        ));
    }
    if build != base.build {
        problems.push(format!(
            "build {}, manifest says {}",
            show(build.map(|b| b.to_string())),
            show(base.build.map(|b| b.to_string()))
        ));
    }
    if arch != base.arch {
        problems.push(format!(
            "architecture {}, manifest says {}",
            show(arch.clone()),
            show(base.arch.clone())
        ));
    }
    scope.push_all(
        "image_identity",
        &problems,
        format!(
            "edition {} build {} architecture {}",
            show(info.edition_id),
            show(build.map(|b| b.to_string())),
            show(arch)
        ),
    );
}

/// `staged_files`: every file WAIT placed (and this output's answer file) is in the
/// image with the recorded size and SHA-1, read from the metadata, nothing extracted.
fn staged_files(
    entries: &HashMap<String, EntryFacts>,
    manifest: &Manifest,
    output: &ManifestOutput,
    scope: &mut Scope<'_>,
) {
    let promised: Vec<&StagedFile> = manifest
        .staged_files
        .iter()
        .chain(std::iter::once(&output.unattend))
        .collect();
    let mut problems = Vec::new();
    for s in &promised {
        let path = image_path(&s.image_path);
        match entries.get(&path) {
            None => problems.push(format!("{path} is missing")),
            Some(f) if f.is_dir => problems.push(format!("{path} is a folder")),
            Some(f) => {
                if f.size != s.size {
                    problems.push(format!(
                        "{path} is {} bytes, manifest says {}",
                        f.size, s.size
                    ));
                } else if !hex::encode(f.sha1).eq_ignore_ascii_case(&s.sha1) {
                    problems.push(format!(
                        "{path}: SHA-1 {}, manifest says {}",
                        hex::encode(f.sha1),
                        s.sha1
                    ));
                }
            }
        }
    }
    scope.push_all(
        "staged_files",
        &problems,
        format!(
            "all {} staged files present with matching size and SHA-1",
            promised.len()
        ),
    );
}

/// A manifest image path in libwim's form: '/'-separated with a leading '/'.
pub(super) fn image_path(p: &str) -> String {
    let p = p.replace('\\', "/");
    if p.starts_with('/') {
        p
    } else {
        format!("/{p}")
    }
}
