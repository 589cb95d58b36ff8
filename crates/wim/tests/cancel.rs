//! Aborting long writes part-way, and the stage names used in logs.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use wait_wim::{Compression, ImageSelector, ProgressControl, Stage, Wim, WimError, WriteOptions};

/// (done, total) of every Write report, and of the report that asked to abort.
type Seen = (Vec<(u64, u64)>, Option<(u64, u64)>);

#[test]
fn abort_in_the_middle_of_a_50_mb_write_stops_well_before_the_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_big_tree(&src, 50);
    let mut wim = Wim::create_new(Compression::Lzx).expect("new");
    wim.add_image(&src, "big").expect("add");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let sink = seen.clone();
    wim.set_progress(move |p| {
        let mut s = sink.lock().expect("lock");
        if p.stage != Stage::Write {
            return ProgressControl::Continue;
        }
        s.0.push((p.done, p.total));
        if p.total > 0 && p.done >= p.total / 4 {
            s.1.get_or_insert((p.done, p.total));
            return ProgressControl::Abort;
        }
        ProgressControl::Continue
    });
    let out = dir.path().join("big.wim");
    let err = wim
        .write(&out, ImageSelector::All, &WriteOptions::default())
        .expect_err("aborted");
    assert!(matches!(err, WimError::Aborted), "{err:?}");
    assert!(!out.exists(), "a new output is removed after an abort");
    let (reports, abort_at) = seen.lock().expect("lock").clone();
    let (done, total) = abort_at.expect("abort was requested");
    assert!(total >= 50 * 1024 * 1024, "{total}");
    assert!(done < total, "aborted at {done} of {total}");
    // Nothing was reported as written after the abort request.
    let max_done = reports.iter().map(|r| r.0).max().unwrap_or(0);
    assert_eq!(max_done, done);
    assert!(done <= total / 2, "aborted at {done} of {total}");
}

#[test]
fn a_set_cancel_flag_aborts_the_next_call_and_a_clear_one_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_tree(&src);
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut wim = Wim::create_new(Compression::Lzx).expect("new");
    wim.add_image(&src, "small").expect("add");
    wim.abort_when_set(&flag);
    let kept = dir.path().join("kept.wim");
    wim.write(&kept, ImageSelector::All, &WriteOptions::default())
        .expect("a clear flag lets the write run");
    let mut again = Wim::open(&kept).expect("open");
    again.abort_when_set(&flag);
    flag.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(again.verify(), Err(WimError::Aborted)));
}

#[test]
fn stage_names_are_short_lowercase_words() {
    let all = [
        (Stage::Open, "open"),
        (Stage::Scan, "scan"),
        (Stage::Write, "write"),
        (Stage::Extract, "extract"),
        (Stage::Verify, "verify"),
        (Stage::Update, "update"),
        (Stage::Other, "other"),
        (Stage::Split, "split"),
    ];
    for (stage, name) in all {
        assert_eq!(stage.name(), name);
    }
}
