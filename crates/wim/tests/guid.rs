//! Pinning the WIM GUID, and byte-identical output with `write_deterministic`.

mod common;

use common::*;
use wait_wim::{Compression, ImageSelector, Wim, WriteOptions};

const GUID: [u8; 16] = *b"WAIT-pinned-guid";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One in-memory WIM with the fixture tree as image 1.
fn new_wim(dir: &std::path::Path) -> Wim<'static> {
    let src = dir.join("src");
    if !src.exists() {
        make_tree(&src);
    }
    let mut wim = Wim::create_new(Compression::Lzx).expect("new");
    wim.add_image(&src, "one").expect("add");
    wim
}

#[test]
fn pinned_guid_is_the_one_written_and_shown_by_wimlib_imagex() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wim = new_wim(dir.path());
    wim.set_guid(GUID).expect("set guid");
    for name in ["a.wim", "b.wim"] {
        let out = dir.path().join(name);
        wim.write(&out, ImageSelector::All, &WriteOptions::default())
            .expect("write");
        assert_eq!(imagex_info(&out, None)["GUID"], format!("0x{}", hex(&GUID)));
        assert_eq!(Wim::open(&out).expect("open").info().guid, GUID);
    }
}

#[test]
fn without_a_pinned_guid_each_write_draws_a_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wim = new_wim(dir.path());
    let (a, b) = (dir.path().join("a.wim"), dir.path().join("b.wim"));
    wim.write(&a, ImageSelector::All, &WriteOptions::default())
        .expect("write");
    wim.write(&b, ImageSelector::All, &WriteOptions::default())
        .expect("write");
    assert_ne!(imagex_info(&a, None)["GUID"], imagex_info(&b, None)["GUID"]);
}

#[test]
fn plain_writes_of_one_handle_with_a_pinned_guid_are_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wim = new_wim(dir.path());
    wim.set_guid(GUID).expect("set guid");
    let (a, b) = (dir.path().join("a.wim"), dir.path().join("b.wim"));
    wim.write(&a, ImageSelector::All, &WriteOptions::default())
        .expect("write");
    // LASTMODIFICATIONTIME has 100 ns resolution; make sure the clock moved.
    std::thread::sleep(std::time::Duration::from_millis(20));
    wim.write(&b, ImageSelector::All, &WriteOptions::default())
        .expect("write");
    // The image times were taken when the image was added, so nothing else varies.
    assert!(std::fs::read(&a).expect("read") == std::fs::read(&b).expect("read"));
}

#[test]
fn two_captures_of_the_same_tree_differ_in_the_xml_times_without_pinning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut xmls = Vec::new();
    for name in ["a.wim", "b.wim"] {
        let mut wim = new_wim(dir.path());
        wim.set_guid(GUID).expect("set guid");
        let out = dir.path().join(name);
        wim.write(&out, ImageSelector::All, &WriteOptions::default())
            .expect("write");
        xmls.push(Wim::open(&out).expect("open").xml().expect("xml"));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let times = |s: &str| {
        let start = s.find("<CREATIONTIME>").expect("tag");
        let end = s.find("</LASTMODIFICATIONTIME>").expect("tag");
        s[start..end].to_owned()
    };
    assert_ne!(times(&xmls[0]), times(&xmls[1]));
}

#[test]
fn deterministic_writes_are_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let filetime = 0x01D0_0000_0000_0000u64;
    let mut outs = Vec::new();
    for (i, threads) in [(0, 1), (1, 2)] {
        // A fresh handle each time: the same content, captured twice. Capturing reads
        // the files and so may move their access times: reset all times first.
        let src = dir.path().join("src");
        if !src.exists() {
            make_tree(&src);
        }
        let status = std::process::Command::new("find")
            .arg(&src)
            .args(["-exec", "touch", "-h", "-d", "@1600000000", "{}", "+"])
            .status()
            .expect("run find");
        assert!(status.success());
        let mut wim = new_wim(dir.path());
        let out = dir.path().join(format!("{i}.wim"));
        let opts = WriteOptions {
            threads,
            ..WriteOptions::default()
        };
        wim.write_deterministic(&out, ImageSelector::All, &opts, GUID, filetime)
            .expect("write");
        assert!(imagex_verify_ok(&out));
        assert_eq!(imagex_info(&out, None)["GUID"], format!("0x{}", hex(&GUID)));
        outs.push(std::fs::read(&out).expect("read"));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(outs[0] == outs[1], "outputs differ");
    let xml = Wim::open(&dir.path().join("0.wim"))
        .expect("open")
        .xml()
        .expect("xml");
    assert!(
        xml.contains(
            "<LASTMODIFICATIONTIME><HIGHPART>0x01D00000</HIGHPART><LOWPART>0x00000000</LOWPART>"
        ),
        "{xml}"
    );
}
