//! Repository layout, path resolution, answer files and hashing.

use std::path::Path;

use wait_catalog::{CatalogError, FOLDERS, Repository, hash_file};

fn repo() -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(&dir.path().join("repo")).expect("init");
    (dir, repo)
}

#[test]
fn init_creates_the_eight_folders_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("WAIT_Repository");
    let repo = Repository::init(&root).expect("first init");
    for folder in FOLDERS {
        assert!(repo.root().join(folder).is_dir(), "{folder} missing");
    }
    std::fs::write(repo.root().join("1_BaseImages/keep.txt"), b"x").expect("write");
    let again = Repository::init(&root).expect("second init");
    assert_eq!(again.root(), repo.root());
    assert!(
        again.root().join("1_BaseImages/keep.txt").is_file(),
        "init must keep existing files"
    );
    assert_eq!(again.output_root(), again.root().join("8_Output"));
}

#[test]
fn open_requires_an_existing_root_and_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nowhere");
    let err = Repository::open(&missing).expect_err("missing root");
    match &err {
        CatalogError::Io { path, source } => {
            assert_eq!(path, &missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("nowhere"), "{err}");

    let file = dir.path().join("file");
    std::fs::write(&file, b"x").expect("write");
    assert!(matches!(
        Repository::open(&file),
        Err(CatalogError::Io { .. })
    ));

    Repository::init(&dir.path().join("r")).expect("init");
    Repository::open(&dir.path().join("r")).expect("open after init");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok(&'static str),
    Invalid,
    Escapes,
}

#[test]
fn resolve_accepts_plain_paths_and_refuses_malformed_ones() {
    let (_dir, repo) = repo();
    let cases: &[(&str, &str, Expect)] = &[
        ("1_BaseImages", "a.wim", Expect::Ok("1_BaseImages/a.wim")),
        (
            "1_BaseImages",
            "sub/dir/a.wim",
            Expect::Ok("1_BaseImages/sub/dir/a.wim"),
        ),
        ("1_BaseImages", "./a.wim", Expect::Ok("1_BaseImages/a.wim")),
        (
            "1_BaseImages",
            "sub//a.wim",
            Expect::Ok("1_BaseImages/sub/a.wim"),
        ),
        (
            "5_AnswerFiles",
            "X13SAW/WIN11_24H2/autounattend.xml",
            Expect::Ok("5_AnswerFiles/X13SAW/WIN11_24H2/autounattend.xml"),
        ),
        (
            "8_Output",
            "not/yet/there",
            Expect::Ok("8_Output/not/yet/there"),
        ),
        (
            "1_BaseImages",
            "name with spaces.wim",
            Expect::Ok("1_BaseImages/name with spaces.wim"),
        ),
        ("1_BaseImages", "", Expect::Invalid),
        ("1_BaseImages", "   ", Expect::Invalid),
        ("1_BaseImages", ".", Expect::Invalid),
        ("1_BaseImages", "./", Expect::Invalid),
        ("1_BaseImages", "a\0b.wim", Expect::Invalid),
        ("1_BaseImages", "sub\\a.wim", Expect::Invalid),
        ("1_BaseImages", "..\\a.wim", Expect::Invalid),
        ("1_BaseImages", "bad\nname", Expect::Invalid),
        ("1_BaseImages", "/etc/passwd", Expect::Escapes),
        ("1_BaseImages", "//server/share", Expect::Escapes),
        ("1_BaseImages", "..", Expect::Escapes),
        ("1_BaseImages", "../2_Drivers/x", Expect::Escapes),
        ("1_BaseImages", "sub/../../x", Expect::Escapes),
        ("1_BaseImages", "sub/..", Expect::Escapes),
        ("1_BaseImages", "C:/Windows/a.wim", Expect::Escapes),
        ("1_BaseImages", "c:a.wim", Expect::Escapes),
    ];
    for &(folder, rel, expect) in cases {
        let got = repo.resolve("base_image", folder, rel);
        match (expect, got) {
            (Expect::Ok(want), Ok(path)) => {
                assert_eq!(path, repo.root().join(want), "case {rel:?}")
            }
            (Expect::Invalid, Err(CatalogError::Invalid { field, .. })) => {
                assert_eq!(field, "base_image", "case {rel:?}")
            }
            (Expect::Escapes, Err(CatalogError::Escapes { field, .. })) => {
                assert_eq!(field, "base_image", "case {rel:?}")
            }
            (expect, got) => panic!("case {rel:?}: expected {expect:?}, got {got:?}"),
        }
    }
}

#[test]
fn resolve_refuses_unknown_folders() {
    let (_dir, repo) = repo();
    for folder in ["", "9_Other", "1_baseimages", "..", "1_BaseImages/sub"] {
        let err = repo
            .resolve("base_image", folder, "a.wim")
            .expect_err(folder);
        assert!(
            matches!(
                err,
                CatalogError::Invalid {
                    field: "folder",
                    ..
                }
            ),
            "{folder}: {err:?}"
        );
    }
}

#[test]
fn resolve_refuses_symlinks_that_leave_the_repository() {
    let (dir, repo) = repo();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("secret.wim"), b"x").expect("write");
    let base = repo.root().join("1_BaseImages");
    std::os::unix::fs::symlink(&outside, base.join("escape")).expect("symlink dir");
    std::os::unix::fs::symlink(outside.join("secret.wim"), base.join("secret.wim"))
        .expect("symlink file");
    std::os::unix::fs::symlink("../../outside", base.join("relative")).expect("relative symlink");
    std::fs::create_dir_all(repo.root().join("7_Tools/inside")).expect("mkdir");
    std::os::unix::fs::symlink(repo.root().join("7_Tools/inside"), base.join("inside"))
        .expect("symlink inside");
    std::os::unix::fs::symlink(base.join("missing-target"), base.join("dangling"))
        .expect("dangling");

    for rel in [
        "escape",
        "escape/secret.wim",
        "escape/new.wim",
        "secret.wim",
        "relative/secret.wim",
    ] {
        let err = repo
            .resolve("base_image", "1_BaseImages", rel)
            .expect_err(rel);
        assert!(
            matches!(
                err,
                CatalogError::Escapes {
                    field: "base_image",
                    ..
                }
            ),
            "{rel}: {err:?}"
        );
    }
    assert_eq!(
        repo.resolve("base_image", "1_BaseImages", "inside/a.wim")
            .expect("inside link"),
        base.join("inside/a.wim")
    );
    assert!(matches!(
        repo.resolve("base_image", "1_BaseImages", "dangling/a.wim"),
        Err(CatalogError::Invalid {
            field: "base_image",
            ..
        })
    ));
}

#[test]
fn resolve_refuses_a_top_folder_that_is_a_symlink_out_of_the_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    std::fs::create_dir_all(&root).expect("mkdir");
    let outside = dir.path().join("elsewhere");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::os::unix::fs::symlink(&outside, root.join("1_BaseImages")).expect("symlink");
    let repo = Repository::init(&root).expect("init");
    assert!(matches!(
        repo.resolve("base_image", "1_BaseImages", "a.wim"),
        Err(CatalogError::Escapes {
            field: "base_image",
            ..
        })
    ));
}

