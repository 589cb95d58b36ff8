//! Typed errors for bad input files, names and numbers.

mod common;

use common::*;
use wait_wim::{Wim, WimError};

#[test]
fn random_bytes_give_not_a_wim_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("random.wim");
    std::fs::write(&path, random_bytes(4096, 3)).expect("write");
    let err = Wim::open(&path).expect_err("must fail");
    assert!(
        matches!(&err, WimError::NotAWim { path: p, .. } if *p == path),
        "{err:?}"
    );
}

#[test]
fn text_file_gives_not_a_wim_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.wim");
    std::fs::write(&path, "this is a text file, not a WIM\n".repeat(20)).expect("write");
    let err = Wim::open(&path).expect_err("must fail");
    match err {
        WimError::NotAWim { message, .. } => assert!(!message.is_empty()),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn truncated_wim_gives_corrupt_error() {
    let fx = fixture();
    let bytes = std::fs::read(&fx.wim).expect("read");
    let cut = fx.dir.path().join("cut.wim");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let err = Wim::open(&cut).expect_err("must fail");
    assert!(
        matches!(err, WimError::Corrupt { .. } | WimError::NotAWim { .. }),
        "{err:?}"
    );

    let header_only = fx.dir.path().join("header.wim");
    std::fs::write(&header_only, &bytes[..100]).expect("write");
    let err = Wim::open(&header_only).expect_err("must fail");
    assert!(
        matches!(err, WimError::Corrupt { .. } | WimError::NotAWim { .. }),
        "{err:?}"
    );
}

#[test]
fn damaged_file_data_fails_verify_with_corrupt_error() {
    let fx = fixture();
    let mut bytes = std::fs::read(&fx.wim).expect("read");
    // File data starts right after the 208-byte header; flip bytes inside it.
    for b in &mut bytes[300..340] {
        *b ^= 0xff;
    }
    let bad = fx.dir.path().join("bad.wim");
    std::fs::write(&bad, &bytes).expect("write");
    let mut wim = Wim::open(&bad).expect("header and tables are intact");
    let err = wim.verify().expect_err("must fail");
    assert!(matches!(err, WimError::Corrupt { .. }), "{err:?}");
}

#[test]
fn missing_file_gives_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("absent.wim");
    let err = Wim::open(&path).expect_err("must fail");
    assert!(
        matches!(&err, WimError::NotFound { path: p } if *p == path),
        "{err:?}"
    );
    assert!(matches!(
        Wim::open_checked(&path),
        Err(WimError::NotFound { .. })
    ));
}

#[test]
fn bad_property_names_are_rejected_before_libwim() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    for name in [
        "",
        "/NAME",
        "NAME/",
        "A//B",
        "A B",
        "1ABC",
        "A<B",
        "NAME\0",
        "A[0]",
        "WINDOWS/LANGUAGES/LANGUAGE[x]",
    ] {
        assert!(
            matches!(wim.image_property(1, name), Err(WimError::InvalidPropertyName(n)) if n == name),
            "get {name:?}"
        );
        assert!(
            matches!(wim.set_image_property(1, name, "v"), Err(WimError::InvalidPropertyName(n)) if n == name),
            "set {name:?}"
        );
    }
    assert!(matches!(
        wim.set_image_property(1, "NAME", "a\0b"),
        Err(WimError::InvalidArgument(_))
    ));
    // Nothing above reached the XML.
    assert_eq!(
        wim.image_property(1, "NAME").expect("name"),
        Some("Base".to_owned())
    );
}

#[test]
fn image_zero_and_count_plus_one_give_no_such_image() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let count = wim.image_count();
    for image in [0, count + 1] {
        let expect = |r: &WimError| matches!(r, WimError::NoSuchImage { image: i, count: c } if *i == image && *c == count);
        assert!(expect(&wim.image_info(image).expect_err("info")), "{image}");
        assert!(expect(
            &wim.image_property(image, "NAME").expect_err("prop")
        ));
        assert!(expect(
            &wim.set_image_property(image, "NAME", "x").expect_err("set")
        ));
        assert!(expect(&wim.files(image, "/").expect_err("files")));
        assert!(expect(
            &wim.extract_file(image, "/readme.txt", fx.dir.path())
                .expect_err("extract")
        ));
        assert!(expect(&wim.update_image(image, &[]).expect_err("update")));
    }
}

#[test]
fn listing_a_missing_path_gives_path_not_in_image() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let err = wim.files(1, "/no/such/dir").expect_err("must fail");
    assert!(
        matches!(&err, WimError::PathNotInImage { path } if path == "/no/such/dir"),
        "{err:?}"
    );
}

#[test]
fn errors_display_libwim_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("junk.wim");
    std::fs::write(&path, b"junk").expect("write");
    let text = Wim::open(&path).expect_err("must fail").to_string();
    assert!(text.contains("junk.wim"), "{text}");
}
