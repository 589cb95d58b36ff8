//! More bad input: a WIM with zero images, a WIM whose XML is damaged, and a path that
//! cannot be read as a file. Each gives a typed error naming the file, never a panic.

mod common;

use wait_wim::{Compression, ImageSelector, Wim, WimError, WriteOptions};

#[test]
fn wim_with_zero_images_opens_and_refuses_image_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wim");
    Wim::create_new(Compression::Lzx)
        .unwrap()
        .write(&path, ImageSelector::All, &WriteOptions::default())
        .unwrap();
    let info = common::imagex_info(&path, None);
    assert_eq!(info.get("Image Count").map(String::as_str), Some("0"));

    let wim = Wim::open(&path).unwrap();
    assert_eq!(wim.image_count(), 0);
    assert!(matches!(
        wim.image_info(1),
        Err(WimError::NoSuchImage { image: 1, count: 0 })
    ));
    assert!(matches!(
        wim.files(1, "/"),
        Err(WimError::NoSuchImage { .. })
    ));
}

/// The XML resource header sits at byte 72 of the WIM header: 7 bytes of size, a flags
/// byte, then the 8-byte offset of the (uncompressed, UTF-16LE) XML.
fn xml_range(bytes: &[u8]) -> (usize, usize) {
    let mut size = [0u8; 8];
    size[..7].copy_from_slice(&bytes[72..79]);
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&bytes[80..88]);
    (
        u64::from_le_bytes(offset) as usize,
        u64::from_le_bytes(size) as usize,
    )
}

#[test]
fn wim_with_damaged_xml_gives_a_corrupt_error_naming_the_file() {
    let f = common::fixture();
    let mut bytes = std::fs::read(&f.wim).unwrap();
    let (offset, size) = xml_range(&bytes);
    assert!(
        offset + size <= bytes.len() && size > 64,
        "XML at {offset}+{size}"
    );
    // Unbalanced tags in the middle of the document.
    let mid = offset + ((size / 2) & !1);
    for (i, unit) in "<<</WIM>>>".encode_utf16().enumerate() {
        bytes[mid + 2 * i..mid + 2 * i + 2].copy_from_slice(&unit.to_le_bytes());
    }
    let bad = f.dir.path().join("badxml.wim");
    std::fs::write(&bad, &bytes).unwrap();
    match Wim::open(&bad) {
        Err(e @ (WimError::Corrupt { .. } | WimError::NotAWim { .. })) => {
            assert!(e.to_string().contains("badxml.wim"), "{e}");
        }
        other => panic!("expected a typed corrupt-file error, got {other:?}"),
    }
}

#[test]
fn a_path_that_cannot_be_read_as_a_file_gives_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Wim::open(dir.path()).unwrap_err();
    assert!(!matches!(err, WimError::Aborted), "{err:?}");
    let shown = err.to_string();
    assert!(!shown.is_empty());
    let fifo = dir.path().join("pipe.wim");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Opening a FIFO for reading would block until a writer appears; give it one that
    // writes nothing useful.
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let _ = std::fs::write(&fifo, b"not a wim");
        }
    });
    let err = Wim::open(&fifo).unwrap_err();
    writer.join().unwrap();
    assert!(
        matches!(
            err,
            WimError::NotAWim { .. } | WimError::Corrupt { .. } | WimError::Library { .. }
        ),
        "{err:?}"
    );
}
