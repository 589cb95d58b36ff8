//! Bootable ISO authoring, checked with independent tools: xorriso (El Torito),
//! isoinfo (volume label), 7-Zip (listing, extraction) and wimlib-imagex (split parts).

mod common_author;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common_author::*;
use wait_media::author::{
    AuthorError, AuthorOptions, AuthorProgress, AuthorRequest, AuthorStage, ExternalTool,
    InstallImage, IsoTool, author_iso,
};

struct Fixture {
    _dir: tempfile::TempDir,
    work: PathBuf,
    tree: PathBuf,
    out_dir: PathBuf,
}

fn fixture() -> Fixture {
    require_tool("genisoimage", "genisoimage");
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("work");
    let tree = dir.path().join("media");
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    fake_media(&tree);
    Fixture {
        _dir: dir,
        work,
        tree,
        out_dir,
    }
}

fn request(f: &Fixture, install: InstallImage, label: &str) -> AuthorRequest {
    AuthorRequest {
        source_tree: f.tree.clone(),
        boot_files_from: None,
        install_image: install,
        autounattend: None,
        label: label.to_owned(),
        output: f.out_dir.join("out.iso"),
        options: AuthorOptions {
            tool: IsoTool::Genisoimage,
            ..AuthorOptions::default()
        },
    }
}

fn author(req: &AuthorRequest) -> Result<wait_media::author::AuthorOutcome, AuthorError> {
    author_iso(req, &mut |_| {}, &Arc::new(AtomicBool::new(false)))
}

fn is_install_variant(path: &str) -> bool {
    let lower = path.to_lowercase();
    lower.starts_with("sources/install")
}

#[test]
fn udf_iso_replaces_install_image_and_boots_bios_and_uefi() {
    require_tool("xorriso", "xorriso");
    require_tool("isoinfo", "genisoimage");
    require_tool("7z", "p7zip-full");
    let f = fixture();
    let wim = small_wim(&f.work, "new", 4, 200_000);
    let answer = f.work.join("autounattend.xml");
    write(
        &answer,
        b"<?xml version=\"1.0\"?><unattend xmlns=\"urn:schemas-microsoft-com:unattend\"/>",
    );
    let mut req = request(
        &f,
        InstallImage::Single(wim.clone()),
        "CCCOMA_X64FRE_EN-US_DV9",
    );
    req.autounattend = Some(answer.clone());

    let mut reports: Vec<AuthorProgress> = Vec::new();
    let outcome = author_iso(
        &req,
        &mut |p| reports.push(p),
        &Arc::new(AtomicBool::new(false)),
    )
    .expect("author ISO");
    assert_eq!(outcome.install_files, ["sources/install.wim"]);
    assert!(outcome.udf && outcome.answer_file);
    assert_eq!(outcome.tool, ExternalTool::Genisoimage);
    assert_eq!(
        outcome.size,
        std::fs::metadata(&req.output).expect("iso").len()
    );
    let last = reports.last().expect("progress reported");
    assert_eq!((last.stage, last.percent), (AuthorStage::Write, 100.0));
    assert!(reports.iter().all(|p| (0.0..=100.0).contains(&p.percent)));

    // El Torito: one BIOS and one UEFI no-emulation entry; BIOS loads 8 sectors of
    // 512 bytes (xorriso's Ldsiz column counts 512-byte sectors).
    let boot = el_torito(&req.output);
    assert_eq!(boot.len(), 2, "{boot:?}");
    let bios = boot
        .iter()
        .find(|e| e.platform == "BIOS")
        .expect("BIOS entry");
    assert_eq!(bios.load_size, 8);
    assert_eq!(bios.emulation, "none");
    assert_eq!(bios.path, "/boot/etfsboot.com");
    let uefi = boot
        .iter()
        .find(|e| e.platform == "UEFI")
        .expect("UEFI entry");
    assert_eq!(uefi.emulation, "none");
    assert_eq!(uefi.path, "/efi/microsoft/boot/efisys.bin");

    let (label, _) = isoinfo_volume(&req.output);
    assert_eq!(label, "CCCOMA_X64FRE_EN-US_DV9");

    let (kind, paths) = list_7z(&req.output);
    assert_eq!(kind, "Udf", "UDF file system expected");
    let installs: Vec<&String> = paths.iter().filter(|p| is_install_variant(p)).collect();
    assert_eq!(installs, ["sources/install.wim"], "old install.* left out");
    for expected in [
        "autounattend.xml",
        "setup.exe",
        "sources/boot.wim",
        "bootmgr",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} missing: {paths:?}"
        );
    }

    let extracted = extract_7z(&req.output, "sources/install.wim", &f.work.join("x"));
    assert_eq!(sha256_file(&extracted), sha256_file(&wim));
    let answer_back = extract_7z(&req.output, "autounattend.xml", &f.work.join("x"));
    assert_eq!(sha256_file(&answer_back), sha256_file(&answer));

    // Only the ISO is left in the output directory (no temporary files).
    assert_eq!(dir_names(&f.out_dir), ["out.iso"]);
}

