//! `Winre.wim` extracted to a temporary file and opened.

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use wait_wim::{FileEntry, Wim};

use super::error::WinreError;
use super::io;
use super::report::{WimCompression, WinreImage, WinreReport, WinreWim, not_done};

/// The extracted file and what was learnt from it.
pub(crate) struct ExtractedWinre {
    path_in_image: String,
    file: PathBuf,
    size: u64,
    sha1: String,
    wim: WinreWim,
}

impl ExtractedWinre {
    /// Extract `entry` of `image` into `dir` and read it as a WIM.
    pub fn extract(
        outer: &Wim<'_>,
        image: u32,
        entry: &FileEntry,
        dir: &Path,
    ) -> Result<Self, WinreError> {
        let file = outer
            .extract_file(image, &entry.path, dir)
            .map_err(|source| WinreError::OuterWim {
                image,
                action: "extracting Winre.wim",
                source,
            })?;
        let size = std::fs::metadata(&file).map_err(|e| io(&file, e))?.len();
        // libwim's own hash when it has one; hashing the copy otherwise.
        let sha1 = if entry.sha1 != [0u8; 20] || size == 0 {
            hex::encode(entry.sha1)
        } else {
            sha1_of_file(&file)?
        };
        let invalid = |source| WinreError::InvalidWinre {
            path: entry.path.clone(),
            image,
            source,
        };
        let inner = Wim::open(&file).map_err(invalid)?;
        let info = inner.info();
        let images = (1..=info.image_count)
            .map(|i| inner.image_info(i).map(to_winre_image))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        Ok(ExtractedWinre {
            path_in_image: entry.path.clone(),
            file,
            size,
            sha1,
            wim: WinreWim {
                image_count: info.image_count,
                boot_index: info.boot_index,
                compression: info.compression.into(),
                chunk_size: info.chunk_size,
                images,
            },
        })
    }

    pub fn compression(&self) -> WimCompression {
        self.wim.compression
    }

    /// The file name as spelled in the image ("Winre.wim").
    pub fn file_name(&self) -> String {
        self.file.file_name().map_or_else(
            || "Winre.wim".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Open the extracted copy again (for rewriting).
    pub fn open(&self) -> Result<Wim<'static>, wait_wim::WimError> {
        Wim::open(&self.file)
    }

    /// Delete the extracted copy (best effort: its temporary directory goes anyway).
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.file);
    }

    pub fn report(&self, image: u32) -> WinreReport {
        let build = self.wim.images.first().and_then(|i| i.build);
        WinreReport {
            image,
            present: true,
            path: Some(self.path_in_image.clone()),
            size: Some(self.size),
            sha1: Some(self.sha1.clone()),
            wim: Some(self.wim.clone()),
            recompression: None,
            not_done: not_done(build),
            notes: Vec::new(),
        }
    }
}

fn to_winre_image(info: wait_wim::ImageInfo) -> WinreImage {
    WinreImage {
        index: info.index,
        name: info.name,
        build: info.version.map(|v| v.2),
        version: info.version.map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        arch: info.arch,
        languages: info.languages,
        default_language: info.default_language,
        installation_type: info.installation_type,
    }
}

/// SHA-1 of a file as lower-case hex.
pub(crate) fn sha1_of_file(path: &Path) -> Result<String, WinreError> {
    let mut file = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let mut hasher = Sha1::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| io(path, e))?;
    Ok(hex::encode(hasher.finalize()))
}
