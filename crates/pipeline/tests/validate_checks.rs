//! The validation stage on real outputs: one build from the generated repository, then
//! one kind of damage per case (made with independent tools where they exist:
//! wimlib-imagex, genisoimage), asserting exactly which checks fail.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use common::{Env, run};
use wait_catalog::fixtures::TreeSpec;
use wait_media::author::{AuthorOptions, AuthorRequest, InstallImage, author_iso};
use wait_pipeline::{
    Manifest, ManifestIso, PipelineError, PlannedSection, ValidationReport, digest_file,
    validate_output, write_checksum_files,
};
use wait_store::JobStatus;

/// One good output folder, built once per test run; each case works on a copy.
fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("validate_checks_output");
        let _ = std::fs::remove_dir_all(&keep);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let env = Env::new(TreeSpec::small(41)).await;
            let job = env
                .store
                .create_job(&env.request(), Some("tester"))
                .await
                .expect("create job");
            env.worker().run_until_idle().await.expect("run the job");
            let job = env
                .store
                .get_job(job.job_id)
                .await
                .expect("get job")
                .expect("job exists");
            assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
            let dir = env.output(job.output_dir.as_deref().expect("output dir"));
            copy_folder(&dir, &keep);
        });
        keep
    })
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read output folder") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy file");
    }
}

/// A private copy of the good output.
fn fresh() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_folder(built(), tmp.path());
    tmp
}

fn validate(dir: &Path) -> ValidationReport {
    validate_output(dir, Arc::new(AtomicBool::new(false))).expect("validation runs")
}

fn failing(report: &ValidationReport) -> BTreeSet<String> {
    report.failures().iter().map(|c| c.name.clone()).collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn detail<'a>(report: &'a ValidationReport, name: &str) -> &'a str {
    &report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#?}"))
        .detail
}

fn manifest(dir: &Path) -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("read"))
        .expect("manifest parses")
}

fn write_manifest(dir: &Path, m: &Manifest) {
    std::fs::write(dir.join("manifest.json"), m.to_json()).expect("write manifest");
}

/// Rewrite both checksum files for what the folder holds now, so a case damages one
/// thing only.
fn reseal(dir: &Path) {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name == "checksum.md5" || name == "checksum.sha256" {
            continue;
        }
        let d = digest_file(&dir.join(&name), |_| true).expect("digest");
        files.push((name, d));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    write_checksum_files(dir, &files).expect("write checksum files");
}

/// Record the WIM's current size and digests in the manifest after it was changed.
fn record_wim(dir: &Path, m: &mut Manifest) {
    let d = digest_file(&dir.join(&m.outputs[0].image_file), |_| true).expect("digest");
    m.outputs[0].size = d.size;
    m.outputs[0].md5 = d.md5;
    m.outputs[0].sha256 = d.sha256;
}

/// `wimlib-imagex update` with one command line on standard input.
fn wim_update(dir: &Path, command: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("wimlib-imagex")
        .args(["update", "install.wim", "1"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run wimlib-imagex");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{command}\n").as_bytes())
        .expect("write command");
    assert!(child.wait().expect("wait").success(), "update {command}");
}

const ALL_SINGLE: &[&str] = &[
    "manifest",
    "checksum.md5",
    "checksum.sha256",
    "wim_file",
    "wim_verify",
    "image_count",
    "image_identity",
    "staged_files",
    "content_digest",
    "answer_file",
    "answer_sections",
    "answer_key",
    "first_boot",
];

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

// ---- ISO outputs, on hand-built folders ----

