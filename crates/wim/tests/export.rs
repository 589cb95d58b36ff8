//! Exporting images between WIMs.

mod common;

use common::*;
use wait_wim::{Compression, ImageSelector, Wim, WimError, WriteOptions};

#[test]
fn export_one_image_of_two_into_a_new_wim() {
    let fx = fixture();
    let second_src = fx.dir.path().join("src2");
    make_big_tree(&second_src, 1);
    imagex_append(&second_src, &fx.wim, "Second");
    let before = std::fs::read(&fx.wim).expect("read source");
    let out = fx.dir.path().join("exported.wim");

    let src = Wim::open(&fx.wim).expect("open source");
    {
        let mut dest = Wim::create_new(Compression::Lzx).expect("create");
        let index = dest
            .export_image_from(&src, 2, Some("Only"))
            .expect("export");
        assert_eq!(index, 1);
        assert_eq!(dest.image_count(), 1);
        assert_eq!(
            dest.image_property(1, "NAME").expect("name"),
            Some("Only".to_owned())
        );
        // Updating a shared image is refused by libwim, as a typed error, not a crash.
        let cmd = wait_wim::UpdateCommand::Delete {
            path: "/small.txt".to_owned(),
        };
        assert!(matches!(
            dest.update_image(1, &[cmd]),
            Err(WimError::Library { .. })
        ));
        dest.write(&out, ImageSelector::All, &WriteOptions::default())
            .expect("write");
    }
    // The source is still fully usable after the destination is gone.
    assert_eq!(src.image_count(), 2);
    drop(src);

    let cli = imagex_info(&out, None);
    assert_eq!(cli["Image Count"], "1");
    assert_eq!(cli["Compression"], "LZX");
    assert_eq!(imagex_info(&out, Some(1))["Name"], "Only");
    assert_eq!(imagex_dir(&out, 1), vec!["/", "/big.bin", "/small.txt"]);
    assert!(imagex_verify_ok(&out));
    assert_eq!(
        std::fs::read(&fx.wim).expect("reread source"),
        before,
        "source WIM changed"
    );
}

#[test]
fn export_keeps_source_name_when_none_given() {
    let fx = fixture();
    let src = Wim::open(&fx.wim).expect("open");
    let mut dest = Wim::create_new(Compression::Xpress).expect("create");
    dest.export_image_from(&src, 1, None).expect("export");
    assert_eq!(
        dest.image_info(1).expect("info").name.as_deref(),
        Some("Base")
    );
}

#[test]
fn export_of_missing_image_is_no_such_image() {
    let fx = fixture();
    let src = Wim::open(&fx.wim).expect("open");
    let mut dest = Wim::create_new(Compression::Lzx).expect("create");
    assert!(matches!(
        dest.export_image_from(&src, 0, None),
        Err(WimError::NoSuchImage { image: 0, count: 1 })
    ));
    assert!(matches!(
        dest.export_image_from(&src, 2, None),
        Err(WimError::NoSuchImage { image: 2, count: 1 })
    ));
}

#[test]
fn exported_wim_can_be_written_from_another_thread() {
    let fx = fixture();
    let out = fx.dir.path().join("threaded.wim");
    let src = Wim::open(&fx.wim).expect("open");
    let mut dest = Wim::create_new(Compression::Lzx).expect("create");
    dest.export_image_from(&src, 1, Some("T")).expect("export");
    std::thread::scope(|s| {
        let out = &out;
        let handle = s.spawn(move || dest.write(out, ImageSelector::All, &WriteOptions::default()));
        // Meanwhile the source is used on this thread; the crate serialises the two.
        for _ in 0..5 {
            assert_eq!(src.files(1, "/").expect("files").len(), TREE.len());
        }
        handle.join().expect("thread").expect("write");
    });
    assert!(imagex_verify_ok(&out));
}

#[test]
fn writing_onto_the_source_file_is_refused() {
    let fx = fixture();
    let src = Wim::open(&fx.wim).expect("open");
    let mut dest = Wim::create_new(Compression::Lzx).expect("create");
    dest.export_image_from(&src, 1, None).expect("export");
    let err = dest
        .write(&fx.wim, ImageSelector::All, &WriteOptions::default())
        .expect_err("must refuse");
    assert!(matches!(err, WimError::InvalidArgument(_)), "{err:?}");
    assert!(imagex_verify_ok(&fx.wim));
}
