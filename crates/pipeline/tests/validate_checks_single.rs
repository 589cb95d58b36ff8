//! The validation stage on a single-WIM output: one build from the generated repository,
//! then one kind of damage per case (made with independent tools where they exist:
//! wimlib-imagex, sha256sum), asserting exactly which checks fail; plus the two ways
//! validation itself stops with an error instead of a report.
#![allow(clippy::unwrap_used)]

mod common;
mod validate_checks_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use common::run;
use validate_checks_support::{
    ALL_SINGLE, detail, failing, fresh, manifest, names, record_wim, reseal, validate, wim_update,
    write_manifest,
};
use wait_pipeline::{PipelineError, validate_output};

#[test]
fn a_good_output_passes_every_check_by_name() {
    let tmp = fresh();
    let report = validate(tmp.path());
    assert!(report.passed(), "{report:#?}");
    let got: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(got, ALL_SINGLE);
    // The first-boot check found the driver folder the script hands to pnputil.
    assert!(
        !detail(&report, "first_boot").starts_with("0 path"),
        "{report:#?}"
    );
    // Independent tools agree the copy is intact.
    run(
        tmp.path(),
        "sha256sum",
        &["-c", "--quiet", "checksum.sha256"],
    );
    run(tmp.path(), "wimlib-imagex", &["verify", "install.wim"]);
}

/// The offset of a data blob no check reads through the image (a System32 file),
/// from `wimlib-imagex info --blobs`, and its compressed size.
fn data_blob(dir: &Path) -> (u64, u64) {
    let listing = run(
        dir,
        "wimlib-imagex",
        &["dir", "install.wim", "1", "--detailed"],
    );
    // Hashes of files under System32, which no check reads.
    let mut system32 = BTreeSet::new();
    let mut path = String::new();
    for line in listing.lines() {
        if let Some(p) = line.strip_prefix("Full Path") {
            path = p
                .trim_start_matches([' ', '='])
                .trim_matches('"')
                .to_string();
        }
        if let Some(h) = line.trim().strip_prefix("Hash") {
            let h = h.trim_start_matches([' ', '=']).trim().to_string();
            if path.starts_with("/Windows/System32/") && !path.ends_with("cmd.exe") {
                system32.insert(h);
            }
        }
    }
    assert!(!system32.is_empty(), "no System32 hashes in {listing}");
    let blobs = run(dir, "wimlib-imagex", &["info", "install.wim", "--blobs"]);
    let mut best: Option<(u64, u64)> = None;
    let (mut offset, mut size, mut hash, mut metadata) = (0u64, 0u64, String::new(), false);
    let mut finish = |offset: u64, size: u64, hash: &str, metadata: bool| {
        if !metadata && system32.contains(hash) && best.is_none_or(|(_, s)| size > s) {
            best = Some((offset, size));
        }
    };
    for line in blobs.lines().chain(std::iter::once("")) {
        let value = |l: &str| {
            l.split('=')
                .nth(1)
                .unwrap_or("")
                .trim()
                .trim_end_matches(" bytes")
                .to_string()
        };
        let l = line.trim();
        if l.is_empty() {
            if !hash.is_empty() {
                finish(offset, size, &hash, metadata);
            }
            (offset, size, hash, metadata) = (0, 0, String::new(), false);
        } else if l.starts_with("Offset in WIM") || l.starts_with("Offset") {
            offset = value(l).parse().unwrap_or(0);
        } else if l.starts_with("Stored size") || l.starts_with("Compressed size") {
            size = value(l).parse().unwrap_or(0);
        } else if l.starts_with("Hash") || l.starts_with("SHA-1") || l.starts_with("SHA1") {
            hash = value(l);
        } else if l.starts_with("Flags") && l.contains("METADATA") {
            metadata = true;
        }
    }
    best.unwrap_or_else(|| panic!("no System32 data blob in {blobs}"))
}

#[test]
fn a_flipped_byte_in_the_wim_fails_verify_and_the_checksums() {
    let tmp = fresh();
    let (offset, size) = data_blob(tmp.path());
    let path = tmp.path().join("install.wim");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = (offset + size / 2) as usize;
    bytes[at] ^= 0xFF;
    std::fs::write(&path, bytes).unwrap();
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["checksum.md5", "checksum.sha256", "wim_file", "wim_verify"]),
        "{report:#?}"
    );
    assert!(detail(&report, "checksum.sha256").contains("install.wim: digest does not match"));
}