#[test]
fn answer_files_lists_xml_files_with_repository_relative_paths() {
    let (_dir, repo) = repo();
    let root = repo.root();
    for rel in [
        "5_AnswerFiles/X13SAW/WIN11_24H2/autounattend.xml",
        "5_AnswerFiles/A/WIN10_21H2/Unattend.XML",
        "5_AnswerFiles/X13SAW/WIN11_24H2/notes.txt",
        "5_AnswerFiles/top.xml",
    ] {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b"<unattend/>").expect("write");
    }
    assert_eq!(
        repo.answer_files().expect("answer files"),
        vec![
            "5_AnswerFiles/A/WIN10_21H2/Unattend.XML",
            "5_AnswerFiles/X13SAW/WIN11_24H2/autounattend.xml",
            "5_AnswerFiles/top.xml",
        ]
    );
}

#[test]
fn answer_files_is_empty_when_the_folder_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::open(dir.path()).expect("open");
    assert!(repo.answer_files().expect("list").is_empty());
    assert!(repo.base_images().expect("list").is_empty());
    assert!(repo.motherboards().expect("list").is_empty());
}

#[test]
fn hash_file_matches_sha256sum_and_reports_missing_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data.bin");
    // Bigger than the 1 MiB read buffer, so several reads are needed.
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 17)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    std::fs::write(&path, &data).expect("write");
    let hashed = hash_file(&path).expect("hash");
    assert_eq!(hashed.size, data.len() as u64);
    assert_eq!(hashed.path, path);
    let oracle = std::process::Command::new("sha256sum")
        .arg(&path)
        .output()
        .expect("sha256sum");
    let oracle = String::from_utf8_lossy(&oracle.stdout);
    assert_eq!(
        oracle.split_whitespace().next(),
        Some(hashed.sha256.as_str())
    );

    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").expect("write");
    assert_eq!(
        hash_file(&empty).expect("hash").sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );

    let err = hash_file(Path::new("/nonexistent/file.wim")).expect_err("missing");
    assert!(matches!(err, CatalogError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/file.wim"));
}
