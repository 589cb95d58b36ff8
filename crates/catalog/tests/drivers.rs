//! Boards, driver sets, and which set is recommended for an image.

use wait_catalog::{Arch, CatalogError, ImageIdentity, Repository, driver_folder_token};

fn image(build: Option<u32>, arch: Option<Arch>) -> ImageIdentity {
    ImageIdentity {
        index: 1,
        name: "Windows 11 IoT Enterprise LTSC".into(),
        edition: Some("IoTEnterpriseS".into()),
        product_name: None,
        installation_type: Some("Client".into()),
        arch,
        version: build.map(|b| format!("10.0.{b}.1")),
        build,
        languages: vec!["en-US".into()],
        size: 0,
    }
}

fn repo_with_sets(board: &str, sets: &[&str]) -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(dir.path()).expect("init");
    for set in sets {
        let inf = repo
            .root()
            .join(format!("2_Drivers/{board}/{set}/network/pkg/net.inf"));
        std::fs::create_dir_all(inf.parent().expect("parent")).expect("mkdir");
        std::fs::write(&inf, b"[Version]\r\n").expect("write");
    }
    (dir, repo)
}

#[test]
fn motherboards_are_sorted_folder_names() {
    let (_dir, repo) = repo_with_sets("X13SAW", &["WINDOWS11_X64"]);
    for board in ["x13_up", "X13SRN-H-WOHS", ".staging"] {
        std::fs::create_dir_all(repo.root().join("2_Drivers").join(board)).expect("mkdir");
    }
    std::fs::write(repo.root().join("2_Drivers/readme.txt"), b"not a board").expect("write");
    assert_eq!(
        repo.motherboards().expect("boards"),
        vec!["X13SAW", "X13SRN-H-WOHS", "x13_up"]
    );
}

#[test]
fn driver_sets_count_categories_infs_files_and_bytes() {
    let (_dir, repo) = repo_with_sets("X13SAW", &["WINDOWS10_X64"]);
    let set = repo.root().join("2_Drivers/X13SAW/WINDOWS11_X64");
    for (rel, bytes) in [
        ("chipset/a/a.inf", 10usize),
        ("chipset/a/a.sys", 100),
        ("network/b/B.INF", 20),
        ("network/b/b.cat", 5),
        ("storage/c/deep/c.Inf", 7),
        ("storage/c/deep/c.inf.bak", 3),
        ("readme.txt", 1),
    ] {
        let path = set.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, vec![b'x'; bytes]).expect("write");
    }
    let sets = repo.driver_sets("X13SAW").expect("sets");
    assert_eq!(
        sets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["WINDOWS10_X64", "WINDOWS11_X64"]
    );
    let s = &sets[1];
    assert_eq!(s.board, "X13SAW");
    assert_eq!(s.path, "2_Drivers/X13SAW/WINDOWS11_X64");
    assert_eq!(s.categories, ["chipset", "network", "storage"]);
    assert_eq!(s.inf_count, 3);
    assert_eq!(s.file_count, 7);
    assert_eq!(s.total_size, 146);
}

