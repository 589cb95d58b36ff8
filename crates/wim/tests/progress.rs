//! Progress reports, cancellation and panics inside progress closures.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use wait_wim::{
    Compression, ImageSelector, Progress, ProgressControl, Stage, Wim, WimError, WriteOptions,
};

fn big_wim(megabytes: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("big");
    make_big_tree(&src, megabytes);
    let wim = dir.path().join("big.wim");
    imagex_capture(&src, &wim, "Big");
    (dir, wim)
}

#[test]
fn write_reports_monotonic_byte_progress_up_to_total() {
    let (dir, wim_path) = big_wim(4);
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let mut wim = Wim::open(&wim_path).expect("open");
    let sink = Arc::clone(&reports);
    wim.set_progress(move |p| {
        sink.lock().expect("lock").push(p);
        ProgressControl::Continue
    });
    let out = dir.path().join("out.wim");
    wim.write(
        &out,
        ImageSelector::All,
        &WriteOptions {
            compression: Some(Compression::Xpress),
            ..Default::default()
        },
    )
    .expect("write");
    let reports = reports.lock().expect("lock");
    let writes: Vec<&Progress> = reports.iter().filter(|p| p.stage == Stage::Write).collect();
    assert!(!writes.is_empty());
    assert!(writes.windows(2).all(|w| w[0].done <= w[1].done));
    let last = writes.last().expect("last");
    assert_eq!(last.done, last.total);
    assert!(last.total >= 4 * 1024 * 1024);
}

#[test]
fn verify_and_extract_report_their_stages() {
    let (dir, wim_path) = big_wim(2);
    let stages: Arc<Mutex<Vec<Stage>>> = Arc::default();
    let sink = Arc::clone(&stages);
    let mut wim = Wim::open_with_progress(&wim_path, false, move |p| {
        sink.lock().expect("lock").push(p.stage);
        ProgressControl::Continue
    })
    .expect("open");
    wim.verify().expect("verify");
    wim.extract_file(1, "/big.bin", dir.path())
        .expect("extract");
    let stages = stages.lock().expect("lock");
    assert!(stages.contains(&Stage::Verify));
    assert!(stages.contains(&Stage::Extract));
}

#[test]
fn abort_during_write_gives_aborted_and_leaves_no_output_file() {
    let (dir, wim_path) = big_wim(6);
    let mut wim = Wim::open(&wim_path).expect("open");
    let calls = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&calls);
    wim.set_progress(move |p| {
        if p.stage == Stage::Write && p.done > 0 {
            counter.fetch_add(1, Ordering::SeqCst);
            return ProgressControl::Abort;
        }
        ProgressControl::Continue
    });
    let out = dir.path().join("aborted.wim");
    let err = wim
        .write(
            &out,
            ImageSelector::All,
            &WriteOptions {
                compression: Some(Compression::Lzx),
                recompress: true,
                ..Default::default()
            },
        )
        .expect_err("must abort");
    assert!(matches!(err, WimError::Aborted), "{err:?}");
    assert!(calls.load(Ordering::SeqCst) >= 1);
    // libwim leaves the partial file behind; the crate removes it because it did
    // not exist before the call.
    assert!(!out.exists(), "partial output left behind");

    // The handle still works: clearing the closure lets a second write succeed.
    wim.clear_progress();
    wim.write(&out, ImageSelector::All, &WriteOptions::default())
        .expect("second write");
    assert!(imagex_verify_ok(&out));
}

#[test]
fn abort_over_an_existing_file_leaves_an_incomplete_wim_that_will_not_open() {
    let (dir, wim_path) = big_wim(4);
    let out = dir.path().join("existing.wim");
    std::fs::write(&out, b"old content").expect("write");
    let mut wim = Wim::open(&wim_path).expect("open");
    wim.set_progress(|p| {
        if p.stage == Stage::Write && p.done > 0 {
            ProgressControl::Abort
        } else {
            ProgressControl::Continue
        }
    });
    let err = wim
        .write(
            &out,
            ImageSelector::All,
            &WriteOptions {
                compression: Some(Compression::Lzx),
                recompress: true,
                ..Default::default()
            },
        )
        .expect_err("must abort");
    assert!(matches!(err, WimError::Aborted));
    if out.exists() {
        let reopened = Wim::open(&out);
        assert!(
            matches!(
                reopened,
                Err(WimError::Corrupt { .. } | WimError::NotAWim { .. })
            ),
            "partial file opened: {reopened:?}"
        );
    }
}

