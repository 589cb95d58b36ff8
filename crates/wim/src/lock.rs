//! Serialisation of libwim calls between a WIM and the WIMs it exported images from.
//!
//! `Wim` is `Send` but not `Sync`, so calls on one handle never overlap. Exporting
//! breaks that isolation: the destination shares image metadata with the source and,
//! when written, reads the source's file through the source's `WIMStruct` (its file
//! descriptor and decompressor cache). The destination may have been moved to another
//! thread while the source is still used on its own thread, so each handle owns a
//! `DataLock`, a destination keeps the locks of everything it exported from, and every
//! libwim call takes all locks involved, in one global order (by id) so that no two
//! threads can deadlock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Debug)]
pub(crate) struct DataLock {
    id: u64,
    /// The file the handle reads from, if any (so a write never targets it).
    pub(crate) path: Option<PathBuf>,
    mutex: Mutex<()>,
}

impl DataLock {
    pub(crate) fn new(path: Option<PathBuf>) -> Arc<Self> {
        Arc::new(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            path,
            mutex: Mutex::new(()),
        })
    }
}

/// Guards held for the duration of one libwim call.
#[derive(Debug)]
pub(crate) struct Held<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

/// Lock every lock in `locks` (duplicates allowed) in ascending id order.
pub(crate) fn lock_all<'a>(locks: impl IntoIterator<Item = &'a Arc<DataLock>>) -> Held<'a> {
    let mut sorted: Vec<&'a Arc<DataLock>> = locks.into_iter().collect();
    sorted.sort_by_key(|l| l.id);
    sorted.dedup_by_key(|l| l.id);
    // The mutexes protect no Rust data, so a poisoned one (a progress closure panicked
    // while it was held) is still perfectly usable.
    let guards = sorted
        .into_iter()
        .map(|l| l.mutex.lock().unwrap_or_else(PoisonError::into_inner))
        .collect();
    Held { _guards: guards }
}
