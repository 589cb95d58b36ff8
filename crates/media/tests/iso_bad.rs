//! Hostile and broken input: every case ends in a typed error that names the
//! file, never a panic, a huge allocation or a hang.

mod common;

use std::path::Path;

use common::udf_builder::{self, BLOCK, Node, Opts, refresh_checksum};
use common::*;
use wait_media::MediaError;
use wait_media::iso::IsoImage;

fn small_udf(path: &Path, opts: &Opts) -> udf_builder::Layout {
    let tree = vec![
        Node::Dir(
            "sources".into(),
            vec![Node::File("install.wim".into(), pseudo_random(10_000, 1))],
        ),
        Node::Dir("a".into(), vec![Node::File("f".into(), b"f".to_vec())]),
    ];
    udf_builder::build(path, "SMALL", tree, opts)
}

fn expect_err(path: &Path, what: &str) -> MediaError {
    let err = match IsoImage::open(path) {
        Ok(img) => {
            // Opening may legitimately succeed for a cut in padding; then reading must work.
            panic!(
                "{what}: opened unexpectedly with {} entries",
                img.list().len()
            )
        }
        Err(e) => e,
    };
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        err.to_string().contains(name),
        "{what}: error does not name the file: {err}"
    );
    err
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    let mut d = std::fs::read(path).expect("read");
    d[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, d).expect("write");
}

/// Edits a tagged descriptor at `at` and fixes its checksum.
fn patch_tagged(path: &Path, tag_at: u64, field: u64, bytes: &[u8]) {
    let mut d = std::fs::read(path).expect("read");
    let f = (tag_at + field) as usize;
    d[f..f + bytes.len()].copy_from_slice(bytes);
    refresh_checksum(&mut d[tag_at as usize..tag_at as usize + 16]);
    std::fs::write(path, d).expect("write");
}

#[test]
fn not_an_iso_and_empty() {
    let dir = tmp();
    let p = path_in(&dir, "random.bin");
    std::fs::write(&p, pseudo_random(100_000, 3)).expect("write");
    assert!(matches!(
        expect_err(&p, "random"),
        MediaError::NotAnIso { .. }
    ));
    let p = path_in(&dir, "empty.iso");
    std::fs::write(&p, b"").expect("write");
    assert!(matches!(
        expect_err(&p, "empty"),
        MediaError::NotAnIso { .. }
    ));
    let p = path_in(&dir, "missing.iso");
    assert!(matches!(expect_err(&p, "missing"), MediaError::Io { .. }));
}

#[test]
fn truncated_images() {
    let dir = tmp();
    let src = path_in(&dir, "tree");
    windows_tree(&src);
    for (tool, iso) in [
        ("genisoimage", path_in(&dir, "udf.iso")),
        ("xorriso", path_in(&dir, "j.iso")),
    ] {
        if tool == "genisoimage" {
            genisoimage_udf(&src, &iso, "T");
        } else {
            xorriso_joliet(&src, &iso, "T", &[]);
        }
        let full = std::fs::read(&iso).expect("read");
        for cut in [
            100,
            16 * 2048 + 10,
            20 * 2048,
            257 * 2048,
            full.len() / 2,
            full.len() - 2048,
        ] {
            let p = path_in(&dir, &format!("cut_{tool}_{cut}.iso"));
            std::fs::write(&p, &full[..cut]).expect("write");
            let err = expect_err(&p, &format!("{tool} cut at {cut}"));
            assert!(
                matches!(
                    err,
                    MediaError::NotAnIso { .. }
                        | MediaError::Truncated { .. }
                        | MediaError::Corrupt { .. }
                ),
                "{err:?}"
            );
        }
    }
}

#[test]
fn udf_anchor_and_extents_past_the_end() {
    let dir = tmp();
    let p = path_in(&dir, "anchor.iso");
    let layout = small_udf(&p, &Opts::default());
    for a in &layout.anchors {
        // Main and reserve sequences far beyond the file.
        patch_tagged(&p, *a, 20, &0x7FFF_FFF0u32.to_le_bytes());
        patch_tagged(&p, *a, 28, &0x7FFF_FFF0u32.to_le_bytes());
    }
    assert!(matches!(
        expect_err(&p, "anchor"),
        MediaError::Corrupt { .. }
    ));

    let p = path_in(&dir, "extent.iso");
    let layout = small_udf(&p, &Opts::default());
    // The root directory's data extent pointing at a block far outside.
    patch_tagged(&p, layout.root_fe, 176 + 4, &0x0FFF_FFFFu32.to_le_bytes());
    assert!(matches!(
        expect_err(&p, "extent"),
        MediaError::Corrupt { .. }
    ));
}

