//! Extracting single files.

mod common;

use common::*;
use wait_wim::{Wim, WimError};

#[test]
fn extract_file_lands_in_dest_dir_with_source_bytes() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let dest = fx.dir.path().join("out");
    std::fs::create_dir_all(&dest).expect("mkdir");
    for (in_image, host) in [
        ("/nested/deeper/random.bin", "nested/deeper/random.bin"),
        ("/readme.txt", "readme.txt"),
        ("/empty.bin", "empty.bin"),
    ] {
        let got = wim.extract_file(1, in_image, &dest).expect(in_image);
        assert_eq!(got.parent(), Some(dest.as_path()));
        assert_eq!(got.file_name(), std::path::Path::new(host).file_name());
        assert_eq!(
            std::fs::read(&got).expect("read"),
            std::fs::read(fx.src.join(host)).expect("read src")
        );
    }
}

#[test]
fn extract_of_missing_path_is_path_not_in_image() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let dest = fx.dir.path().join("out");
    std::fs::create_dir_all(&dest).expect("mkdir");
    let err = wim
        .extract_file(1, "/Windows/System32/nope.dll", &dest)
        .expect_err("must fail");
    assert!(
        matches!(&err, WimError::PathNotInImage { path } if path == "/Windows/System32/nope.dll"),
        "{err:?}"
    );
}

#[test]
fn extract_of_root_is_invalid_argument() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    assert!(matches!(
        wim.extract_file(1, "/", fx.dir.path()),
        Err(WimError::InvalidArgument(_))
    ));
}