/// A tiny install-media tree: boot images, a setup stub, a `sources` folder.
fn media_tree(root: &Path) {
    let write = |rel: &str, bytes: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    let mut etfs = vec![0x90u8; 4096];
    etfs[510] = 0x55;
    etfs[511] = 0xAA;
    write("boot/etfsboot.com", &etfs);
    let mut efisys = vec![0u8; 1_474_560];
    efisys[..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    efisys[3..11].copy_from_slice(b"MSDOS5.0");
    write("efi/microsoft/boot/efisys.bin", &efisys);
    write("sources/boot.wim", b"not a real boot image");
    write("setup.exe", b"MZ");
}

const AUTOUNATTEND: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="windowsPE">
    <component name="Microsoft-Windows-PnpCustomizationsWinPE"><DriverPaths/></component>
    <component name="Microsoft-Windows-Setup"><UserData><AcceptEula>true</AcceptEula></UserData></component>
  </settings>
</unattend>
"#;

fn autounattend_sections() -> Vec<PlannedSection> {
    vec![
        PlannedSection {
            pass: "windowsPE".into(),
            component: "Microsoft-Windows-PnpCustomizationsWinPE".into(),
            element: "DriverPaths".into(),
        },
        PlannedSection {
            pass: "windowsPE".into(),
            component: "Microsoft-Windows-Setup".into(),
            element: "UserData".into(),
        },
    ]
}

/// Author `install.iso` into the output folder with `author_iso`, using `wim` as the
/// install image and `answer` as autounattend.xml.
fn author(work: &Path, dir: &Path, wim: &Path, answer: &str, options: AuthorOptions) {
    let tree = work.join("media");
    if !tree.exists() {
        media_tree(&tree);
    }
    let answer_path = work.join("autounattend.xml");
    std::fs::write(&answer_path, answer).unwrap();
    let request = AuthorRequest {
        source_tree: tree,
        boot_files_from: None,
        install_image: InstallImage::Single(wim.to_path_buf()),
        autounattend: Some(answer_path),
        label: "WAIT_TEST".into(),
        output: dir.join("install.iso"),
        options,
    };
    let outcome = author_iso(&request, &mut |_| {}, &Arc::new(AtomicBool::new(false)))
        .expect("author the ISO");
    assert!(outcome.answer_file);
}

/// Record the ISO in the manifest as the build would, and reseal the folder.
fn attach_iso(dir: &Path, install_files: Vec<String>) {
    let d = digest_file(&dir.join("install.iso"), |_| true).unwrap();
    let mut m = manifest(dir);
    m.outputs[0].iso = Some(ManifestIso {
        file: "install.iso".into(),
        size: d.size,
        md5: d.md5,
        sha256: d.sha256,
        label: "WAIT_TEST".into(),
        bios_boot: "boot/etfsboot.com".into(),
        uefi_boot: "efi/microsoft/boot/efisys.bin".into(),
        install_files,
        autounattend_sha256: Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            AUTOUNATTEND.as_bytes(),
        ))),
        autounattend_sections: autounattend_sections(),
        winpe_drivers: None,
    });
    write_manifest(dir, &m);
    reseal(dir);
}

const ISO_CHECKS: &[&str] = &[
    "iso_file",
    "iso_boot",
    "iso_install_image",
    "iso_autounattend",
    "iso_autounattend_sections",
];

#[test]
fn an_authored_iso_passes_boot_install_image_and_autounattend_checks() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let wim = tmp.path().join("install.wim");
    author(
        work.path(),
        tmp.path(),
        &wim,
        AUTOUNATTEND,
        AuthorOptions::default(),
    );
    attach_iso(tmp.path(), vec!["sources/install.wim".into()]);
    let report = validate(tmp.path());
    assert!(report.passed(), "{report:#?}");
    let got: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(&got[got.len() - ISO_CHECKS.len()..], ISO_CHECKS);
    // xorriso agrees there is a BIOS and a UEFI boot image.
    let plain = run(
        tmp.path(),
        "xorriso",
        &["-indev", "install.iso", "-report_el_torito", "plain"],
    );
    assert!(plain.contains("BIOS") && plain.contains("UEFI"), "{plain}");
}

#[test]
fn a_wrong_autounattend_fails_its_hash_and_sections() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let wim = tmp.path().join("install.wim");
    let other = AUTOUNATTEND.replace(
        "<component name=\"Microsoft-Windows-PnpCustomizationsWinPE\"><DriverPaths/></component>",
        "",
    );
    author(
        work.path(),
        tmp.path(),
        &wim,
        &other,
        AuthorOptions::default(),
    );
    attach_iso(tmp.path(), vec!["sources/install.wim".into()]);
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["iso_autounattend", "iso_autounattend_sections"]),
        "{report:#?}"
    );
    assert!(
        detail(&report, "iso_autounattend_sections")
            .contains("windowsPE/Microsoft-Windows-PnpCustomizationsWinPE/DriverPaths is missing")
    );
}

#[test]
fn an_install_image_that_differs_from_the_output_wim_fails() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let changed = work.path().join("changed.wim");
    std::fs::copy(tmp.path().join("install.wim"), &changed).unwrap();
    run(
        work.path(),
        "wimlib-imagex",
        &[
            "info",
            "changed.wim",
            "1",
            "--image-property",
            "DESCRIPTION=changed",
        ],
    );
    author(
        work.path(),
        tmp.path(),
        &changed,
        AUTOUNATTEND,
        AuthorOptions::default(),
    );
    attach_iso(tmp.path(), vec!["sources/install.wim".into()]);
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["iso_install_image"]),
        "{report:#?}"
    );
    assert!(detail(&report, "iso_install_image").contains("sources/install.wim has SHA-256"));
}