#[test]
fn a_line_dropped_from_checksum_sha256_fails_that_list_only() {
    let tmp = fresh();
    let path = tmp.path().join("checksum.sha256");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.ends_with("manifest.txt"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, text, "manifest.txt was listed");
    std::fs::write(&path, kept).unwrap();
    let report = validate(tmp.path());
    assert_eq!(failing(&report), names(&["checksum.sha256"]), "{report:#?}");
    assert_eq!(
        detail(&report, "checksum.sha256"),
        "manifest.txt is in the folder but not listed"
    );
}

#[test]
fn a_stray_file_fails_both_checksum_lists() {
    let tmp = fresh();
    std::fs::write(tmp.path().join("notes.txt"), b"left behind").unwrap();
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["checksum.md5", "checksum.sha256"]),
        "{report:#?}"
    );
    assert!(detail(&report, "checksum.md5").contains("notes.txt is in the folder but not listed"));
}

#[test]
fn a_listed_file_that_is_gone_is_named() {
    let tmp = fresh();
    std::fs::remove_file(tmp.path().join("manifest.txt")).unwrap();
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["checksum.md5", "checksum.sha256"]),
        "{report:#?}"
    );
    assert_eq!(
        detail(&report, "checksum.md5"),
        "manifest.txt is listed but not in the folder"
    );
}

#[test]
fn a_replaced_answer_file_fails_sections_key_and_staged_sha1() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let other = work.path().join("unattend.xml");
    std::fs::write(
        &other,
        r#"<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="specialize">
    <component name="Microsoft-Windows-Shell-Setup"><ProductKey>AAAAA-BBBBB-CCCCC-DDDDD-EEEEE</ProductKey></component>
  </settings>
</unattend>
"#,
    )
    .unwrap();
    wim_update(
        tmp.path(),
        &format!("add '{}' /Windows/Panther/unattend.xml", other.display()),
    );
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&[
            "checksum.md5",
            "checksum.sha256",
            "wim_file",
            "staged_files",
            "content_digest",
            "answer_sections",
            "answer_key",
        ]),
        "{report:#?}"
    );
    let staged = detail(&report, "staged_files");
    assert!(
        staged.starts_with("/Windows/Panther/unattend.xml is ") && staged.contains("manifest says"),
        "{staged}"
    );
    assert!(detail(&report, "answer_sections").contains(
        "offlineServicing/Microsoft-Windows-PnpCustomizationsNonWinPE/DriverPaths is missing"
    ));
    assert!(detail(&report, "answer_key").contains("*****-*****-*****-*****-EEEEE"));
}

#[test]
fn an_answer_file_that_is_not_well_formed_is_reported_once() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let other = work.path().join("unattend.xml");
    std::fs::write(
        &other,
        "<unattend><settings pass=\"specialize\"></unattend>",
    )
    .unwrap();
    wim_update(
        tmp.path(),
        &format!("add '{}' /Windows/Panther/unattend.xml", other.display()),
    );
    let mut m = manifest(tmp.path());
    record_wim(tmp.path(), &mut m);
    m.outputs[0].content_digest =
        wait_pipeline::content_digest_of_file(&tmp.path().join("install.wim"), 1).unwrap();
    write_manifest(tmp.path(), &m);
    reseal(tmp.path());
    let report = validate(tmp.path());
    // Only the answer file itself and the SHA-1 the manifest recorded for it fail; the
    // section and key checks need a parsed file and are left out.
    assert_eq!(
        failing(&report),
        names(&["staged_files", "answer_file"]),
        "{report:#?}"
    );
    assert!(detail(&report, "answer_file").contains("not well-formed"));
    assert!(!report.checks.iter().any(|c| c.name == "answer_sections"));
}

#[test]
fn a_deleted_file_the_script_uses_is_listed_as_missing() {
    let tmp = fresh();
    wim_update(tmp.path(), "delete --recursive /WAIT/Drivers");
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&[
            "checksum.md5",
            "checksum.sha256",
            "wim_file",
            "staged_files",
            "content_digest",
            "first_boot",
        ]),
        "{report:#?}"
    );
    let d = detail(&report, "first_boot");
    assert!(
        d.contains(r"C:\WAIT\Drivers\*.inf (used by SetupComplete.cmd) is not in the image as /WAIT/Drivers"),
        "{d}"
    );
}