#[test]
fn noprompt_uses_efisys_noprompt() {
    require_tool("xorriso", "xorriso");
    let f = fixture();
    let wim = small_wim(&f.work, "new", 1, 10_000);
    let mut req = request(&f, InstallImage::Single(wim), "NOPROMPT");
    req.options.uefi_noprompt = true;
    let outcome = author(&req).expect("author");
    assert_eq!(outcome.uefi_boot, "efi/microsoft/boot/efisys_noprompt.bin");
    let boot = el_torito(&req.output);
    let uefi = boot
        .iter()
        .find(|e| e.platform == "UEFI")
        .expect("UEFI entry");
    assert_eq!(uefi.path, "/efi/microsoft/boot/efisys_noprompt.bin");
}

#[test]
fn esd_goes_in_as_install_esd() {
    let f = fixture();
    let wim = small_wim(&f.work, "new", 1, 10_000);
    let esd = f.work.join("image.esd");
    std::fs::copy(&wim, &esd).expect("copy");
    let req = request(&f, InstallImage::Single(esd.clone()), "ESD");
    let outcome = author(&req).expect("author");
    assert_eq!(outcome.install_files, ["sources/install.esd"]);
    let (_, paths) = list_7z(&req.output);
    let installs: Vec<&String> = paths.iter().filter(|p| is_install_variant(p)).collect();
    assert_eq!(installs, ["sources/install.esd"]);
    let back = extract_7z(&req.output, "sources/install.esd", &f.work.join("x"));
    assert_eq!(sha256_file(&back), sha256_file(&esd));
}

#[test]
fn missing_boot_file_is_named_and_nothing_is_written() {
    let f = fixture();
    std::fs::remove_file(f.tree.join("efi/microsoft/boot/efisys.bin")).expect("rm");
    let wim = small_wim(&f.work, "new", 1, 10_000);
    let req = request(&f, InstallImage::Single(wim), "LABEL");
    match author(&req) {
        Err(AuthorError::MissingBootFile {
            relative, which, ..
        }) => {
            assert_eq!(relative, "efi/microsoft/boot/efisys.bin");
            assert_eq!(which, "UEFI boot image");
        }
        other => panic!("expected MissingBootFile, got {other:?}"),
    }
    let err = author(&req).expect_err("still missing").to_string();
    assert!(err.contains("efi/microsoft/boot/efisys.bin"), "{err}");
    assert!(dir_names(&f.out_dir).is_empty());

    std::fs::remove_file(f.tree.join("boot/etfsboot.com")).expect("rm");
    assert!(matches!(
        author(&req),
        Err(AuthorError::MissingBootFile {
            which: "BIOS boot image",
            ..
        })
    ));
}

