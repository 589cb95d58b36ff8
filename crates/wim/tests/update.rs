//! Updating images (add / delete / rename) and overwriting in place.

mod common;

use common::*;
use wait_wim::{Compression, UpdateCommand, Wim, WimError, WriteOptions};

#[test]
fn add_tree_add_file_delete_and_rename_then_overwrite() {
    let fx = fixture();
    let extra = fx.dir.path().join("extra");
    std::fs::create_dir_all(extra.join("sub")).expect("mkdir");
    std::fs::write(extra.join("sub/driver.inf"), "[Version]\n").expect("write");
    std::fs::write(extra.join("top.txt"), "top\n").expect("write");
    let single = fx.dir.path().join("single.cmd");
    std::fs::write(&single, "echo hi\r\n").expect("write");

    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.update_image(
        1,
        &[
            UpdateCommand::Add {
                source: extra.clone(),
                target: "/Drivers".to_owned(),
            },
            UpdateCommand::Add {
                source: single.clone(),
                target: "/Setup/Scripts/SetupComplete.cmd".to_owned(),
            },
            UpdateCommand::Delete {
                path: "/nested/deeper".to_owned(),
            },
            UpdateCommand::Rename {
                from: "/readme.txt".to_owned(),
                to: "/README.md".to_owned(),
            },
        ],
    )
    .expect("update");
    wim.overwrite(&WriteOptions::default()).expect("overwrite");

    // The handle was reopened on the rewritten file and still works.
    assert_eq!(wim.image_count(), 1);
    assert!(wim.files(1, "/Drivers/sub/driver.inf").is_ok());

    let listing = imagex_dir(&fx.wim, 1);
    let expected = vec![
        "/",
        "/Drivers",
        "/Drivers/sub",
        "/Drivers/sub/driver.inf",
        "/Drivers/top.txt",
        "/README.md",
        "/Setup",
        "/Setup/Scripts",
        "/Setup/Scripts/SetupComplete.cmd",
        "/empty.bin",
        "/emptydir",
        "/nested",
        "/nested/notes.txt",
    ];
    assert_eq!(listing, expected);
    assert!(imagex_verify_ok(&fx.wim));

    let out = fx.dir.path().join("out");
    let got = wim
        .extract_file(1, "/Setup/Scripts/SetupComplete.cmd", &out)
        .expect("extract");
    assert_eq!(std::fs::read(got).expect("read"), b"echo hi\r\n");
}

#[test]
fn adding_a_file_over_an_existing_one_replaces_it() {
    let fx = fixture();
    let replacement = fx.dir.path().join("notes.txt");
    std::fs::write(&replacement, "replaced\n").expect("write");
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.update_image(
        1,
        &[UpdateCommand::Add {
            source: replacement,
            target: "/nested/notes.txt".to_owned(),
        }],
    )
    .expect("update");
    wim.overwrite(&WriteOptions::default()).expect("overwrite");
    let out = fx.dir.path().join("x");
    let path = wim
        .extract_file(1, "/nested/notes.txt", &out)
        .expect("extract");
    assert_eq!(std::fs::read(path).expect("read"), b"replaced\n");
}

#[test]
fn rename_of_missing_path_is_path_not_in_image_and_rolls_back() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let err = wim
        .update_image(
            1,
            &[
                UpdateCommand::Delete {
                    path: "/readme.txt".to_owned(),
                },
                UpdateCommand::Rename {
                    from: "/nope.txt".to_owned(),
                    to: "/yes.txt".to_owned(),
                },
            ],
        )
        .expect_err("must fail");
    assert!(
        matches!(&err, WimError::PathNotInImage { path } if path == "/nope.txt"),
        "{err:?}"
    );
    // All or nothing: the delete was rolled back.
    assert!(wim.files(1, "/readme.txt").is_ok());
}

#[test]
fn delete_of_missing_path_is_not_an_error() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.update_image(
        1,
        &[UpdateCommand::Delete {
            path: "/does/not/exist".to_owned(),
        }],
    )
    .expect("forced delete");
}

#[test]
fn add_from_missing_host_path_is_not_found() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let missing = fx.dir.path().join("missing");
    let err = wim
        .update_image(
            1,
            &[UpdateCommand::Add {
                source: missing.clone(),
                target: "/x".to_owned(),
            }],
        )
        .expect_err("must fail");
    assert!(matches!(err, WimError::NotFound { path } if path == missing));
}

#[test]
fn nul_in_image_path_is_invalid_argument() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let err = wim
        .update_image(
            1,
            &[UpdateCommand::Delete {
                path: "/a\0b".to_owned(),
            }],
        )
        .expect_err("must fail");
    assert!(matches!(err, WimError::InvalidArgument(_)));
}

#[test]
fn overwrite_of_new_in_memory_wim_is_invalid_argument() {
    let mut wim = Wim::create_new(Compression::Lzx).expect("create");
    assert!(matches!(
        wim.overwrite(&WriteOptions::default()),
        Err(WimError::InvalidArgument(_))
    ));
}

#[test]
fn overwrite_can_change_compression() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.overwrite(&WriteOptions {
        compression: Some(Compression::Lzms),
        ..Default::default()
    })
    .expect("overwrite");
    assert_eq!(wim.info().compression, Compression::Lzms);
    assert_eq!(imagex_info(&fx.wim, None)["Compression"], "LZMS");
    assert!(imagex_verify_ok(&fx.wim));
}
