//! Capturing host directories and listing image contents.

mod common;

use common::*;
use wait_wim::{Compression, FILE_ATTRIBUTE_DIRECTORY, Wim};

#[test]
fn capture_writes_a_wim_that_wimlib_imagex_lists_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_tree(&src);
    let out = dir.path().join("captured.wim");
    wait_wim::capture(&src, &out, "Captured", Compression::Lzx).expect("capture");

    let expected: Vec<String> = {
        let mut v: Vec<String> = TREE.iter().map(|(p, _)| (*p).to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(imagex_dir(&out, 1), expected);
    assert!(imagex_verify_ok(&out));
    let cli = imagex_info(&out, None);
    assert_eq!(cli["Compression"], "LZX");
    assert_eq!(imagex_info(&out, Some(1))["Name"], "Captured");
}

#[test]
fn files_match_source_tree_sizes_and_sha1sum() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let files = wim.files(1, "/").expect("files");

    // The root comes first, then everything below it.
    assert_eq!(files[0].path, "/");
    assert!(files[0].is_directory);
    let mut paths: Vec<(&str, bool)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.is_directory))
        .collect();
    paths.sort();
    let mut expected = TREE.to_vec();
    expected.sort();
    assert_eq!(paths, expected);

    for f in &files {
        assert_eq!(f.is_directory, f.attributes & FILE_ATTRIBUTE_DIRECTORY != 0);
        if f.is_directory {
            assert_eq!(f.sha1, [0; 20], "{}", f.path);
            continue;
        }
        let host = fx.src.join(f.path.trim_start_matches('/'));
        let len = std::fs::metadata(&host).expect("stat").len();
        assert_eq!(f.size, len, "{}", f.path);
        if len == 0 {
            assert_eq!(f.sha1, [0; 20], "empty file {}", f.path);
        } else {
            assert_eq!(f.sha1, sha1sum(&host), "{}", f.path);
        }
    }
}

#[test]
fn files_under_a_subdirectory_start_with_that_directory() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let files = wim.files(1, "/nested").expect("files");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths[0], "/nested");
    let mut rest = paths[1..].to_vec();
    rest.sort();
    assert_eq!(
        rest,
        vec![
            "/nested/deeper",
            "/nested/deeper/random.bin",
            "/nested/notes.txt"
        ]
    );
}

#[test]
fn for_each_file_stops_when_closure_returns_false() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let mut seen = 0;
    wim.for_each_file(1, "/", |_| {
        seen += 1;
        seen < 3
    })
    .expect("early stop is success");
    assert_eq!(seen, 3);
}

#[test]
fn panic_in_for_each_file_closure_reaches_the_caller() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = wim.for_each_file(1, "/", |e| {
            if e.path == "/readme.txt" {
                panic!("visitor exploded");
            }
            true
        });
    }));
    let payload = result.expect_err("panic must propagate");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"visitor exploded"));
    // The handle is still usable afterwards.
    assert_eq!(wim.files(1, "/").expect("files").len(), TREE.len());
}

#[test]
fn files_of_freshly_added_image_are_listed_before_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_tree(&src);
    let mut wim = Wim::create_new(Compression::Xpress).expect("create");
    let index = wim.add_image(&src, "Fresh").expect("add");
    assert_eq!(index, 1);
    let files = wim.files(1, "/").expect("files");
    assert_eq!(files.len(), TREE.len());
    let readme = files
        .iter()
        .find(|f| f.path == "/readme.txt")
        .expect("readme");
    assert_eq!(
        readme.size,
        std::fs::metadata(src.join("readme.txt"))
            .expect("stat")
            .len()
    );
}

#[test]
fn add_image_of_missing_or_non_directory_source_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wim = Wim::create_new(Compression::Lzx).expect("create");
    let missing = dir.path().join("nope");
    assert!(
        matches!(wim.add_image(&missing, "x"), Err(wait_wim::WimError::NotFound { path }) if path == missing)
    );
    let file = dir.path().join("file.txt");
    std::fs::write(&file, "x").expect("write");
    assert!(matches!(
        wim.add_image(&file, "x"),
        Err(wait_wim::WimError::InvalidArgument(_))
    ));
}
