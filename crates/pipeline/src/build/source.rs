//! Resolve and source: the job's names become files, and the base image is opened —
//! directly for WIM/ESD/SWM, or by streaming the install image out of an ISO. For ISO
//! output the Setup media tree (everything but the install image) is extracted too.

use std::path::{Path, PathBuf};

use wait_media::IsoImage;
use wait_media::iso::InstallImage;
use wait_wim::Wim;

use super::BuildEnv;
use super::state::{BaseSource, ExistingFiles, MediaTree};
use crate::resolve::{Hasher, has_extension, resolve};
use crate::stage::StageContext;
use crate::{IMAGE_SETUPCOMPLETE_PATH, IMAGE_UNATTEND_PATH, PipelineError};

pub(super) fn resolve_stage(
    cx: &mut StageContext<'_>,
    env: &BuildEnv,
) -> Result<(), PipelineError> {
    let mut hasher = Hasher::new(env.hash_cache.as_deref(), cx.r.cancel_flag());
    let resolved = resolve(cx.job, cx.repo, cx.r, &mut cx.state.warnings, &mut hasher);
    hasher.save(cx.r);
    cx.state.resolved = Some(resolved?);
    Ok(())
}

pub(super) fn source_stage(
    cx: &mut StageContext<'_>,
    _env: &BuildEnv,
) -> Result<(), PipelineError> {
    let req = &cx.job.request;
    let resolved = cx.state.resolved()?;
    let base_path = resolved.base_path.clone();
    let index = resolved.identity.index;
    let is_iso = has_extension(&base_path, "iso");
    let base = if is_iso {
        stream_install_image(cx, &base_path)?
    } else {
        BaseSource {
            wim: base_path.clone(),
            inside_iso: None,
        }
    };
    cx.info(format!(
        "Opening {} and reading index {} ({})",
        base.inside_iso
            .as_ref()
            .map(|inner| format!("{inner} of {}", req.base_image))
            .unwrap_or_else(|| req.base_image.clone()),
        index,
        cx.state.resolved()?.identity.name
    ));
    let probe = Wim::open_split(&base.wim)
        .map_err(|e| PipelineError::wim(format!("open 1_BaseImages/{}", req.base_image), e))?;
    cx.state.existing = ExistingFiles {
        unattend: exists_in_image(&probe, index, IMAGE_UNATTEND_PATH)?,
        setupcomplete: exists_in_image(&probe, index, IMAGE_SETUPCOMPLETE_PATH)?,
    };
    cx.state.probe = Some(probe);
    cx.state.base = Some(base);

    if req.create_iso {
        // Chosen (and recorded as an input) by the resolve stage.
        let media_name = cx.state.resolved()?.install_media.clone().ok_or_else(|| {
            PipelineError::Permanent("internal: ISO output without Setup media".into())
        })?;
        let media = extract_media(cx, &media_name)?;
        cx.state.media = Some(media);
    }
    Ok(())
}

/// Copy the install image (or every part of a split one) out of the ISO into scratch.
fn stream_install_image(
    cx: &StageContext<'_>,
    iso_path: &Path,
) -> Result<BaseSource, PipelineError> {
    let name = &cx.job.request.base_image;
    let mut iso = IsoImage::open(iso_path)
        .map_err(|e| PipelineError::Permanent(format!("base_image {name}: {e}")))?;
    let install = iso
        .find_install_image()
        .map_err(|e| PipelineError::Permanent(format!("base_image {name}: {e}")))?;
    let entries = match install {
        InstallImage::Wim(e) | InstallImage::Esd(e) => vec![e],
        InstallImage::Split(parts) => parts,
    };
    let dir = cx.scratch.join("base");
    std::fs::create_dir_all(&dir).map_err(|e| PipelineError::io(&dir, e))?;
    let mut copied = Vec::new();
    for entry in &entries {
        cx.check_cancel()?;
        let dest = dir.join(entry.name());
        cx.info(format!(
            "Streaming {} ({} bytes) out of {name}",
            entry.path, entry.size
        ));
        copy_out(cx, &mut iso, name, &entry.path, &dest)?;
        copied.push(dest);
    }
    // Split parts keep their names (install.swm, install2.swm, …) so that opening the
    // first finds the others beside it.
    let first = copied
        .into_iter()
        .next()
        .ok_or_else(|| PipelineError::Permanent(format!("base_image {name}: no install image")))?;
    Ok(BaseSource {
        wim: first,
        inside_iso: entries.first().map(|e| e.path.clone()),
    })
}

