//! Split sets (.swm): writing with `Wim::split`, opening with `Wim::open_split`
//! and `reference_parts`, with `wimlib-imagex` as the oracle.

mod common;

use std::path::PathBuf;

use common::*;
use wait_wim::{ImageSelector, Progress, ProgressControl, Stage, Wim, WimError, WriteOptions};

/// The read tree captured by the CLI (several MB, so that it splits into parts).
fn source(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    let src = dir.join("src");
    make_read_tree(&src);
    let wim = dir.join("base.wim");
    imagex_capture(&src, &wim, "img");
    (src, wim)
}

#[test]
fn split_writes_numbered_parts_that_wimlib_imagex_reads_and_applies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (src, wim_path) = source(dir.path());
    let mut wim = Wim::open(&wim_path).expect("open");
    let first = dir.path().join("install.swm");
    let parts = wim
        .split(&first, 1 << 20, &WriteOptions::default())
        .expect("split");
    assert!(parts.len() >= 2, "{parts:?}");
    assert_eq!(parts[0], first);
    assert_eq!(parts[1], dir.path().join("install2.swm"));
    for p in &parts {
        assert!(p.exists());
    }
    let info = imagex_info(&first, None);
    assert_eq!(info["Part Number"], format!("1/{}", parts.len()));
    let apply = dir.path().join("applied");
    let glob = dir.path().join("install*.swm");
    let mut r = std::ffi::OsString::from("--ref=");
    r.push(&glob);
    imagex_args([
        "apply".as_ref(),
        first.as_os_str(),
        "1".as_ref(),
        apply.as_os_str(),
        r.as_os_str(),
    ]);
    for f in READ_FILES {
        let rel = f.trim_start_matches('/');
        assert_eq!(sha1sum(&apply.join(rel)), sha1sum(&src.join(rel)), "{f}");
    }
}

#[test]
fn open_split_reads_a_set_made_by_wimlib_imagex() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (src, wim_path) = source(dir.path());
    let first = dir.path().join("cli.swm");
    imagex_args([
        "split".as_ref(),
        wim_path.as_os_str(),
        first.as_os_str(),
        "1".as_ref(),
    ]);
    let mut set = Wim::open_split(&first).expect("open split");
    assert!(set.info().total_parts >= 2);
    set.verify().expect("verify the whole set");
    let out = tempfile::tempdir().expect("tempdir");
    let got = set
        .extract_file(1, "/random.bin", out.path())
        .expect("extract");
    assert_eq!(sha1sum(&got), sha1sum(&src.join("random.bin")));
}

#[test]
fn open_split_reads_a_set_we_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_src, wim_path) = source(dir.path());
    let mut wim = Wim::open(&wim_path).expect("open");
    let first = dir.path().join("ours.swm");
    let parts = wim
        .split(&first, 1 << 20, &WriteOptions::default())
        .expect("split");
    let mut set = Wim::open_split(&first).expect("open split");
    set.verify().expect("verify");
    assert_eq!(usize::from(set.info().total_parts), parts.len());
}

#[test]
fn a_missing_part_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_src, wim_path) = source(dir.path());
    let mut wim = Wim::open(&wim_path).expect("open");
    let first = dir.path().join("install.swm");
    let parts = wim
        .split(&first, 1 << 20, &WriteOptions::default())
        .expect("split");
    std::fs::remove_file(&parts[1]).expect("remove part 2");
    match Wim::open_split(&first) {
        Err(WimError::MissingPart { part: 2, path }) => assert_eq!(path, parts[1]),
        other => panic!("unexpected {other:?}"),
    }
    // The same through reference_parts with an incomplete list.
    let mut first_only = Wim::open(&first).expect("open part 1");
    match first_only.reference_parts(&parts[2..]) {
        Err(WimError::MissingPart { part: 2, path }) => assert_eq!(path, parts[1]),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn reference_parts_refuses_a_part_of_another_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_src, wim_path) = source(dir.path());
    let mut wim = Wim::open(&wim_path).expect("open");
    let a = wim
        .split(&dir.path().join("a.swm"), 1 << 20, &WriteOptions::default())
        .expect("split a");
    let b = wim
        .split(&dir.path().join("b.swm"), 1 << 20, &WriteOptions::default())
        .expect("split b");
    let mut first = Wim::open(&a[0]).expect("open");
    let mut mixed = a[1..].to_vec();
    mixed[0] = b[1].clone();
    let err = first.reference_parts(&mixed).expect_err("other set");
    assert!(matches!(err, WimError::InvalidArgument(_)), "{err:?}");
}

#[test]
fn split_reports_split_progress_and_can_be_aborted_without_leftovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_src, wim_path) = source(dir.path());
    let mut wim = Wim::open(&wim_path).expect("open");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Progress>::new()));
    let sink = seen.clone();
    wim.set_progress(move |p| {
        sink.lock().expect("lock").push(p);
        ProgressControl::Continue
    });
    let parts = wim
        .split(&dir.path().join("p.swm"), 1 << 20, &WriteOptions::default())
        .expect("split");
    let reports = seen.lock().expect("lock").clone();
    let splits: Vec<&Progress> = reports.iter().filter(|p| p.stage == Stage::Split).collect();
    assert_eq!(splits.len(), 2 * parts.len(), "a begin and an end per part");
    let last = splits.last().expect("reports");
    assert_eq!(last.done, last.total);
    assert_eq!(Stage::Split.name(), "split");

    // Abort when the second part begins: part 1 was written, and is removed again.
    let keep = dir.path().join("q3.swm");
    std::fs::write(&keep, b"not ours").expect("write");
    let mut begins = 0;
    wim.set_progress(move |p| {
        if p.stage == Stage::Split && p.done < p.total {
            begins += 1;
        }
        if begins >= 3 {
            ProgressControl::Abort
        } else {
            ProgressControl::Continue
        }
    });
    let err = wim
        .split(&dir.path().join("q.swm"), 1 << 20, &WriteOptions::default())
        .expect_err("aborted");
    assert!(matches!(err, WimError::Aborted), "{err:?}");
    assert!(!dir.path().join("q.swm").exists());
    assert!(!dir.path().join("q2.swm").exists());
    assert_eq!(std::fs::read(&keep).expect("read"), b"not ours");
}

#[test]
fn splitting_a_solid_wim_is_unsupported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_src, wim_path) = source(dir.path());
    let mut wim = Wim::open(&wim_path).expect("open");
    let esd = dir.path().join("x.esd");
    wim.write(
        &esd,
        ImageSelector::All,
        &WriteOptions {
            solid: true,
            ..Default::default()
        },
    )
    .expect("write");
    let mut esd_wim = Wim::open(&esd).expect("open");
    let err = esd_wim
        .split(&dir.path().join("s.swm"), 1 << 20, &WriteOptions::default())
        .expect_err("solid");
    assert!(matches!(err, WimError::Unsupported(_)), "{err:?}");
    assert!(!dir.path().join("s.swm").exists());
    let err = wim
        .split(
            &dir.path().join("s.swm"),
            1 << 20,
            &WriteOptions {
                solid: true,
                ..Default::default()
            },
        )
        .expect_err("solid option");
    assert!(matches!(err, WimError::InvalidArgument(_)), "{err:?}");
}
