//! WinRE (`Windows/System32/Recovery/Winre.wim`) inside an install image: report what
//! it is and, optionally, recompress it in place.
//!
//! Servicing WinRE (language packs, optional components, cleanup, updates) is
//! DISM-only; the report lists that under `not_done` instead of pretending.

mod error;
mod inner;
mod locate;
mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tempfile::TempDir;
use wait_wim::{Compression, ImageSelector, UpdateCommand, Wim, WriteOptions};

pub use error::WinreError;
pub use report::{
    WINRE_PATH, WimCompression, WinreImage, WinreRecompression, WinreReport, WinreWim,
};

use inner::{ExtractedWinre, sha1_of_file};
use locate::find_winre;

/// Report on the WinRE of `image` in `wim`. `work_dir` receives a temporary copy of
/// `Winre.wim` (hundreds of MB on real images) that is removed before returning.
pub fn inspect_winre(
    wim: &Wim<'_>,
    image: u32,
    work_dir: &Path,
) -> Result<WinreReport, WinreError> {
    let Some(entry) = find_winre(wim, image)? else {
        return Ok(WinreReport::absent(image));
    };
    let staged = temp_dir(work_dir)?;
    let found = ExtractedWinre::extract(wim, image, &entry, staged.path())?;
    Ok(found.report(image))
}

/// A recompressed `Winre.wim` that has been put back into the image.
///
/// The image now refers to a temporary file that libwim reads when the install WIM
/// is written: keep this value alive until `Wim::write`/`overwrite` has returned.
#[derive(Debug)]
#[must_use = "the new Winre.wim lives in a temporary file owned by this value; keep it until the install WIM is written"]
pub struct RecompressedWinre {
    pub report: WinreReport,
    staged: Option<TempDir>,
}

impl RecompressedWinre {
    /// The temporary file the image now takes `Winre.wim` from, if one was made.
    pub fn staged_file(&self) -> Option<PathBuf> {
        let dir = self.staged.as_ref()?;
        let name = self.report.path.as_deref()?.rsplit('/').next()?;
        Some(dir.path().join("new").join(name))
    }
}

/// Rewrite the WinRE of `image` with `compression` and replace it in the image (an
/// `Add` update over the same path). An image without WinRE is reported as such and
/// left unchanged.
pub fn recompress_winre(
    wim: &mut Wim<'_>,
    image: u32,
    compression: Compression,
    work_dir: &Path,
) -> Result<RecompressedWinre, WinreError> {
    recompress_winre_until(wim, image, compression, work_dir, &Arc::default())
}

/// [`recompress_winre`] that can be stopped: once `cancel` is set, the rewrite of
/// `Winre.wim` (the long part: hundreds of MB compressed again) ends with a
/// `Recompress` error whose source is `WimError::Aborted`, and the image is left as
/// it was.
pub fn recompress_winre_until(
    wim: &mut Wim<'_>,
    image: u32,
    compression: Compression,
    work_dir: &Path,
    cancel: &Arc<AtomicBool>,
) -> Result<RecompressedWinre, WinreError> {
    let Some(entry) = find_winre(wim, image)? else {
        return Ok(RecompressedWinre {
            report: WinreReport::absent(image),
            staged: None,
        });
    };
    let staged = temp_dir(work_dir)?;
    let found = ExtractedWinre::extract(wim, image, &entry, staged.path())?;
    let mut report = found.report(image);
    let from = found.compression();

    let new_dir = staged.path().join("new");
    std::fs::create_dir(&new_dir).map_err(|e| io(&new_dir, e))?;
    let new_file = new_dir.join(found.file_name());
    let recompress_err = |source| WinreError::Recompress {
        path: entry.path.clone(),
        source,
    };
    {
        let mut inner = found.open().map_err(recompress_err)?;
        inner.abort_when_set(cancel);
        let opts = WriteOptions {
            compression: Some(compression),
            recompress: true,
            ..WriteOptions::default()
        };
        inner
            .write(&new_file, ImageSelector::All, &opts)
            .map_err(recompress_err)?;
    }
    // The extracted original is no longer needed; free the space now.
    found.remove();
    let new_size = std::fs::metadata(&new_file)
        .map_err(|e| io(&new_file, e))?
        .len();
    let new_sha1 = sha1_of_file(&new_file)?;

    wim.update_image(
        image,
        &[UpdateCommand::Add {
            source: new_file.clone(),
            target: entry.path.clone(),
        }],
    )
    .map_err(|source| WinreError::OuterWim {
        image,
        action: "replacing Winre.wim",
        source,
    })?;

    report.recompression = Some(WinreRecompression {
        from,
        to: compression.into(),
        old_size: entry.size,
        new_size,
        new_sha1,
    });
    report
        .notes
        .extend(recompress_notes(compression, &entry, wim, image));
    Ok(RecompressedWinre {
        report,
        staged: Some(staged),
    })
}

/// Caveats worth recording next to a recompression.
fn recompress_notes(
    compression: Compression,
    old: &wait_wim::FileEntry,
    wim: &Wim<'_>,
    image: u32,
) -> Vec<String> {
    let mut notes = Vec::new();
    if compression != Compression::Lzx {
        notes.push(
            "Microsoft ships Winre.wim LZX-compressed; the boot loader's support for other \
             compression types was not verified here"
                .to_owned(),
        );
    }
    // The replacement comes from a Linux file, so Windows attributes are not carried
    // over; say so when they differ.
    if let Ok(Some(new)) = locate::find_winre(wim, image) {
        if new.attributes != old.attributes {
            notes.push(format!(
                "Winre.wim file attributes changed from {:#x} to {:#x} (the replacement has \
                 no Windows attributes or security descriptor of its own)",
                old.attributes, new.attributes
            ));
        }
    }
    notes
}

fn temp_dir(work_dir: &Path) -> Result<TempDir, WinreError> {
    tempfile::Builder::new()
        .prefix(".winre.")
        .tempdir_in(work_dir)
        .map_err(|e| io(work_dir, e))
}

pub(crate) fn io(path: &Path, source: std::io::Error) -> WinreError {
    WinreError::Io {
        path: path.to_path_buf(),
        source,
    }
}