#[test]
fn a_wrong_content_digest_in_the_manifest_fails_that_check_only() {
    let tmp = fresh();
    let mut m = manifest(tmp.path());
    m.outputs[0].content_digest = "0".repeat(64);
    write_manifest(tmp.path(), &m);
    reseal(tmp.path());
    let report = validate(tmp.path());
    assert_eq!(failing(&report), names(&["content_digest"]), "{report:#?}");
    assert!(detail(&report, "content_digest").contains(&"0".repeat(64)));
}

#[test]
fn an_edited_manifest_without_new_checksums_fails_the_lists_too() {
    let tmp = fresh();
    let mut m = manifest(tmp.path());
    m.outputs[0].content_digest = "1".repeat(64);
    write_manifest(tmp.path(), &m);
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["checksum.md5", "checksum.sha256", "content_digest"]),
        "{report:#?}"
    );
}

#[test]
fn an_older_manifest_format_is_a_clear_failure() {
    let tmp = fresh();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("manifest.json")).unwrap())
            .unwrap();
    v.as_object_mut().unwrap().remove("format");
    std::fs::write(tmp.path().join("manifest.json"), v.to_string()).unwrap();
    reseal(tmp.path());
    let report = validate(tmp.path());
    assert_eq!(failing(&report), names(&["manifest"]), "{report:#?}");
    assert!(detail(&report, "manifest").contains("older WAIT (format 1"));
    // The checksum lists are still checked; nothing that needs the manifest is.
    let got: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(got, ["manifest", "checksum.md5", "checksum.sha256"]);

    v["format"] = serde_json::json!(3);
    std::fs::write(tmp.path().join("manifest.json"), v.to_string()).unwrap();
    reseal(tmp.path());
    let report = validate(tmp.path());
    assert!(detail(&report, "manifest").contains("format 3"));
}

#[test]
fn a_wrong_identity_and_a_missing_staged_file_are_both_listed() {
    let tmp = fresh();
    let mut m = manifest(tmp.path());
    m.base_image.edition = Some("Professional".into());
    m.base_image.arch = Some("arm64".into());
    m.staged_files[0].image_path = "/WAIT/Nowhere.inf".into();
    write_manifest(tmp.path(), &m);
    reseal(tmp.path());
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["image_identity", "staged_files"]),
        "{report:#?}"
    );
    let d = detail(&report, "image_identity");
    assert!(
        d.contains("manifest says Professional") && d.contains("manifest says arm64"),
        "{d}"
    );
    assert!(detail(&report, "staged_files").contains("/WAIT/Nowhere.inf is missing"));
}

#[test]
fn several_outputs_prefix_their_checks_with_the_variant() {
    let tmp = fresh();
    let mut m = manifest(tmp.path());
    let mut keyed = m.outputs[0].clone();
    keyed.variant = "key".into();
    keyed.product_key = Some("*****-*****-*****-*****-3V66T".into());
    m.outputs[0].variant = "nokey".into();
    m.outputs.push(keyed);
    write_manifest(tmp.path(), &m);
    reseal(tmp.path());
    let report = validate(tmp.path());
    assert_eq!(failing(&report), names(&["key/answer_key"]), "{report:#?}");
    for variant in ["key", "nokey"] {
        for check in &ALL_SINGLE[3..] {
            let name = format!("{variant}/{check}");
            assert!(
                report.checks.iter().any(|c| c.name == name),
                "{name} missing"
            );
        }
    }
    assert_eq!(
        detail(&report, "key/answer_key"),
        "no ProductKey, the manifest records a key"
    );
}

#[test]
fn a_cancelled_validation_is_an_error_not_a_report() {
    let tmp = fresh();
    let err = validate_output(tmp.path(), Arc::new(AtomicBool::new(true))).unwrap_err();
    assert!(matches!(err, PipelineError::Cancelled), "{err}");
}

#[test]
fn a_missing_folder_cannot_be_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let err =
        validate_output(&tmp.path().join("gone"), Arc::new(AtomicBool::new(false))).unwrap_err();
    assert!(err.to_string().contains("gone"), "{err}");
}
