//! What the bundle download (`…/download`) holds: the WIM of every variant, their ISOs
//! when asked, and the folder's checksum and manifest files, all under one top folder
//! named like the output folder, so unpacking gives the folder back and `md5sum -c`
//! works inside it.

use std::path::PathBuf;

use super::OutputError;
use super::manifest::{CHECKSUM_MD5, CHECKSUM_SHA256, MANIFEST_JSON, MANIFEST_TXT, ManifestView};
use super::names::OutputFolder;
use super::zip::{ZipEntry, ZipPlan};

/// The files of a bundle, as (name in the folder, real path), in archive order.
#[derive(Debug, Clone)]
pub struct BundleFiles {
    /// Top folder inside the archive (the output folder's name).
    pub top: String,
    pub files: Vec<(String, PathBuf)>,
}

impl BundleFiles {
    /// Resolve the bundle's files. Every image (and ISO, with `include_iso`) the
    /// manifest names must be there; the checksum and manifest files go in when they
    /// exist.
    pub fn resolve(
        folder: &OutputFolder,
        manifest: &ManifestView,
        include_iso: bool,
    ) -> Result<Self, OutputError> {
        let mut names: Vec<&str> = Vec::new();
        for v in manifest.variants() {
            names.push(&v.image_file);
            if include_iso {
                names.extend(v.iso.as_ref().map(|iso| iso.file.as_str()));
            }
        }
        let mut files = Vec::new();
        for name in names {
            if !files.iter().any(|(n, _)| n == name) {
                files.push((name.to_string(), folder.file(name)?));
            }
        }
        for name in [CHECKSUM_MD5, CHECKSUM_SHA256, MANIFEST_JSON, MANIFEST_TXT] {
            match folder.file(name) {
                Ok(path) => files.push((name.to_string(), path)),
                Err(OutputError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(BundleFiles {
            top: folder.folder.to_string(),
            files,
        })
    }

    /// Open every file and lay out the archive. Sizes are taken from the opened files,
    /// so the planned length is the length of what will be streamed.
    pub async fn open(self) -> Result<ZipPlan, OutputError> {
        let mut entries = Vec::with_capacity(self.files.len());
        for (name, path) in self.files {
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| OutputError::io(&path, e))?;
            let meta = file
                .metadata()
                .await
                .map_err(|e| OutputError::io(&path, e))?;
            let modified = meta.modified().map_err(|e| OutputError::io(&path, e))?;
            entries.push(ZipEntry {
                name: format!("{}/{name}", self.top),
                file,
                size: meta.len(),
                modified,
            });
        }
        // Names are plain components of at most 255 bytes each, so they always fit.
        ZipPlan::new(entries).map_err(|e| {
            OutputError::io(
                PathBuf::from(&self.top),
                std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
            )
        })
    }
}
