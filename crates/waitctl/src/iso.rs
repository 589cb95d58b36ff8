//! `waitctl iso …`: read Windows install media without mounting them.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use wait_media::IsoImage;
use wait_media::iso::{Filesystem, InstallImage};

#[derive(Debug, Serialize)]
struct Listing<'a> {
    file: String,
    filesystem: String,
    volume_label: &'a str,
    install_image: Option<Vec<&'a str>>,
    entries: Vec<EntryJson<'a>>,
}

#[derive(Debug, Serialize)]
struct EntryJson<'a> {
    path: &'a str,
    size: u64,
    is_dir: bool,
}

fn filesystem_name(fs: Filesystem) -> String {
    match fs {
        Filesystem::Udf { revision } => format!("UDF {}.{:02x}", revision >> 8, revision & 0xff),
        Filesystem::Iso9660 { joliet: true } => "ISO 9660 + Joliet".to_string(),
        Filesystem::Iso9660 { joliet: false } => "ISO 9660".to_string(),
    }
}

/// `waitctl iso ls ISO [--json]`
pub fn ls(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let iso = IsoImage::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let install = iso.find_install_image().ok();
    let install_paths = install.as_ref().map(|i| match i {
        InstallImage::Wim(e) | InstallImage::Esd(e) => vec![e.path.as_str()],
        InstallImage::Split(parts) => parts.iter().map(|e| e.path.as_str()).collect(),
    });
    if json {
        let listing = Listing {
            file: file.display().to_string(),
            filesystem: filesystem_name(iso.filesystem()),
            volume_label: iso.volume_label(),
            install_image: install_paths,
            entries: iso
                .list()
                .iter()
                .map(|e| EntryJson {
                    path: &e.path,
                    size: e.size,
                    is_dir: e.is_dir,
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&listing)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "# {} ({}, label {:?})",
        file.display(),
        filesystem_name(iso.filesystem()),
        iso.volume_label()
    );
    match &install_paths {
        Some(paths) => println!("# install image: {}", paths.join(", ")),
        None => println!("# install image: none"),
    }
    for e in iso.list() {
        let kind = if e.is_dir { 'd' } else { '-' };
        println!("{kind} {:>14} {}", e.size, e.path);
    }
    Ok(ExitCode::SUCCESS)
}

/// `waitctl iso extract ISO PATH -o DEST`. DEST is a directory (existing, or with a
/// trailing '/') or the file to create.
pub fn extract(file: &Path, path: &str, dest: &Path) -> anyhow::Result<ExitCode> {
    let mut iso =
        IsoImage::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let entry = iso
        .find(path)
        .cloned()
        .with_context(|| format!("{}: {path} not found", file.display()))?;
    let as_dir = dest.is_dir() || dest.as_os_str().to_string_lossy().ends_with('/');
    let target = if as_dir {
        std::fs::create_dir_all(dest)
            .with_context(|| format!("cannot create {}", dest.display()))?;
        dest.join(entry.name())
    } else {
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        dest.to_path_buf()
    };
    // Write under a hidden name and rename, so a failed copy leaves no partial file.
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let partial = tempfile::Builder::new()
        .prefix(".waitctl-iso-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let bytes = iso
        .extract(&entry.path, partial.path())
        .with_context(|| format!("{}: {path}", file.display()))?;
    partial
        .persist(&target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    println!("{} ({bytes} bytes)", target.display());
    Ok(ExitCode::SUCCESS)
}