#[test]
fn a_split_install_image_is_compared_by_content() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let wim = tmp.path().join("install.wim");
    // Grow the image past two 1 MiB parts with data that does not compress, and record
    // the new image as the build would have.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..3_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let big = work.path().join("big.bin");
    std::fs::write(&big, noise).unwrap();
    wim_update(
        tmp.path(),
        &format!("add '{}' /Windows/System32/big.bin", big.display()),
    );
    let mut m = manifest(tmp.path());
    record_wim(tmp.path(), &mut m);
    m.outputs[0].content_digest = wait_pipeline::content_digest_of_file(&wim, 1).unwrap();
    write_manifest(tmp.path(), &m);
    let size = std::fs::metadata(&wim).unwrap().len();
    assert!(
        size > 2 << 20,
        "the WIM ({size} bytes) is too small to split"
    );
    let options = AuthorOptions {
        iso9660_only: true,
        swm_part_mib: 1,
        ..AuthorOptions::default()
    };
    author(work.path(), tmp.path(), &wim, AUTOUNATTEND, options);
    let iso = wait_media::IsoImage::open(tmp.path().join("install.iso")).unwrap();
    let parts = match iso.find_install_image().unwrap() {
        wait_media::iso::InstallImage::Split(p) => p.into_iter().map(|e| e.path).collect(),
        other => panic!("not split: {other:?}"),
    };
    attach_iso(tmp.path(), parts);
    let report = validate(tmp.path());
    assert!(report.passed(), "{report:#?}");
    assert!(detail(&report, "iso_install_image").contains("parts hold the content"));
}

#[test]
fn a_bios_only_iso_fails_the_boot_check() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("media");
    media_tree(&tree);
    std::fs::copy(
        tmp.path().join("install.wim"),
        tree.join("sources/install.wim"),
    )
    .unwrap();
    std::fs::write(tree.join("autounattend.xml"), AUTOUNATTEND).unwrap();
    let iso = tmp.path().join("install.iso");
    let status = std::process::Command::new("genisoimage")
        .args([
            "-quiet",
            "-udf",
            "-allow-limited-size",
            "-iso-level",
            "4",
            "-J",
            "-l",
        ])
        .args([
            "-V",
            "WAIT_TEST",
            "-b",
            "boot/etfsboot.com",
            "-no-emul-boot",
        ])
        .args(["-boot-load-size", "8", "-o"])
        .arg(&iso)
        .arg(&tree)
        .status()
        .unwrap();
    assert!(status.success());
    attach_iso(tmp.path(), vec!["sources/install.wim".into()]);
    let report = validate(tmp.path());
    assert_eq!(failing(&report), names(&["iso_boot"]), "{report:#?}");
    assert_eq!(
        detail(&report, "iso_boot"),
        "no bootable UEFI entry in the boot catalog"
    );
}

#[test]
fn an_iso_the_manifest_names_but_the_folder_lacks_is_reported() {
    let tmp = fresh();
    let work = tempfile::tempdir().unwrap();
    let wim = tmp.path().join("install.wim");
    author(
        work.path(),
        tmp.path(),
        &wim,
        AUTOUNATTEND,
        AuthorOptions::default(),
    );
    attach_iso(tmp.path(), vec!["sources/install.wim".into()]);
    std::fs::remove_file(tmp.path().join("install.iso")).unwrap();
    let report = validate(tmp.path());
    assert_eq!(
        failing(&report),
        names(&["checksum.md5", "checksum.sha256", "iso_file", "iso_open"]),
        "{report:#?}"
    );
}

// ---- A real build with both key variants and ISO output ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_two_variant_iso_build_passes_with_prefixed_checks() {
    const MEDIA: &str = "VALIDATE_MEDIA.iso";
    let spec = TreeSpec::small(43);
    let env = Env::new(spec).await;
    wait_catalog::fixtures::write_base_iso(
        &env.repo.root().join("1_BaseImages").join(MEDIA),
        &spec,
        "VALIDATE_TEST",
    )
    .expect("base ISO");
    let mut req = env.request();
    req.base_image = MEDIA.into();
    req.product_key = Some("VK7JG-NPHTM-C97JM-9MPGT-3V66T".into());
    req.key_variants = "both".into();
    req.create_iso = true;
    let job = env.store.create_job(&req, None).await.unwrap();
    env.worker().run_until_idle().await.unwrap();
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    let dir = env.output(job.output_dir.as_deref().unwrap());
    let report = validate(&dir);
    assert!(report.passed(), "{report:#?}");
    let m = manifest(&dir);
    assert_eq!(m.outputs.len(), 2);
    for o in &m.outputs {
        for check in ALL_SINGLE[3..].iter().chain(ISO_CHECKS) {
            let name = format!("{}/{check}", o.variant);
            assert!(
                report.checks.iter().any(|c| c.name == name),
                "{name} missing"
            );
        }
    }
    // Damage the keyed variant's ISO only: only its checks fail.
    let keyed = m.outputs.iter().find(|o| o.variant == "key").unwrap();
    let iso = keyed.iso.as_ref().unwrap();
    let mut bytes = std::fs::read(dir.join(&iso.file)).unwrap();
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    std::fs::write(dir.join(&iso.file), bytes).unwrap();
    let report = validate(&dir);
    let failed = failing(&report);
    assert!(failed.contains("key/iso_file"), "{failed:?}");
    assert!(
        failed.iter().all(|n| !n.starts_with("nokey/")),
        "{failed:?}"
    );
}
