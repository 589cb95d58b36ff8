//! Exporting several images into one WIM: shared data is stored once.

mod common;

use common::*;
use wait_wim::{Compression, ImageSelector, Wim, WriteOptions};

/// A WIM with two images that share almost all data (one changed file).
fn two_similar_images(dir: &std::path::Path) -> std::path::PathBuf {
    let a = dir.join("a");
    make_big_tree(&a, 3);
    let b = dir.join("b");
    make_big_tree(&b, 3);
    std::fs::write(b.join("small.txt"), "changed\n").expect("write");
    let wim = dir.join("two.wim");
    imagex_capture(&a, &wim, "First");
    imagex_append(&b, &wim, "Second");
    wim
}

fn size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).expect("stat").len()
}

#[test]
fn exporting_two_images_with_shared_files_is_barely_bigger_than_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = two_similar_images(dir.path());
    let source = Wim::open(&src).expect("open");

    let mut one = Wim::create_new(Compression::Lzx).expect("new");
    one.export_image_from(&source, 1, None).expect("export one");
    let one_path = dir.path().join("one.wim");
    one.write(&one_path, ImageSelector::All, &WriteOptions::default())
        .expect("write one");

    let mut both = Wim::create_new(Compression::Lzx).expect("new");
    let indexes = both
        .export_images_from(&source, &[1, 2])
        .expect("export both");
    assert_eq!(indexes, vec![1, 2]);
    let both_path = dir.path().join("both.wim");
    both.write(&both_path, ImageSelector::All, &WriteOptions::default())
        .expect("write both");

    let (s1, s2) = (size(&one_path), size(&both_path));
    assert!(s2 < s1 + 64 * 1024, "one image {s1}, two images {s2}");
    let info = imagex_info(&both_path, None);
    assert_eq!(info["Image Count"], "2");
    assert_eq!(imagex_info(&both_path, Some(1))["Name"], "First");
    assert_eq!(imagex_info(&both_path, Some(2))["Name"], "Second");
    assert!(imagex_verify_ok(&both_path));
}

#[test]
fn export_all_images_copies_every_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = two_similar_images(dir.path());
    let source = Wim::open(&src).expect("open");
    let mut dest = Wim::create_new(Compression::Xpress).expect("new");
    assert_eq!(
        dest.export_all_images_from(&source).expect("export"),
        vec![1, 2]
    );
    let out = dir.path().join("all.wim");
    dest.write(&out, ImageSelector::All, &WriteOptions::default())
        .expect("write");
    assert_eq!(imagex_info(&out, None)["Image Count"], "2");
}