#[test]
fn boot_files_may_come_from_a_separate_directory() {
    require_tool("xorriso", "xorriso");
    let f = fixture();
    // The boot images were "extracted from a source ISO" into their own directory.
    let boot_dir = f.work.join("from-iso");
    for rel in ["boot/etfsboot.com", "efi/microsoft/boot/efisys.bin"] {
        let to = boot_dir.join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::rename(f.tree.join(rel), &to).expect("move boot file");
    }
    let wim = small_wim(&f.work, "new", 1, 10_000);
    let mut req = request(&f, InstallImage::Single(wim), "FROMISO");
    req.boot_files_from = Some(boot_dir);
    author(&req).expect("author");
    let boot = el_torito(&req.output);
    assert_eq!(boot.len(), 2);
    assert_eq!(boot[0].path, "/boot/etfsboot.com");
    assert_eq!(boot[1].path, "/efi/microsoft/boot/efisys.bin");
}

#[test]
fn bad_labels_are_refused_before_anything_runs() {
    let f = fixture();
    let wim = small_wim(&f.work, "new", 1, 10_000);
    for label in ["", "HAS SPACE", "TOO_LONG_FOR_A_UDF_VOLUME_LABEL_X", "ÄÖÜ"] {
        let req = request(&f, InstallImage::Single(wim.clone()), label);
        match author(&req) {
            Err(AuthorError::InvalidLabel { label: l, .. }) => assert_eq!(l, label),
            other => panic!("{label:?}: expected InvalidLabel, got {other:?}"),
        }
    }
    assert!(dir_names(&f.out_dir).is_empty());
}

#[test]
fn bad_inputs_are_typed_errors() {
    let f = fixture();
    let wim = small_wim(&f.work, "new", 1, 10_000);
    // Missing install image.
    let req = request(&f, InstallImage::Single(f.work.join("nope.wim")), "L");
    assert!(matches!(
        author(&req),
        Err(AuthorError::BadInput {
            what: "install image",
            ..
        })
    ));
    // Missing answer file.
    let mut req = request(&f, InstallImage::Single(wim.clone()), "L");
    req.autounattend = Some(f.work.join("missing.xml"));
    assert!(matches!(
        author(&req),
        Err(AuthorError::BadInput {
            what: "autounattend.xml",
            ..
        })
    ));
    // Output inside the source tree would put the ISO inside itself.
    let mut req = request(&f, InstallImage::Single(wim.clone()), "L");
    req.output = f.tree.join("out.iso");
    assert!(matches!(author(&req), Err(AuthorError::BadOutput { .. })));
    // Output directory that does not exist.
    let mut req = request(&f, InstallImage::Single(wim.clone()), "L");
    req.output = f.work.join("no/such/dir/out.iso");
    assert!(matches!(author(&req), Err(AuthorError::BadOutput { .. })));
    // Source tree that does not exist.
    let mut req = request(&f, InstallImage::Single(wim), "L");
    req.source_tree = f.work.join("no-tree");
    assert!(matches!(
        author(&req),
        Err(AuthorError::BadInput {
            what: "source media tree",
            ..
        })
    ));
    // oscdimg is a Windows tool: on this host it is a MissingTool naming its origin.
    if !ExternalTool::Oscdimg.is_available() {
        let mut req = request(&f, InstallImage::Single(f.work.join("new.wim")), "L");
        req.options.tool = IsoTool::Oscdimg;
        match author(&req) {
            Err(
                e @ AuthorError::MissingTool {
                    tool: ExternalTool::Oscdimg,
                },
            ) => {
                assert!(e.to_string().contains("Windows ADK"), "{e}");
            }
            other => panic!("expected MissingTool, got {other:?}"),
        }
    }
    assert!(dir_names(&f.out_dir).is_empty());
}