/// Extract the Setup media of `media_name` (an ISO in `1_BaseImages/`) without its
/// install image, which the build replaces.
fn extract_media(cx: &StageContext<'_>, media_name: &str) -> Result<MediaTree, PipelineError> {
    let path = cx.repo.resolve("base_image", "1_BaseImages", media_name)?;
    let mut iso = IsoImage::open(&path)
        .map_err(|e| PipelineError::Permanent(format!("create_iso: {media_name}: {e}")))?;
    let label = iso.volume_label().trim().to_string();
    let dir = cx.scratch.join("media");
    std::fs::create_dir_all(&dir).map_err(|e| PipelineError::io(&dir, e))?;
    let files: Vec<(String, u64)> = iso
        .list()
        .iter()
        .filter(|e| !e.is_dir && !is_install_image(&e.path))
        .map(|e| (e.path.clone(), e.size))
        .collect();
    let total: u64 = files.iter().map(|(_, s)| s).sum();
    cx.info(format!(
        "Extracting the Setup media of {media_name} ({} files, {total} bytes) for ISO output",
        files.len()
    ));
    for (inner, _) in &files {
        cx.check_cancel()?;
        let dest = safe_join(&dir, inner).ok_or_else(|| {
            PipelineError::Permanent(format!(
                "create_iso: {media_name}: path {inner:?} leaves the media tree"
            ))
        })?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
        }
        copy_out(cx, &mut iso, media_name, inner, &dest)?;
    }
    Ok(MediaTree {
        dir,
        from: media_name.to_string(),
        label,
        winpe_drivers: None,
    })
}

/// Copy one file out of the ISO, checking for cancellation between chunks: an install
/// image is gigabytes, and a cancel must not wait for the whole copy.
fn copy_out(
    cx: &StageContext<'_>,
    iso: &mut IsoImage,
    iso_name: &str,
    inner: &str,
    dest: &Path,
) -> Result<(), PipelineError> {
    use std::io::{Read, Write};
    let failed = |e: &dyn std::fmt::Display| {
        PipelineError::Transient(format!("{iso_name}: extract {inner}: {e}"))
    };
    let mut reader = iso.open_file(inner).map_err(|e| failed(&e))?;
    let mut out = std::fs::File::create(dest).map_err(|e| PipelineError::io(dest, e))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        cx.check_cancel()?;
        let n = reader.read(&mut buf).map_err(|e| failed(&e))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])
            .map_err(|e| PipelineError::io(dest, e))?;
    }
    Ok(())
}

fn is_install_image(inner: &str) -> bool {
    let lower = inner.to_ascii_lowercase();
    let Some(name) = lower.strip_prefix("sources/") else {
        return false;
    };
    !name.contains('/')
        && name.starts_with("install")
        && [".wim", ".esd", ".swm"].iter().any(|e| name.ends_with(e))
}

/// `root/inner` when `inner` is a plain relative path (no `..`, no absolute part).
fn safe_join(root: &Path, inner: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for part in inner.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        out.push(part);
    }
    Some(out)
}

pub(super) fn exists_in_image(
    wim: &Wim<'_>,
    index: u32,
    path: &str,
) -> Result<bool, PipelineError> {
    match wim.for_each_file(index, path, |_| false) {
        Ok(()) => Ok(true),
        Err(wait_wim::WimError::PathNotInImage { .. }) => Ok(false),
        Err(e) => Err(PipelineError::wim(format!("look up {path}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_images_are_left_out_of_the_media_copy() {
        for (path, skip) in [
            ("sources/install.wim", true),
            ("sources/INSTALL.ESD", true),
            ("sources/install2.swm", true),
            ("sources/boot.wim", false),
            ("sources/sub/install.wim", false),
            ("install.wim", false),
        ] {
            assert_eq!(is_install_image(path), skip, "{path}");
        }
    }

    #[test]
    fn media_paths_cannot_leave_the_tree() {
        let root = Path::new("/m");
        assert_eq!(safe_join(root, "a/b"), Some(PathBuf::from("/m/a/b")));
        for bad in ["../x", "a/../../x", "/etc", "a//b", "a\\b"] {
            assert_eq!(safe_join(root, bad), None, "{bad}");
        }
    }
}
