//! `Wim::open_file`: streaming one file's data, compared byte for byte with
//! `wimlib-imagex extract --to-stdout` for every resource layout.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::*;
use wait_wim::{Wim, WimError};

/// Capture the read tree with the CLI using `extra` options; returns the WIM path.
fn capture_with(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let src = dir.join("src");
    if !src.exists() {
        make_read_tree(&src);
    }
    let wim = dir.join(name);
    let mut args: Vec<std::ffi::OsString> = vec![
        "capture".into(),
        src.into(),
        wim.clone().into(),
        "img".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).into()));
    imagex_args(&args);
    wim
}

fn read_all(wim: &Wim<'_>, path: &str) -> Vec<u8> {
    let mut reader = wim.open_file(1, path).expect("open_file");
    let mut out = Vec::new();
    reader.read_to_end(&mut out).expect("read");
    assert_eq!(out.len() as u64, reader.size());
    out
}

/// Every file of the tree, read through `open_file`, equals the CLI's bytes.
fn check_all(wim_path: &Path) {
    let wim = Wim::open(wim_path).expect("open");
    for path in READ_FILES {
        let ours = read_all(&wim, path);
        let theirs = imagex_cat(wim_path, 1, path, &[]);
        assert!(ours == theirs, "{path} differs in {}", wim_path.display());
    }
}

#[test]
fn reads_match_the_cli_for_an_uncompressed_wim() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(dir.path(), "none.wim", &["--compress=none"]));
}

#[test]
fn reads_match_the_cli_for_xpress() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(
        dir.path(),
        "xpress.wim",
        &["--compress=XPRESS"],
    ));
}

#[test]
fn reads_match_the_cli_for_lzx() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(dir.path(), "lzx.wim", &["--compress=LZX"]));
}

#[test]
fn reads_match_the_cli_for_lzx_with_large_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(
        dir.path(),
        "lzx2m.wim",
        &["--compress=LZX", "--chunk-size=2M"],
    ));
}

#[test]
fn reads_match_the_cli_for_non_solid_lzms() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(dir.path(), "lzms.wim", &["--compress=LZMS"]));
}

#[test]
fn reads_match_the_cli_for_solid_lzms_esd() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(dir.path(), "solid.esd", &["--solid"]));
}

#[test]
fn reads_match_the_cli_for_solid_lzms_with_small_solid_chunks() {
    // Several solid chunks, so blobs start and end inside chunks.
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(
        dir.path(),
        "solid1m.esd",
        &["--solid", "--solid-chunk-size=1M"],
    ));
}

#[test]
fn reads_match_the_cli_for_solid_xpress() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_all(&capture_with(
        dir.path(),
        "solidx.wim",
        &[
            "--solid",
            "--solid-compress=XPRESS",
            "--solid-chunk-size=64K",
        ],
    ));
}

#[test]
fn reads_match_the_cli_for_a_split_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim = capture_with(dir.path(), "base.wim", &["--compress=LZX"]);
    let swm = dir.path().join("set.swm");
    imagex_args([
        "split".as_ref(),
        wim.as_os_str(),
        swm.as_os_str(),
        "1".as_ref(),
    ]);
    let set = Wim::open_split(&swm).expect("open split");
    let glob = dir.path().join("set*.swm");
    for path in READ_FILES {
        let ours = read_all(&set, path);
        let theirs = imagex_cat(&swm, 1, path, &[&glob]);
        assert!(ours == theirs, "{path} differs");
    }
}