#[test]
fn driver_sets_refuse_bad_board_names_and_unknown_boards() {
    let (_dir, repo) = repo_with_sets("X13SAW", &["WINDOWS11_X64"]);
    for bad in [
        "",
        "..",
        ".",
        "a/b",
        "a\\b",
        "../X13SAW",
        "/X13SAW",
        "X13\0SAW",
        "C:",
    ] {
        let err = repo.driver_sets(bad).expect_err(bad);
        match err {
            CatalogError::Invalid { field, .. } | CatalogError::Escapes { field, .. } => {
                assert_eq!(field, "motherboard_model", "{bad:?}");
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let err = repo.driver_sets("NOPE").expect_err("unknown");
    assert!(
        matches!(err, CatalogError::NotFound { field: "motherboard_model", ref name } if name == "NOPE")
    );
    let err = repo
        .recommend_driver_set("NOPE", &image(Some(26100), Some(Arch::X64)))
        .expect_err("unknown");
    assert!(matches!(
        err,
        CatalogError::NotFound {
            field: "motherboard_model",
            ..
        }
    ));
}

#[test]
fn recommendation_picks_the_generation_and_arch_that_fit() {
    let (_dir, repo) = repo_with_sets(
        "X13SAW",
        &["WINDOWS10_X64", "WINDOWS11_X64", "WINDOWS11_ARM64"],
    );
    let rec = repo
        .recommend_driver_set("X13SAW", &image(Some(26100), Some(Arch::X64)))
        .expect("recommend")
        .expect("a set fits");
    assert_eq!(rec.driver_set.name, "WINDOWS11_X64");
    assert_eq!(
        rec.reason,
        "WINDOWS11_X64 matches build 26100 (Windows 11) and arch x64"
    );

    let rec = repo
        .recommend_driver_set("X13SAW", &image(Some(19044), Some(Arch::X64)))
        .expect("recommend")
        .expect("a set fits");
    assert_eq!(rec.driver_set.name, "WINDOWS10_X64");
    assert!(rec.reason.contains("Windows 10"), "{}", rec.reason);

    let rec = repo
        .recommend_driver_set("X13SAW", &image(Some(22631), Some(Arch::Arm64)))
        .expect("recommend")
        .expect("a set fits");
    assert_eq!(rec.driver_set.name, "WINDOWS11_ARM64");
}

#[test]
fn recommendation_is_none_when_nothing_fits() {
    let (_dir, repo) = repo_with_sets("X13SAW", &["WINDOWS11_X64", "drivers_misc", "WIN11_23H2"]);
    // Windows 10 image: no Windows 10 set.
    assert!(
        repo.recommend_driver_set("X13SAW", &image(Some(19045), Some(Arch::X64)))
            .expect("ok")
            .is_none()
    );
    // No build, or a build older than Windows 10.
    assert!(
        repo.recommend_driver_set("X13SAW", &image(None, Some(Arch::X64)))
            .expect("ok")
            .is_none()
    );
    assert!(
        repo.recommend_driver_set("X13SAW", &image(Some(9600), Some(Arch::X64)))
            .expect("ok")
            .is_none()
    );
    // Board without any sets.
    std::fs::create_dir_all(repo.root().join("2_Drivers/EMPTY")).expect("mkdir");
    assert!(
        repo.recommend_driver_set("EMPTY", &image(Some(26100), Some(Arch::X64)))
            .expect("ok")
            .is_none()
    );
}

#[test]
fn recommendation_refuses_an_arch_mismatch() {
    let (_dir, repo) = repo_with_sets("X13SAW", &["WINDOWS11_X64"]);
    assert!(
        repo.recommend_driver_set("X13SAW", &image(Some(26100), Some(Arch::Arm64)))
            .expect("ok")
            .is_none()
    );
    assert!(
        repo.recommend_driver_set("X13SAW", &image(Some(26100), Some(Arch::X86)))
            .expect("ok")
            .is_none()
    );
    // An image whose architecture is unknown cannot be matched to an arch-specific set.
    assert!(
        repo.recommend_driver_set("X13SAW", &image(Some(26100), None))
            .expect("ok")
            .is_none()
    );
}

#[test]
fn recommendation_prefers_the_most_specific_fitting_set() {
    let (_dir, repo) = repo_with_sets(
        "X13SAW",
        &[
            "WIN11",
            "WINDOWS11_X64",
            "WIN11_24H2",
            "WIN11_IOT_24H2_X64",
            "WIN11_23H2_X64",
            "WINDOWS10_X64",
        ],
    );
    let rec = repo
        .recommend_driver_set("X13SAW", &image(Some(26100), Some(Arch::X64)))
        .expect("recommend")
        .expect("fits");
    assert_eq!(rec.driver_set.name, "WIN11_IOT_24H2_X64");
    assert_eq!(
        rec.reason,
        "WIN11_IOT_24H2_X64 matches build 26100 (Windows 11 24H2) and arch x64"
    );

    // 23H2 image: the 24H2 sets do not fit, the 23H2 one is the most specific.
    let rec = repo
        .recommend_driver_set("X13SAW", &image(Some(22631), Some(Arch::X64)))
        .expect("recommend")
        .expect("fits");
    assert_eq!(rec.driver_set.name, "WIN11_23H2_X64");

    // arm64 image: only the sets without an architecture fit; the release one wins.
    let rec = repo
        .recommend_driver_set("X13SAW", &image(Some(26100), Some(Arch::Arm64)))
        .expect("recommend")
        .expect("fits");
    assert_eq!(rec.driver_set.name, "WIN11_24H2");
    assert_eq!(
        rec.reason,
        "WIN11_24H2 matches build 26100 (Windows 11 24H2) and any architecture"
    );
}

#[test]
fn driver_folder_token_is_canonical() {
    let cases = [
        (Some(26100), Some(Arch::X64), Some("WINDOWS11_X64")),
        (Some(22000), Some(Arch::Arm64), Some("WINDOWS11_ARM64")),
        (Some(21999), Some(Arch::X64), Some("WINDOWS10_X64")),
        (Some(19044), Some(Arch::X86), Some("WINDOWS10_X86")),
        (Some(10240), Some(Arch::X64), Some("WINDOWS10_X64")),
        (Some(10239), Some(Arch::X64), None),
        (None, Some(Arch::X64), None),
        (Some(26100), None, None),
    ];
    for (build, arch, want) in cases {
        assert_eq!(
            driver_folder_token(&image(build, arch)).as_deref(),
            want,
            "{build:?} {arch:?}"
        );
    }
}
