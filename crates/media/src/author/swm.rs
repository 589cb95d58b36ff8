//! The SWM rule: an install image that an ISO 9660-only medium cannot hold is split
//! into `install.swm`, `install2.swm`, … of at most [`DEFAULT_SWM_PART_MIB`] MiB each,
//! which Windows Setup accepts in place of `install.wim`. The split itself is libwim's
//! (`wait_wim::Wim::split`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use wait_wim::{ProgressControl, Stage, Wim, WimError, WriteOptions};

use super::error::AuthorError;
use super::layout::ISO9660_MAX_FILE_SIZE;

/// Default largest SWM part, in MiB (what Microsoft's own guidance uses for FAT32/ISO).
pub const DEFAULT_SWM_PART_MIB: u64 = 3800;

const MIB: u64 = 1024 * 1024;

/// File name of SWM part `part` (1-based): `install.swm`, `install2.swm`, …
pub fn swm_part_name(part: usize) -> String {
    if part <= 1 {
        "install.swm".to_owned()
    } else {
        format!("install{part}.swm")
    }
}

/// Split the WIM at `source` into SWM parts of at most `part_mib` MiB in `dest_dir`
/// (which must exist). Returns the parts in order. A single file larger than the part
/// size still lands whole in one part (WIM resources are never cut); parts that an ISO
/// 9660 file system cannot hold are reported as `TooLargeForIso9660`. An ESD (solid
/// resources) cannot be split. `cancel` aborts the split; parts already written are
/// removed.
pub fn split_wim(
    source: &Path,
    dest_dir: &Path,
    part_mib: u64,
    on_progress: &mut dyn FnMut(f64),
    cancel: &Arc<AtomicBool>,
) -> Result<Vec<PathBuf>, AuthorError> {
    if part_mib == 0 {
        return Err(AuthorError::InvalidOption {
            field: "swm_part_mib",
            reason: "the part size must be at least 1 MiB".to_owned(),
        });
    }
    let meta = std::fs::metadata(source).map_err(|e| {
        AuthorError::bad_input("install image", source, format!("cannot read: {e}"))
    })?;
    if !meta.is_file() {
        return Err(AuthorError::bad_input(
            "install image",
            source,
            "not a regular file",
        ));
    }
    let first = dest_dir.join(swm_part_name(1));
    let part_size = part_mib.saturating_mul(MIB);
    let (tx, rx) = mpsc::channel::<f64>();
    let flag = Arc::clone(cancel);
    // libwim calls the progress closure on the splitting thread and wants it 'static,
    // so the split runs on a scoped thread and reports percentages over a channel to
    // this one, where the caller's (non-'static) callback runs.
    let outcome = std::thread::scope(|scope| {
        let worker = scope.spawn(move || -> Result<Vec<PathBuf>, WimError> {
            let mut wim = Wim::open(source)?;
            wim.set_progress(move |p| {
                if p.stage == Stage::Split && p.total > 0 {
                    let _ = tx.send(p.done as f64 * 100.0 / p.total as f64);
                }
                if flag.load(Ordering::Relaxed) {
                    ProgressControl::Abort
                } else {
                    ProgressControl::Continue
                }
            });
            wim.split(&first, part_size, &WriteOptions::default())
        });
        // Ends when the WIM (and with it the sender) is dropped by the worker.
        for percent in rx {
            on_progress(percent.clamp(0.0, 100.0));
        }
        worker.join()
    });
    let parts = match outcome {
        Ok(Ok(parts)) => parts,
        Ok(Err(WimError::Aborted)) => return Err(AuthorError::Cancelled),
        Ok(Err(source_err)) => {
            return Err(AuthorError::Split {
                path: source.to_path_buf(),
                source: source_err,
            });
        }
        Err(panic) => std::panic::resume_unwind(panic),
    };
    for part in &parts {
        check_part_size(part)?;
    }
    Ok(parts)
}

pub(crate) fn check_part_size(part: &Path) -> Result<(), AuthorError> {
    let size = std::fs::metadata(part)
        .map_err(|e| AuthorError::io(part, e))?
        .len();
    if size > ISO9660_MAX_FILE_SIZE {
        return Err(AuthorError::TooLargeForIso9660 {
            path: part.to_path_buf(),
            size,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_follow_setup_convention() {
        assert_eq!(swm_part_name(1), "install.swm");
        assert_eq!(swm_part_name(2), "install2.swm");
        assert_eq!(swm_part_name(12), "install12.swm");
    }

    #[test]
    fn zero_part_size_is_refused() {
        let err = split_wim(
            Path::new("/nonexistent.wim"),
            Path::new("/tmp"),
            0,
            &mut |_| {},
            &Arc::new(AtomicBool::new(false)),
        )
        .expect_err("refused");
        assert!(matches!(
            err,
            AuthorError::InvalidOption {
                field: "swm_part_mib",
                ..
            }
        ));
    }
}