#[test]
fn reading_from_a_part_that_was_not_referenced_names_the_missing_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim = capture_with(dir.path(), "base.wim", &["--compress=LZX"]);
    let swm = dir.path().join("set.swm");
    imagex_args([
        "split".as_ref(),
        wim.as_os_str(),
        swm.as_os_str(),
        "1".as_ref(),
    ]);
    // Part 1 alone: the metadata is there, most file data is in later parts.
    let first = Wim::open(&swm).expect("open part 1");
    let mut missing = 0;
    for path in READ_FILES {
        match first.open_file(1, path) {
            Ok(mut reader) => {
                // Data that does live in part 1 (or an empty file) still reads.
                let mut out = Vec::new();
                reader.read_to_end(&mut out).expect("read from part 1");
            }
            Err(WimError::MissingPart { part, path }) => {
                assert!(part >= 2);
                let expected = format!("set{part}.swm");
                assert!(path.to_string_lossy().ends_with(&expected), "{path:?}");
                missing += 1;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(missing >= 1);
}

#[test]
fn reads_files_of_a_wim_written_by_us_with_solid_compression() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_read_tree(&src);
    let mut wim = Wim::create_new(wait_wim::Compression::Lzms).expect("new");
    wim.add_image(&src, "img").expect("add");
    let out = dir.path().join("ours.esd");
    wim.write(
        &out,
        wait_wim::ImageSelector::All,
        &wait_wim::WriteOptions {
            solid: true,
            ..Default::default()
        },
    )
    .expect("write");
    check_all(&out);
}

#[test]
fn small_reads_give_the_same_bytes_as_one_big_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim_path = capture_with(
        dir.path(),
        "solid.esd",
        &["--solid", "--solid-chunk-size=1M"],
    );
    let wim = Wim::open(&wim_path).expect("open");
    let mut reader = wim.open_file(1, "/random.bin").expect("open_file");
    let mut out = Vec::new();
    let mut buf = [0u8; 4093];
    loop {
        let n = reader.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert!(out == imagex_cat(&wim_path, 1, "/random.bin", &[]));
}

#[test]
fn reading_a_directory_is_not_a_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim = Wim::open(&capture_with(dir.path(), "lzx.wim", &[])).expect("open");
    for path in ["/dir", "/"] {
        let err = wim.open_file(1, path).map(|_| ()).expect_err("directory");
        assert!(
            matches!(
                err,
                WimError::NotAFile {
                    kind: "directory",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn reading_a_missing_path_is_path_not_in_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim = Wim::open(&capture_with(dir.path(), "lzx.wim", &[])).expect("open");
    let err = wim
        .open_file(1, "/nope.txt")
        .map(|_| ())
        .expect_err("missing");
    assert!(matches!(err, WimError::PathNotInImage { .. }), "{err:?}");
    let err = wim
        .open_file(2, "/random.bin")
        .map(|_| ())
        .expect_err("no image 2");
    assert!(
        matches!(err, WimError::NoSuchImage { image: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn damaged_data_is_an_invalid_data_error_not_wrong_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim_path = capture_with(dir.path(), "none.wim", &["--compress=none"]);
    // Flip one byte inside the (uncompressed) random file's data.
    let needle = random_bytes(64, 5);
    let mut bytes = std::fs::read(&wim_path).expect("read");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("data in file");
    bytes[at + 1_000_000] ^= 0xff;
    std::fs::write(&wim_path, &bytes).expect("write");
    let wim = Wim::open(&wim_path).expect("open");
    let mut reader = wim.open_file(1, "/random.bin").expect("open_file");
    let mut out = Vec::new();
    let err = reader.read_to_end(&mut out).expect_err("hash mismatch");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    assert!(err.to_string().contains("SHA-1"), "{err}");
    // The final piece (which contains no damage) is withheld with the error.
    assert!(out.len() < 3 * 1024 * 1024 + 17);
}

#[test]
fn reading_from_a_truncated_wim_fails_without_panicking() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, extra) in [("lzx.wim", &[][..]), ("solid.esd", &["--solid"][..])] {
        let wim_path = capture_with(dir.path(), name, extra);
        let wim = Wim::open(&wim_path).expect("open");
        let full = std::fs::metadata(&wim_path).expect("stat").len();
        // The handle keeps its metadata; the data read afterwards is cut off.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&wim_path)
            .expect("open rw");
        f.set_len(full / 3).expect("truncate");
        let mut failures = 0;
        for path in READ_FILES {
            match wim.open_file(1, path) {
                Err(WimError::Corrupt { .. }) => failures += 1,
                Err(other) => panic!("unexpected {other:?}"),
                Ok(mut reader) => {
                    let mut out = Vec::new();
                    if reader.read_to_end(&mut out).is_err() {
                        failures += 1;
                    }
                }
            }
        }
        assert!(failures >= 1, "{name}: truncation went unnoticed");
    }
}

#[test]
fn an_empty_file_reads_as_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim = Wim::open(&capture_with(dir.path(), "lzx.wim", &[])).expect("open");
    assert!(read_all(&wim, "/empty.bin").is_empty());
}

#[test]
fn data_not_yet_written_is_unsupported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_read_tree(&src);
    let mut wim = wait_wim::Wim::create_new(wait_wim::Compression::Lzx).expect("new");
    wim.add_image(&src, "img").expect("add");
    let err = wim
        .open_file(1, "/random.bin")
        .map(|_| ())
        .expect_err("not written");
    assert!(matches!(err, WimError::Unsupported(_)), "{err:?}");
}

/// Timing only (`cargo test --release -p wait-wim --test read_stream -- --ignored
/// --nocapture`): `open_file` against `wimlib-imagex extract --to-stdout` on a
/// ~100 MB file, for LZX and solid LZMS.
#[test]
#[ignore = "timing run, not a check"]
fn throughput_against_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let mut data = random_bytes(50 << 20, 11);
    let text =
        "some fairly repetitive text for the compressor 0123456789\n".repeat((50 << 20) / 59);
    data.extend_from_slice(text.as_bytes());
    std::fs::write(src.join("big.bin"), &data).expect("write");
    for (name, extra) in [
        ("lzx.wim", &["--compress=LZX"][..]),
        ("solid.esd", &["--solid"][..]),
    ] {
        let wim_path = dir.path().join(name);
        let mut args: Vec<std::ffi::OsString> = vec![
            "capture".into(),
            src.clone().into(),
            wim_path.clone().into(),
            "img".into(),
        ];
        args.extend(extra.iter().map(|s| (*s).into()));
        imagex_args(&args);
        let wim = Wim::open(&wim_path).expect("open");
        let t = std::time::Instant::now();
        let mut reader = wim.open_file(1, "/big.bin").expect("open_file");
        let n = std::io::copy(&mut reader, &mut std::io::sink()).expect("read");
        let ours = t.elapsed();
        let t = std::time::Instant::now();
        let out = std::process::Command::new("wimlib-imagex")
            .args([
                "extract".as_ref(),
                wim_path.as_os_str(),
                "1".as_ref(),
                "/big.bin".as_ref(),
                "--to-stdout".as_ref(),
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run");
        let theirs = t.elapsed();
        assert!(out.success());
        eprintln!("{name}: {n} bytes, open_file {ours:?}, wimlib-imagex {theirs:?}");
    }
}
