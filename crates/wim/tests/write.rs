//! Writing with each compression type, integrity tables, verification.

mod common;

use common::*;
use wait_wim::{Compression, ImageSelector, Wim, WimError, WriteOptions};

#[test]
fn verify_passes_on_a_good_wim() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.verify().expect("verify");
}

#[test]
fn write_with_each_compression_is_reported_by_wimlib_imagex() {
    let fx = fixture();
    for c in [
        Compression::None,
        Compression::Xpress,
        Compression::Lzx,
        Compression::Lzms,
    ] {
        let out = fx.dir.path().join(format!("{c:?}.wim"));
        let mut wim = Wim::open(&fx.wim).expect("open");
        let opts = WriteOptions {
            compression: Some(c),
            threads: 2,
            recompress: true,
            ..Default::default()
        };
        wim.write(&out, ImageSelector::All, &opts).expect("write");
        assert_eq!(
            imagex_info(&out, None)["Compression"],
            imagex_compression_name(c),
            "{c:?}"
        );
        assert!(imagex_verify_ok(&out), "{c:?}");
        let mut back = Wim::open(&out).expect("reopen");
        assert_eq!(back.info().compression, c);
        back.verify().expect("verify");
    }
}

#[test]
fn write_one_image_of_two() {
    let fx = fixture();
    imagex_append(&fx.src, &fx.wim, "Second");
    let out = fx.dir.path().join("one.wim");
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.write(&out, ImageSelector::One(2), &WriteOptions::default())
        .expect("write");
    let cli = imagex_info(&out, None);
    assert_eq!(cli["Image Count"], "1");
    assert_eq!(imagex_info(&out, Some(1))["Name"], "Second");
    assert!(matches!(
        wim.write(&out, ImageSelector::One(3), &WriteOptions::default()),
        Err(WimError::NoSuchImage { image: 3, count: 2 })
    ));
}

#[test]
fn check_integrity_writes_an_integrity_table() {
    let fx = fixture();
    let out = fx.dir.path().join("int.wim");
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.write(
        &out,
        ImageSelector::All,
        &WriteOptions {
            check_integrity: true,
            ..Default::default()
        },
    )
    .expect("write");
    assert!(Wim::open(&out).expect("open").info().has_integrity_table);
    assert!(imagex_info(&out, None)["Attributes"].contains("Integrity info"));
}

#[test]
fn new_wim_with_added_image_writes_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_tree(&src);
    let out = dir.path().join("new.wim");
    let mut wim = Wim::create_new(Compression::Xpress).expect("create");
    wim.add_image(&src, "One").expect("add");
    wim.add_image(&src, "Two").expect("add");
    wim.set_output_chunk_size(65536).expect("chunk size");
    wim.write(&out, ImageSelector::All, &WriteOptions::default())
        .expect("write");
    let cli = imagex_info(&out, None);
    assert_eq!(cli["Image Count"], "2");
    assert_eq!(cli["Chunk Size"], "65536 bytes");
    assert!(imagex_verify_ok(&out));
    // Name collisions are reported by libwim.
    assert!(matches!(
        wim.add_image(&src, "One"),
        Err(WimError::Library { .. })
    ));
}