#[test]
fn directory_loops() {
    let dir = tmp();
    let p = path_in(&dir, "loop.iso");
    udf_builder::build(
        &p,
        "LOOP",
        vec![Node::LoopToParent("again".into())],
        &Opts::default(),
    );
    let err = expect_err(&p, "self loop");
    assert!(err.to_string().contains("loop"), "{err}");
    let p = path_in(&dir, "loop2.iso");
    udf_builder::build(
        &p,
        "LOOP",
        vec![Node::Dir(
            "a".into(),
            vec![Node::Dir("b".into(), vec![Node::LoopToParent("up".into())])],
        )],
        &Opts::default(),
    );
    assert!(expect_err(&p, "nested loop").to_string().contains("loop"));

    // ISO 9660: a subdirectory record pointing at the root extent.
    let src = path_in(&dir, "tree");
    write(&src, "sub/x.txt", b"x");
    let iso = path_in(&dir, "iso_loop.iso");
    xorriso_joliet(&src, &iso, "L", &[]);
    let mut d = std::fs::read(&iso).expect("read");
    for vd in [16usize, 17] {
        let root = vd * 2048 + 156;
        let root_loc = u32::from_le_bytes(d[root + 2..root + 6].try_into().expect("4"));
        // Find the "SUB" record in that root directory and aim it at the root.
        let dir_at = root_loc as usize * 2048;
        let mut pos = dir_at;
        while d[pos] != 0 {
            let len = d[pos] as usize;
            if d[pos + 25] & 2 != 0 && d[pos + 32] > 1 {
                d[pos + 2..pos + 6].copy_from_slice(&root_loc.to_le_bytes());
            }
            pos += len;
        }
    }
    std::fs::write(&iso, d).expect("write");
    assert!(expect_err(&iso, "iso loop").to_string().contains("loop"));
}

#[test]
fn absurd_lengths() {
    let dir = tmp();
    // A FID whose implementation-use length runs far past the directory.
    let p = path_in(&dir, "fid.iso");
    let layout = small_udf(&p, &Opts::default());
    patch_tagged(&p, layout.root_data + 40, 36, &0xFFFFu16.to_le_bytes());
    assert!(matches!(expect_err(&p, "fid"), MediaError::Corrupt { .. }));

    // A root directory claiming 1 TB.
    let p = path_in(&dir, "dir1tb.iso");
    let layout = small_udf(&p, &Opts::default());
    patch_tagged(&p, layout.root_fe, 56, &(1u64 << 40).to_le_bytes());
    assert!(matches!(
        expect_err(&p, "1 TB dir"),
        MediaError::Corrupt { .. }
    ));

    // Allocation descriptors longer than the file entry.
    let p = path_in(&dir, "adlen.iso");
    let layout = small_udf(&p, &Opts::default());
    patch_tagged(&p, layout.root_fe, 172, &u32::MAX.to_le_bytes());
    assert!(matches!(expect_err(&p, "L_AD"), MediaError::Corrupt { .. }));

    // ISO 9660: a directory record whose name runs past the record, and a
    // root directory of 4 GiB.
    let src = path_in(&dir, "tree");
    write(&src, "README.TXT", b"x");
    let iso = path_in(&dir, "rec.iso");
    xorriso_joliet(&src, &iso, "R", &[]);
    let d = std::fs::read(&iso).expect("read");
    let root_loc =
        u32::from_le_bytes(d[16 * 2048 + 158..16 * 2048 + 162].try_into().expect("4")) as u64;
    let jroot_loc =
        u32::from_le_bytes(d[17 * 2048 + 158..17 * 2048 + 162].try_into().expect("4")) as u64;
    for loc in [root_loc, jroot_loc] {
        // Third record (after . and ..) gets a name length of 200.
        let at = loc * BLOCK;
        let first = d[at as usize] as u64;
        let second = d[(at + first) as usize] as u64;
        patch(&iso, at + first + second + 32, &[200]);
    }
    assert!(matches!(
        expect_err(&iso, "name length"),
        MediaError::Corrupt { .. }
    ));
    let iso2 = path_in(&dir, "rootsize.iso");
    std::fs::write(&iso2, &d).expect("write");
    for vd in [16u64, 17] {
        patch(&iso2, vd * 2048 + 156 + 10, &u32::MAX.to_le_bytes());
    }
    assert!(matches!(
        expect_err(&iso2, "root size"),
        MediaError::Corrupt { .. }
    ));
}
