//! `Repository::driver_set_report`: every INF of a set parsed and judged against an image.

use wait_catalog::fixtures::{DRIVER_SET, write_board_drivers};
use wait_catalog::{Arch, CatalogError, ImageIdentity, Repository};

fn image(build: u32, arch: Arch) -> ImageIdentity {
    ImageIdentity {
        index: 1,
        name: "Windows 11 IoT Enterprise LTSC".into(),
        edition: Some("IoTEnterpriseS".into()),
        product_name: None,
        installation_type: Some("Client".into()),
        arch: Some(arch),
        version: Some(format!("10.0.{build}.1")),
        build: Some(build),
        languages: vec!["en-US".into()],
        size: 0,
    }
}

fn repo() -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(dir.path()).expect("init");
    write_board_drivers(repo.root(), "X13SAW", 11).expect("drivers");
    (dir, repo)
}

#[test]
fn fixture_set_applies_to_24h2_x64_and_not_to_older_or_other_arches() {
    let (_dir, repo) = repo();
    let report = repo
        .driver_set_report("X13SAW", DRIVER_SET, &image(26100, Arch::X64))
        .expect("report");
    assert_eq!(report.path, "2_Drivers/X13SAW/WINDOWS11_X64");
    assert_eq!(report.infs.len(), 5);
    assert_eq!(report.applicable, 5);
    assert_eq!(report.with_problems, 0);
    for inf in &report.infs {
        assert!(
            inf.path.starts_with("2_Drivers/X13SAW/WINDOWS11_X64/"),
            "{}",
            inf.path
        );
        assert!(inf.applies, "{}: {}", inf.path, inf.reason);
        assert_eq!(inf.provider.as_deref(), Some("Intel"));
        assert!(inf.class.is_some() && inf.version.is_some() && inf.date.is_some());
        assert!(inf.catalog_present, "{}", inf.path);
        assert_eq!(
            inf.models_section.as_deref(),
            Some("Models.NTamd64.10.0...22000")
        );
        assert!(!inf.hardware_ids.is_empty());
        assert!(inf.problems.is_empty(), "{:?}", inf.problems);
    }
    let old = repo
        .driver_set_report("X13SAW", DRIVER_SET, &image(19044, Arch::X64))
        .expect("report");
    assert_eq!(old.applicable, 0);
    assert!(
        old.infs
            .iter()
            .all(|i| i.reason.contains("needs build 22000"))
    );
    let arm = repo
        .driver_set_report("X13SAW", DRIVER_SET, &image(26100, Arch::Arm64))
        .expect("report");
    assert_eq!(arm.applicable, 0);
}

#[test]
fn bad_infs_and_missing_catalogs_are_problems_not_failures() {
    let (_dir, repo) = repo();
    let set = repo.root().join("2_Drivers/X13SAW").join(DRIVER_SET);
    std::fs::create_dir_all(set.join("broken/x")).expect("mkdir");
    std::fs::write(
        set.join("broken/x/bad.inf"),
        b"[Version]\r\nClass=\"Net\r\n",
    )
    .expect("write");
    std::fs::write(set.join("broken/x/blob.INF"), [0u8, 1, 2, 3, 0, 0, 0, 9]).expect("write");
    // A catalog named in other case is found; a missing one is a problem.
    let inf = "[Version]\r\nSignature=\"$Windows NT$\"\r\nDriverVer=01/01/2024,1.0.0.0\r\n\
               CatalogFile=Upper.CAT\r\n[Manufacturer]\r\nM=Models,NTamd64\r\n[Models.NTamd64]\r\nD=I,PCI\\X\r\n";
    std::fs::create_dir_all(set.join("misc/a")).expect("mkdir");
    std::fs::write(set.join("misc/a/a.inf"), inf).expect("write");
    std::fs::write(set.join("misc/a/upper.cat"), b"0").expect("write");
    std::fs::create_dir_all(set.join("misc/b")).expect("mkdir");
    std::fs::write(set.join("misc/b/b.inf"), inf).expect("write");

    let report = repo
        .driver_set_report("X13SAW", DRIVER_SET, &image(26100, Arch::X64))
        .expect("report");
    assert_eq!(report.infs.len(), 9);
    assert_eq!(report.applicable, 7);
    assert_eq!(report.with_problems, 3);
    let by_path = |p: &str| {
        report
            .infs
            .iter()
            .find(|i| i.path.ends_with(p))
            .unwrap_or_else(|| panic!("{p}"))
    };
    let bad = by_path("broken/x/bad.inf");
    assert!(!bad.applies);
    assert!(
        bad.problems[0].contains("bad.inf, line 2"),
        "{:?}",
        bad.problems
    );
    let blob = by_path("broken/x/blob.INF");
    assert!(blob.problems[0].contains("binary"), "{:?}", blob.problems);
    let a = by_path("misc/a/a.inf");
    assert!(
        a.applies && a.catalog_present && a.problems.is_empty(),
        "{a:?}"
    );
    let b = by_path("misc/b/b.inf");
    assert!(b.applies && !b.catalog_present);
    assert!(b.problems[0].contains("Upper.CAT"), "{:?}", b.problems);
}

#[test]
fn report_refuses_bad_names_and_missing_sets() {
    let (_dir, repo) = repo();
    let img = image(26100, Arch::X64);
    for (board, set) in [("X13SAW", ".."), ("X13SAW", "a/b"), ("../x", DRIVER_SET)] {
        assert!(
            repo.driver_set_report(board, set, &img).is_err(),
            "{board} {set}"
        );
    }
    assert!(matches!(
        repo.driver_set_report("X13SAW", "WINDOWS10_X64", &img),
        Err(CatalogError::NotFound { .. })
    ));
    let mut unknown = img.clone();
    unknown.arch = None;
    let r = repo
        .driver_set_report("X13SAW", DRIVER_SET, &unknown)
        .expect("report");
    assert!(r.target.is_none());
    assert_eq!(r.applicable, 0);
    assert!(r.infs.iter().all(|i| i.reason.contains("unknown")));
}

#[test]
fn recommendation_prefers_the_set_whose_infs_apply_on_a_tie() {
    let (_dir, repo) = repo();
    // Same token meaning as WINDOWS11_X64 and first in name order, but its INF is broken.
    let other = repo.root().join("2_Drivers/X13SAW/WIN11_X64/net/x");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("x.inf"), b"[Version]\r\n").expect("write");
    let rec = repo
        .recommend_driver_set("X13SAW", &image(26100, Arch::X64))
        .expect("recommend")
        .expect("some set");
    assert_eq!(rec.driver_set.name, DRIVER_SET);
}
