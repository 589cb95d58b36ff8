//! The ISO checks of one output: `iso_file` (present, listed, as recorded),
//! `iso_open`, `iso_boot` (a bootable BIOS and UEFI El Torito entry, each loading the
//! boot image the manifest names), `iso_install_image` (the same bytes as the output
//! WIM), `iso_autounattend` and `iso_autounattend_sections`.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use wait_media::IsoImage;
use wait_media::iso::eltorito::{BootEntry, ElTorito, PLATFORM_BIOS, PLATFORM_UEFI, platform_name};

use super::Scope;
use super::answer::{missing_sections, parse_answer_file};
use super::sums::Sums;
use crate::{ManifestIso, ManifestOutput, PipelineError};

/// How much of a boot image is compared with the file the manifest names: enough to
/// tell two boot images apart without reading a large one whole.
const BOOT_COMPARE_BYTES: u64 = 64 * 1024;
/// Largest `autounattend.xml` read.
const MAX_ANSWER_BYTES: u64 = 16 << 20;
const CHUNK: usize = 1 << 20;

pub(super) fn check_iso(
    dir: &Path,
    output: &ManifestOutput,
    iso: &ManifestIso,
    sums: &Sums,
    cancel: &AtomicBool,
    scope: &mut Scope<'_>,
) -> Result<(), PipelineError> {
    let listed = sums.file_check(&iso.file, iso.size, &iso.md5, &iso.sha256);
    scope.push_all(
        "iso_file",
        &listed,
        format!("{} matches the manifest", iso.file),
    );
    if !super::plain_name(&iso.file) {
        return Ok(());
    }
    let path = dir.join(&iso.file);
    let mut image = match IsoImage::open(&path) {
        Ok(i) => i,
        Err(e) => {
            scope.push("iso_open", false, e.to_string());
            return Ok(());
        }
    };
    boot(&path, &mut image, iso, scope);
    install_image(&mut image, output, iso, sums, cancel, scope)?;
    autounattend(&mut image, iso, scope);
    Ok(())
}

/// `iso_boot`.
fn boot(path: &Path, image: &mut IsoImage, iso: &ManifestIso, scope: &mut Scope<'_>) {
    let catalog = match ElTorito::read(path) {
        Ok(Some(c)) => c,
        Ok(None) => {
            scope.push(
                "iso_boot",
                false,
                format!("{}: no El Torito boot record", iso.file),
            );
            return;
        }
        Err(e) => {
            scope.push("iso_boot", false, e.to_string());
            return;
        }
    };
    let mut problems = Vec::new();
    for (platform, named) in [
        (PLATFORM_BIOS, &iso.bios_boot),
        (PLATFORM_UEFI, &iso.uefi_boot),
    ] {
        let name = platform_name(platform);
        match catalog.bootable(platform) {
            None => problems.push(format!("no bootable {name} entry in the boot catalog")),
            Some(entry) => {
                if let Err(e) = loads_file(path, image, entry, named) {
                    problems.push(format!("{name} entry: {e}"));
                }
            }
        }
    }
    scope.push_all(
        "iso_boot",
        &problems,
        format!(
            "bootable BIOS entry loads {} and UEFI entry loads {}",
            iso.bios_boot, iso.uefi_boot
        ),
    );
}

/// Whether the bytes an entry loads begin like the file `named` inside the ISO.
fn loads_file(
    path: &Path,
    image: &mut IsoImage,
    entry: &BootEntry,
    named: &str,
) -> Result<(), String> {
    let mut file = image.open_file(named).map_err(|e| e.to_string())?;
    let declared = if entry.sector_count == 0 {
        u64::MAX
    } else {
        entry.load_bytes()
    };
    let n = file.len().min(declared).min(BOOT_COMPARE_BYTES);
    if n == 0 {
        return Err(format!("{named} is empty"));
    }
    let mut want = vec![0u8; n as usize];
    file.read_exact(&mut want)
        .map_err(|e| format!("{named}: {e}"))?;
    let mut have = vec![0u8; n as usize];
    let mut raw = std::fs::File::open(path).map_err(|e| e.to_string())?;
    raw.seek(SeekFrom::Start(entry.offset()))
        .and_then(|_| raw.read_exact(&mut have))
        .map_err(|e| format!("boot image at sector {}: {e}", entry.load_rba))?;
    if have == want {
        Ok(())
    } else {
        Err(format!(
            "the image at sector {} is not {named}",
            entry.load_rba
        ))
    }
}

/// `iso_install_image`: one install file has the output WIM's SHA-256; a split set
/// (which cannot be compared byte for byte) has the output's content digest.
fn install_image(
    image: &mut IsoImage,
    output: &ManifestOutput,
    iso: &ManifestIso,
    sums: &Sums,
    cancel: &AtomicBool,
    scope: &mut Scope<'_>,
) -> Result<(), PipelineError> {
    let result = match iso.install_files.as_slice() {
        [] => Err("the manifest lists no install image for the ISO".to_string()),
        [one] => {
            let want = sums
                .digest(&output.image_file)
                .map_or(output.sha256.as_str(), |d| d.sha256.as_str());
            match sha256_in_iso(image, one, cancel)? {
                Ok(have) if have.eq_ignore_ascii_case(want) => {
                    Ok(format!("{one} has the SHA-256 of {}", output.image_file))
                }
                Ok(have) => Err(format!(
                    "{one} has SHA-256 {have}, {} has {want}",
                    output.image_file
                )),
                Err(e) => Err(e),
            }
        }
        parts => split_digest(image, parts, cancel)?.and_then(|have| {
            if have.eq_ignore_ascii_case(&output.content_digest) {
                Ok(format!(
                    "the {} parts hold the content of {}",
                    parts.len(),
                    output.image_file
                ))
            } else {
                Err(format!(
                    "the split image's content digest is {have}, {} has {}",
                    output.image_file, output.content_digest
                ))
            }
        }),
    };
    match result {
        Ok(detail) => scope.push("iso_install_image", true, detail),
        Err(e) => scope.push("iso_install_image", false, e),
    }
    Ok(())
}

