//! Identity of an ISO base image: the install image inside it is located with the ISO
//! reader and only its WIM header and XML are streamed out (see `wim_xml`); nothing is
//! extracted to disk.

use std::path::Path;

use serde::Serialize;
use wait_media::IsoImage;
use wait_media::iso::{Filesystem, InstallImage};

use super::wim_xml;
use crate::ImageIdentity;

/// What an ISO carries as its install image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IsoInstall {
    /// Volume label.
    pub label: String,
    /// "UDF 1.02", "ISO 9660 (Joliet)", …
    pub filesystem: String,
    /// "wim", "esd" or "swm".
    pub format: String,
    /// Path(s) of the install image inside the ISO (several for a split set).
    pub install_image: Vec<String>,
    /// Total size of those files.
    pub install_size: u64,
}

fn filesystem_name(fs: Filesystem) -> String {
    match fs {
        Filesystem::Udf { revision } => {
            format!("UDF {}.{:02x}", revision >> 8, revision & 0xFF)
        }
        Filesystem::Iso9660 { joliet: true } => "ISO 9660 (Joliet)".into(),
        Filesystem::Iso9660 { joliet: false } => "ISO 9660".into(),
    }
}

/// The install image of the ISO at `path` and the identities of its images. Problems
/// come back as sentences (the install image may be found but its XML not read).
pub(crate) fn read(path: &Path) -> (Option<IsoInstall>, Vec<ImageIdentity>, Vec<String>) {
    let mut problems = Vec::new();
    let mut iso = match IsoImage::open(path) {
        Ok(iso) => iso,
        Err(e) => {
            problems.push(e.to_string());
            return (None, Vec::new(), problems);
        }
    };
    let (format, entries) = match iso.find_install_image() {
        Ok(InstallImage::Wim(e)) => ("wim", vec![e]),
        Ok(InstallImage::Esd(e)) => ("esd", vec![e]),
        Ok(InstallImage::Split(parts)) => ("swm", parts),
        Err(e) => {
            problems.push(e.to_string());
            return (None, Vec::new(), problems);
        }
    };
    let install = IsoInstall {
        label: iso.volume_label().to_string(),
        filesystem: filesystem_name(iso.filesystem()),
        format: format.to_string(),
        install_image: entries.iter().map(|e| e.path.clone()).collect(),
        install_size: entries.iter().map(|e| e.size).sum(),
    };
    // Every part of a split set carries the XML; the first is enough.
    let mut images = Vec::new();
    if let Some(first) = entries.first() {
        match iso.open_file(&first.path) {
            Ok(mut file) => match wim_xml::identities(&mut file) {
                Ok(found) => images = found,
                Err(e) => problems.push(format!("{}: {e}", first.path)),
            },
            Err(e) => problems.push(e.to_string()),
        }
    }
    (Some(install), images, problems)
}