#[test]
fn abort_during_overwrite_keeps_the_original_intact() {
    let (dir, wim_path) = big_wim(4);
    let before = std::fs::read(&wim_path).expect("read");
    let mut wim = Wim::open(&wim_path).expect("open");
    wim.set_progress(|p| {
        if p.stage == Stage::Write && p.done > 0 {
            ProgressControl::Abort
        } else {
            ProgressControl::Continue
        }
    });
    let err = wim
        .overwrite(&WriteOptions {
            compression: Some(Compression::Lzms),
            recompress: true,
            ..Default::default()
        })
        .expect_err("must abort");
    assert!(matches!(err, WimError::Aborted), "{err:?}");
    assert_eq!(std::fs::read(&wim_path).expect("reread"), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("readdir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "big" && n != "big.wim")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn panic_in_progress_closure_propagates_to_the_caller() {
    let (dir, wim_path) = big_wim(3);
    let mut wim = Wim::open(&wim_path).expect("open");
    let after_panic_calls = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&after_panic_calls);
    let mut panicked = false;
    wim.set_progress(move |p| {
        if panicked {
            flag.store(true, Ordering::SeqCst);
        }
        if p.stage == Stage::Write && p.done > 0 {
            panicked = true;
            panic!("progress closure exploded");
        }
        ProgressControl::Continue
    });
    let out = dir.path().join("panic.wim");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = wim.write(
            &out,
            ImageSelector::All,
            &WriteOptions {
                compression: Some(Compression::Lzx),
                recompress: true,
                ..Default::default()
            },
        );
    }));
    let payload = result.expect_err("the panic must reach the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"progress closure exploded")
    );
    assert!(
        !after_panic_calls.load(Ordering::SeqCst),
        "closure called again after panicking"
    );
    assert!(!out.exists());

    // Still alive and usable.
    wim.clear_progress();
    wim.verify().expect("verify after panic");
}

#[test]
fn update_reports_command_counts() {
    let (dir, wim_path) = big_wim(1);
    let extra = dir.path().join("extra.txt");
    std::fs::write(&extra, "x").expect("write");
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&reports);
    let mut wim = Wim::open(&wim_path).expect("open");
    wim.set_progress(move |p| {
        sink.lock().expect("lock").push(p);
        ProgressControl::Continue
    });
    wim.update_image(
        1,
        &[
            wait_wim::UpdateCommand::Add {
                source: extra,
                target: "/extra.txt".to_owned(),
            },
            wait_wim::UpdateCommand::Delete {
                path: "/small.txt".to_owned(),
            },
        ],
    )
    .expect("update");
    let reports = reports.lock().expect("lock");
    let last = reports
        .iter()
        .rev()
        .find(|p| p.stage == Stage::Update)
        .expect("update report");
    assert_eq!((last.done, last.total), (2, 2));
    assert!(reports.iter().any(|p| p.stage == Stage::Scan));
}

#[test]
fn integrity_check_on_open_reports_verify_and_can_be_aborted() {
    let (dir, wim_path) = big_wim(2);
    let with_table = dir.path().join("int.wim");
    Wim::open(&wim_path)
        .expect("open")
        .write(
            &with_table,
            ImageSelector::All,
            &WriteOptions {
                check_integrity: true,
                ..Default::default()
            },
        )
        .expect("write");

    let stages: Arc<Mutex<Vec<Stage>>> = Arc::default();
    let sink = Arc::clone(&stages);
    let wim = Wim::open_with_progress(&with_table, true, move |p| {
        sink.lock().expect("lock").push(p.stage);
        ProgressControl::Continue
    })
    .expect("open with integrity check");
    assert!(wim.info().has_integrity_table);
    assert!(stages.lock().expect("lock").contains(&Stage::Verify));

    let err = Wim::open_with_progress(&with_table, true, |_| ProgressControl::Abort)
        .expect_err("must abort");
    assert!(matches!(err, WimError::Aborted), "{err:?}");
}