/// Stream one file of the ISO through SHA-256. The outer `Err` is a cancel.
fn sha256_in_iso(
    image: &mut IsoImage,
    path: &str,
    cancel: &AtomicBool,
) -> Result<Result<String, String>, PipelineError> {
    let mut file = match image.open_file(path) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(PipelineError::Cancelled);
        }
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Ok(Err(format!("{path}: {e}"))),
        }
    }
    Ok(Ok(hex::encode(h.finalize())))
}

/// Copy the parts of a split install image out of the ISO (libwim reads split sets
/// from files) and take the content digest of the set.
fn split_digest(
    image: &mut IsoImage,
    parts: &[String],
    cancel: &AtomicBool,
) -> Result<Result<String, String>, PipelineError> {
    let scratch = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return Ok(Err(format!("scratch folder for the split image: {e}"))),
    };
    let mut first = None;
    for part in parts {
        if cancel.load(Ordering::Relaxed) {
            return Err(PipelineError::Cancelled);
        }
        let name = part.rsplit(['/', '\\']).next().unwrap_or(part);
        let dest = scratch.path().join(name);
        if let Err(e) = copy_part(image, part, &dest, cancel)? {
            return Ok(Err(e));
        }
        first.get_or_insert(dest);
    }
    let Some(first) = first else {
        return Ok(Err("no parts".to_string()));
    };
    let wim = match wait_wim::Wim::open_split(&first) {
        Ok(w) => w,
        Err(e) => return Ok(Err(format!("split image: {e}"))),
    };
    match crate::content_digest(&wim, super::wim::IMAGE) {
        Ok(d) => Ok(Ok(d)),
        Err(PipelineError::Cancelled) => Err(PipelineError::Cancelled),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// Copy one part of a split image out of the ISO a MiB at a time: a part is up to
/// 4 GB, and a cancel must not wait for all of it. The outer `Err` is a cancel.
fn copy_part(
    image: &mut IsoImage,
    part: &str,
    dest: &Path,
    cancel: &AtomicBool,
) -> Result<Result<(), String>, PipelineError> {
    use std::io::Write;
    let mut file = match image.open_file(part) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut out = match std::fs::File::create(dest) {
        Ok(f) => f,
        Err(e) => return Ok(Err(format!("{}: {e}", dest.display()))),
    };
    let mut buf = vec![0u8; CHUNK];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(PipelineError::Cancelled);
        }
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(Ok(())),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Ok(Err(format!("{part}: {e}"))),
        };
        if let Err(e) = out.write_all(&buf[..n]) {
            return Ok(Err(format!("{}: {e}", dest.display())));
        }
    }
}

/// `iso_autounattend` and `iso_autounattend_sections`.
fn autounattend(image: &mut IsoImage, iso: &ManifestIso, scope: &mut Scope<'_>) {
    const NAME: &str = "autounattend.xml";
    let present = image.find(NAME).is_some_and(|e| !e.is_dir);
    let Some(want) = &iso.autounattend_sha256 else {
        if present {
            scope.push(
                "iso_autounattend",
                false,
                format!("{NAME} is at the media root but the manifest records none"),
            );
        } else {
            scope.push("iso_autounattend", true, format!("no {NAME}, as recorded"));
        }
        return;
    };
    let bytes = match read_small(image, NAME) {
        Ok(b) => b,
        Err(e) => {
            scope.push("iso_autounattend", false, e);
            return;
        }
    };
    let have = hex::encode(Sha256::digest(&bytes));
    let mut problems = Vec::new();
    if !have.eq_ignore_ascii_case(want) {
        problems.push(format!(
            "{NAME} has SHA-256 {have}, the manifest records {want}"
        ));
    }
    let root = match parse_answer_file(&bytes) {
        Ok(r) => Some(r),
        Err(e) => {
            problems.push(format!("{NAME}: {e}"));
            None
        }
    };
    scope.push_all(
        "iso_autounattend",
        &problems,
        format!("{NAME} is well-formed and as recorded"),
    );
    if let Some(root) = root {
        let missing = missing_sections(&root, &iso.autounattend_sections);
        scope.push_all(
            "iso_autounattend_sections",
            &missing,
            format!(
                "all {} planned section(s) present",
                iso.autounattend_sections.len()
            ),
        );
    }
}

fn read_small(image: &mut IsoImage, path: &str) -> Result<Vec<u8>, String> {
    let file = image.open_file(path).map_err(|e| e.to_string())?;
    if file.len() > MAX_ANSWER_BYTES {
        return Err(format!(
            "{path} is {} bytes, more than an answer file has",
            file.len()
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_ANSWER_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{path}: {e}"))?;
    Ok(bytes)
}
