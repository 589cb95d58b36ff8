//! The validation stage on ISO outputs: ISOs authored (or, for damage, made with
//! genisoimage) around a copy of one good build's WIM, asserting exactly which ISO checks
//! fail; and a real two-variant ISO build whose checks carry the variant prefix.
#![allow(clippy::unwrap_used)]

mod common;
mod validate_checks_support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use common::{Env, run};
use validate_checks_support::{
    ALL_SINGLE, detail, failing, fresh, manifest, names, record_wim, reseal, validate, wim_update,
    write_manifest,
};
use wait_catalog::fixtures::TreeSpec;
use wait_media::author::{AuthorOptions, AuthorRequest, InstallImage, author_iso};
use wait_pipeline::{ManifestIso, PlannedSection, digest_file};
use wait_store::JobStatus;

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
