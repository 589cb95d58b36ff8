//! Solid (ESD-style) output and reading solid WIMs with every read API.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use wait_wim::{Compression, ImageSelector, Wim, WimError, WriteOptions};

fn solid_opts() -> WriteOptions {
    WriteOptions {
        solid: true,
        ..WriteOptions::default()
    }
}

/// An ESD made by the independent writer (`wimlib-imagex export --solid`).
fn cli_esd(fx: &Fixture) -> PathBuf {
    let esd = fx.dir.path().join("cli.esd");
    imagex_args([
        "export".as_ref(),
        fx.wim.as_os_str(),
        "1".as_ref(),
        esd.as_os_str(),
        "--solid".as_ref(),
    ]);
    esd
}

/// `info`, `files`, `image_info`, `xml`, `extract_file` and `verify` on a solid WIM.
fn every_read_api_works(esd: &Path, src: &Path) {
    let mut wim = Wim::open(esd).expect("open esd");
    let info = wim.info();
    assert_eq!(info.compression, Compression::Lzms);
    assert_eq!(info.image_count, 1);
    let paths: Vec<String> = wim
        .files(1, "/")
        .expect("files")
        .into_iter()
        .map(|e| e.path)
        .collect();
    for (p, _) in TREE {
        assert!(paths.iter().any(|x| x == p), "{p} missing from {paths:?}");
    }
    assert_eq!(wim.image_info(1).expect("image info").file_count, Some(4));
    assert!(wim.xml().expect("xml").contains("<IMAGE INDEX=\"1\">"));
    let out = tempfile::tempdir().expect("tempdir");
    let got = wim
        .extract_file(1, "/nested/deeper/random.bin", out.path())
        .expect("extract");
    assert_eq!(
        sha1sum(&got),
        sha1sum(&src.join("nested/deeper/random.bin"))
    );
    wim.verify().expect("verify");
}

#[test]
fn an_esd_from_wimlib_imagex_export_solid_reads_with_every_api() {
    let fx = fixture();
    let esd = cli_esd(&fx);
    assert!(imagex_info(&esd, None)["Compression"] == "LZMS");
    every_read_api_works(&esd, &fx.src);
}

#[test]
fn solid_write_makes_an_esd_that_wimlib_imagex_accepts() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let esd = fx.dir.path().join("ours.esd");
    wim.write(&esd, ImageSelector::All, &solid_opts())
        .expect("write solid");
    assert!(imagex_verify_ok(&esd));
    assert_eq!(imagex_info(&esd, None)["Compression"], "LZMS");
    // The header of a solid resource lists it: the CLI prints the blob flags.
    let blobs = imagex_args(["info".as_ref(), esd.as_os_str(), "--blobs".as_ref()]);
    assert!(blobs.contains("WIM_RESHDR_FLAG_SOLID"), "{blobs}");
    every_read_api_works(&esd, &fx.src);
    // And the CLI can apply it.
    let apply = fx.dir.path().join("applied");
    imagex_args([
        "apply".as_ref(),
        esd.as_os_str(),
        "1".as_ref(),
        apply.as_os_str(),
    ]);
    assert_eq!(
        sha1sum(&apply.join("readme.txt")),
        sha1sum(&fx.src.join("readme.txt"))
    );
}

#[test]
fn solid_write_with_a_chunk_size_uses_it() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let esd = fx.dir.path().join("chunk.esd");
    wim.write(
        &esd,
        ImageSelector::All,
        &WriteOptions {
            chunk_size: Some(1 << 20),
            ..solid_opts()
        },
    )
    .expect("write");
    assert!(imagex_verify_ok(&esd));
    // The solid resource header holds the chunk size (u32 after the u64 size).
    let bytes = std::fs::read(&esd).expect("read");
    let at = 208; // first resource directly follows the 208-byte header
    let chunk = u32::from_le_bytes([bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]]);
    assert_eq!(chunk, 1 << 20);
}

#[test]
fn bad_chunk_sizes_are_invalid_arguments_naming_the_value() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let out = fx.dir.path().join("bad.wim");
    for (size, solid, compression) in [
        (3000u32, false, Some(Compression::Lzx)),
        (1 << 14, false, Some(Compression::Lzx)),
        (1 << 22, false, Some(Compression::Lzx)),
        (1 << 17, false, Some(Compression::Xpress)),
        (1 << 31, true, None),
        (12345, true, None),
        (1 << 15, false, Some(Compression::None)),
    ] {
        let opts = WriteOptions {
            chunk_size: Some(size),
            solid,
            compression,
            ..WriteOptions::default()
        };
        match wim.write(&out, ImageSelector::All, &opts) {
            Err(WimError::InvalidArgument(msg)) => {
                assert!(msg.contains(&size.to_string()), "{msg}")
            }
            other => panic!("{size}: unexpected {other:?}"),
        }
        assert!(!out.exists());
    }
}

#[test]
fn valid_non_solid_chunk_sizes_are_written_to_the_header() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    for (c, size) in [
        (Compression::Xpress, 1u32 << 12),
        (Compression::Lzx, 1 << 21),
        (Compression::Lzms, 1 << 20),
    ] {
        let out = fx.dir.path().join(format!("{size}.wim"));
        let opts = WriteOptions {
            compression: Some(c),
            chunk_size: Some(size),
            recompress: true,
            ..WriteOptions::default()
        };
        wim.write(&out, ImageSelector::All, &opts).expect("write");
        assert_eq!(
            imagex_info(&out, None)["Chunk Size"],
            format!("{size} bytes")
        );
        assert!(imagex_verify_ok(&out));
    }
}

#[test]
fn solid_output_without_compression_is_refused() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    let err = wim
        .write(
            &fx.dir.path().join("x.wim"),
            ImageSelector::All,
            &WriteOptions {
                compression: Some(Compression::None),
                ..solid_opts()
            },
        )
        .expect_err("refused");
    assert!(matches!(err, WimError::InvalidArgument(_)), "{err:?}");
}

#[test]
fn writes_with_one_and_two_threads_both_verify() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    for threads in [1, 2] {
        for solid in [false, true] {
            let out = fx.dir.path().join(format!("t{threads}{solid}.wim"));
            let opts = WriteOptions {
                threads,
                solid,
                compression: Some(Compression::Lzms),
                recompress: true,
                ..WriteOptions::default()
            };
            wim.write(&out, ImageSelector::All, &opts).expect("write");
            assert!(imagex_verify_ok(&out), "threads {threads} solid {solid}");
        }
    }
}

#[test]
fn solid_resources_are_told_apart_from_plain_lzms() {
    let fx = fixture();
    let esd = cli_esd(&fx);
    let lzms = fx.dir.path().join("plain-lzms.wim");
    imagex_args([
        "export".as_ref(),
        fx.wim.as_os_str(),
        "1".as_ref(),
        lzms.as_os_str(),
        "--compress=lzms".as_ref(),
    ]);
    // Both carry the same header version; only the blob table tells them apart.
    assert_eq!(
        imagex_info(&esd, None)["Version"],
        imagex_info(&lzms, None)["Version"]
    );
    let solid = |p: &Path| {
        Wim::open(p)
            .expect("open")
            .has_solid_resources()
            .expect("walk")
    };
    assert!(solid(&esd));
    assert!(!solid(&lzms));
    assert!(!solid(&fx.wim));
}