#[test]
fn cancel_while_genisoimage_runs_leaves_nothing() {
    let f = fixture();
    // genisoimage only needs a file here; 96 MB makes it report progress several times.
    let big = f.work.join("big.wim");
    write(&big, &noise(96 * 1024 * 1024, 7));
    let req = request(&f, InstallImage::Single(big), "CANCEL");
    let cancel = Arc::new(AtomicBool::new(false));
    let mut seen_before_cancel = 0usize;
    let result = author_iso(
        &req,
        &mut |p| {
            if p.stage == AuthorStage::Write && p.percent < 100.0 {
                seen_before_cancel += 1;
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert!(matches!(result, Err(AuthorError::Cancelled)), "{result:?}");
    assert!(
        seen_before_cancel >= 1,
        "cancelled mid-run, after a progress report"
    );
    assert!(
        dir_names(&f.out_dir).is_empty(),
        "left behind: {:?}",
        dir_names(&f.out_dir)
    );
}

#[test]
fn iso9660_only_splits_into_swm_parts_without_udf() {
    require_tool("7z", "p7zip-full");
    require_tool("isoinfo", "genisoimage");
    require_tool("wimlib-imagex", "wimtools");
    let f = fixture();
    // ~3 MiB of incompressible data in 10 files, so 1 MiB parts give several parts.
    let wim = small_wim(&f.work, "big", 10, 300_000);
    let mut req = request(
        &f,
        InstallImage::Single(wim.clone()),
        "ISO9660_ONLY_LABEL_32_CHARS_XXXX",
    );
    req.options.iso9660_only = true;
    req.options.swm_part_mib = 1;
    let mut stages = Vec::new();
    let outcome = author_iso(
        &req,
        &mut |p| stages.push(p.stage),
        &Arc::new(AtomicBool::new(false)),
    )
    .expect("author");
    assert!(!outcome.udf);
    assert!(stages.contains(&AuthorStage::Split));
    let n = outcome.install_files.len();
    assert!(
        n >= 3,
        "expected several parts, got {:?}",
        outcome.install_files
    );
    let expected: Vec<String> = (1..=n)
        .map(|i| format!("sources/{}", wait_media::author::swm_part_name(i)))
        .collect();
    assert_eq!(outcome.install_files, expected);
    assert_eq!(expected[0], "sources/install.swm");
    assert_eq!(expected[1], "sources/install2.swm");

    let (kind, paths) = list_7z(&req.output);
    assert_eq!(kind, "Iso", "no UDF expected");
    let installs: Vec<String> = paths
        .iter()
        .filter(|p| is_install_variant(p))
        .cloned()
        .collect();
    assert_eq!(installs.len(), n);
    for part in &expected {
        assert!(installs.contains(part), "{part} missing from {installs:?}");
    }
    // Exactly n install files: the tree's old install2.swm was replaced, not duplicated
    // (the apply below also proves the content is the new part).
    let (label, report) = isoinfo_volume(&req.output);
    assert_eq!(label, "ISO9660_ONLY_LABEL_32_CHARS_XXXX");
    assert!(!report.to_lowercase().contains("udf"), "{report}");

    // The parts form a valid split WIM: apply it with --ref and compare a file.
    let xdir = f.work.join("x");
    for part in &expected {
        extract_7z(&req.output, part, &xdir);
    }
    let first = xdir.join("sources/install.swm");
    let info = run("wimlib-imagex", &["info", &first.to_string_lossy()]);
    assert!(info.contains(&format!("Part Number:    1/{n}")), "{info}");
    let applied = f.work.join("applied");
    let pattern = format!("--ref={}", xdir.join("sources/install*.swm").display());
    run(
        "wimlib-imagex",
        &[
            "apply",
            &first.to_string_lossy(),
            "1",
            &applied.to_string_lossy(),
            &pattern,
        ],
    );
    let original = f.work.join("big.tree/Windows/System32/file7.dll");
    assert_eq!(
        sha256_file(&applied.join("Windows/System32/file7.dll")),
        sha256_file(&original)
    );
    assert_eq!(dir_names(&f.out_dir), ["out.iso"], "split parts cleaned up");
}

#[test]
fn iso9660_only_keeps_a_small_image_whole() {
    let f = fixture();
    let wim = small_wim(&f.work, "new", 1, 10_000);
    let mut req = request(&f, InstallImage::Single(wim), "SMALL");
    req.options.iso9660_only = true;
    let outcome = author(&req).expect("author");
    assert_eq!(outcome.install_files, ["sources/install.wim"]);
}

#[test]
fn already_split_parts_are_placed_in_order() {
    let f = fixture();
    let wim = small_wim(&f.work, "big", 6, 300_000);
    let parts_dir = f.work.join("parts");
    std::fs::create_dir_all(&parts_dir).expect("mkdir");
    let parts = wait_media::author::split_wim(
        &wim,
        &parts_dir,
        1,
        &mut |_| {},
        &Arc::new(AtomicBool::new(false)),
    )
    .expect("split");
    assert!(parts.len() >= 2);
    let req = request(&f, InstallImage::Split(parts.clone()), "PARTS");
    let outcome = author(&req).expect("author");
    assert_eq!(outcome.install_files.len(), parts.len());
    let (_, listed) = list_7z(&req.output);
    let installs: Vec<&String> = listed.iter().filter(|p| is_install_variant(p)).collect();
    assert_eq!(installs.len(), parts.len(), "{installs:?}");
    let back = extract_7z(&req.output, "sources/install2.swm", &f.work.join("x"));
    assert_eq!(sha256_file(&back), sha256_file(&parts[1]));
    assert!(matches!(
        author(&request(&f, InstallImage::Split(Vec::new()), "EMPTY")),
        Err(AuthorError::BadInput { .. })
    ));
}

#[test]
fn cancel_during_split_leaves_nothing() {
    let f = fixture();
    let wim = small_wim(&f.work, "big", 10, 300_000);
    let mut req = request(&f, InstallImage::Single(wim), "CANCELSPLIT");
    req.options.iso9660_only = true;
    req.options.swm_part_mib = 1;
    let cancel = Arc::new(AtomicBool::new(false));
    let result = author_iso(
        &req,
        &mut |p| {
            if p.stage == AuthorStage::Split {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert!(matches!(result, Err(AuthorError::Cancelled)), "{result:?}");
    assert!(dir_names(&f.out_dir).is_empty());
}

/// Benchmark, not a check: `cargo test --release -p wait-media --test author --
/// --ignored --nocapture bench_`. Authors an ISO around a ~1 GiB WIM and copies the
/// same WIM with `cp`, printing both times and their ratio.
#[test]
#[ignore = "benchmark; run explicitly"]
fn bench_author_one_gib_wim_vs_cp() {
    let f = fixture();
    let wim = small_wim(&f.work, "gib", 64, 16 * 1024 * 1024);
    let size = std::fs::metadata(&wim).expect("meta").len();
    // Same start for both runs: data in the page cache, nothing dirty to flush.
    sha256_file(&wim);
    run("sync", &[]);

    let copy = f.out_dir.join("copy.wim");
    let t = std::time::Instant::now();
    run("cp", &[&wim.to_string_lossy(), &copy.to_string_lossy()]);
    let cp_time = t.elapsed();
    std::fs::remove_file(&copy).expect("rm copy");
    run("sync", &[]);

    let req = request(&f, InstallImage::Single(wim), "BENCH");
    let t = std::time::Instant::now();
    author(&req).expect("author");
    let iso_time = t.elapsed();
    println!(
        "WIM {:.2} GiB: cp {:.2?}, author_iso {:.2?}, ratio {:.2}",
        size as f64 / (1u64 << 30) as f64,
        cp_time,
        iso_time,
        iso_time.as_secs_f64() / cp_time.as_secs_f64()
    );
}

#[test]
fn solid_esd_cannot_be_split_and_says_so() {
    require_tool("wimlib-imagex", "wimtools");
    let f = fixture();
    let wim = small_wim(&f.work, "big", 4, 300_000);
    let esd = f.work.join("install.esd");
    run(
        "wimlib-imagex",
        &[
            "export",
            &wim.to_string_lossy(),
            "1",
            &esd.to_string_lossy(),
            "--solid",
        ],
    );
    let mut req = request(&f, InstallImage::Single(esd.clone()), "ESD");
    req.options.iso9660_only = true;
    req.options.swm_part_mib = 1;
    match author(&req) {
        Err(e @ AuthorError::Split { .. }) => {
            assert!(e.to_string().contains("install.esd"), "{e}");
        }
        other => panic!("expected Split error, got {other:?}"),
    }
    assert!(dir_names(&f.out_dir).is_empty());
}
