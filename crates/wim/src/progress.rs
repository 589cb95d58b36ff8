//! Progress reporting: the public types, the boxed closure libwim calls back into,
//! and the `extern "C"` trampoline.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use libc::{c_int, c_void};

use crate::sys;

/// Stage of a long operation, as reported to progress closures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reserved for reports made while a WIM is being opened. libwim currently only
    /// reports the integrity check there, which arrives as [`Stage::Verify`].
    Open,
    /// Scanning a host directory (`add_image`, `capture`, `update_image` Add).
    /// `done` = bytes of file data found so far; `total` is 0 (unknown) until the end.
    Scan,
    /// Writing file data: `done`/`total` are uncompressed bytes.
    Write,
    /// Extracting file data: `done`/`total` are bytes.
    Extract,
    /// Verifying data (`verify`) or the integrity table: `done`/`total` are bytes.
    Verify,
    /// `update_image`: `done`/`total` count commands, not bytes.
    Update,
    /// Computing an integrity table while writing: `done`/`total` are bytes.
    Other,
    /// `split`: reported when a part begins and ends; `done`/`total` are bytes of
    /// the original WIM copied so far. While a part is written, [`Stage::Write`]
    /// reports that part's own progress.
    Split,
}

impl Stage {
    /// A short lowercase name for logs ("write", "verify", ...).
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Open => "open",
            Stage::Scan => "scan",
            Stage::Write => "write",
            Stage::Extract => "extract",
            Stage::Verify => "verify",
            Stage::Update => "update",
            Stage::Other => "other",
            Stage::Split => "split",
        }
    }
}

/// One progress report: bytes done out of total for the named stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: u64,
    pub total: u64,
}

/// What a progress closure tells libwim to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressControl {
    Continue,
    Abort,
}

type PanicPayload = Box<dyn Any + Send + 'static>;

/// The heap cell libwim's `progctx` points at.
struct Slot<F> {
    f: F,
    /// A panic caught inside `f`, waiting to be resumed once libwim has returned.
    panic: Option<PanicPayload>,
}

/// Type-erased access to a `Slot<F>`.
trait Registered: Send {
    fn take_panic(&mut self) -> Option<PanicPayload>;
}

impl<F: Send> Registered for Slot<F> {
    fn take_panic(&mut self) -> Option<PanicPayload> {
        self.panic.take()
    }
}

/// An owned, registered-or-registrable progress closure.
///
/// The closure lives in a heap allocation owned through a raw pointer (so that moving
/// this value never invalidates the pointer libwim holds). Whoever owns a
/// `ProgressHook` must keep it alive for as long as libwim may call `func` with `ctx`,
/// and must not call [`ProgressHook::take_panic`] while a libwim call is running.
pub(crate) struct ProgressHook {
    slot: NonNull<dyn Registered>,
    func: sys::wimlib_progress_func_t,
    ctx: *mut c_void,
}

// SAFETY: the slot holds an `F: Send` closure and a `Send` panic payload, and it is
// only reached through this owner (or through libwim, during a call made by the
// owner's thread), so moving the owner to another thread is fine.
unsafe impl Send for ProgressHook {}

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressHook").finish_non_exhaustive()
    }
}

impl ProgressHook {
    pub(crate) fn new<F>(f: F) -> Self
    where
        F: FnMut(Progress) -> ProgressControl + Send + 'static,
    {
        let raw: NonNull<Slot<F>> = NonNull::from(Box::leak(Box::new(Slot { f, panic: None })));
        let slot: NonNull<dyn Registered> = raw;
        Self {
            slot,
            func: Some(trampoline::<F>),
            ctx: raw.as_ptr().cast::<c_void>(),
        }
    }

    /// The function pointer to register with libwim.
    pub(crate) fn func(&self) -> sys::wimlib_progress_func_t {
        self.func
    }

    /// The context pointer to register with libwim.
    pub(crate) fn ctx(&self) -> *mut c_void {
        self.ctx
    }

    /// Take a panic caught during the last libwim call, if any.
    pub(crate) fn take_panic(&mut self) -> Option<PanicPayload> {
        // SAFETY: the slot is alive (freed only in Drop) and, per the type's contract,
        // no libwim call that could reach it through `ctx` is running now; `&mut self`
        // makes this the only access.
        unsafe { self.slot.as_mut() }.take_panic()
    }
}

impl Drop for ProgressHook {
    fn drop(&mut self) {
        // SAFETY: `slot` came from Box::leak in `new` and is freed only here; the
        // owner unregisters it from libwim before dropping it.
        drop(unsafe { Box::from_raw(self.slot.as_ptr()) });
    }
}

/// Turn a libwim message into a report, or `None` for messages that are not passed on.
///
/// # Safety
/// `info` must be null or point to the `wimlib_progress_info` libwim sent with `msg`.
unsafe fn translate(msg: c_int, info: *const sys::wimlib_progress_info) -> Option<Progress> {
    if info.is_null() {
        return None;
    }
    // SAFETY: for every union read below, libwim fills the union member that the
    // message documents (see wimlib.h), and `info` is valid for this callback.
    let p = unsafe {
        match msg {
            sys::WIMLIB_PROGRESS_MSG_WRITE_STREAMS => {
                let w = (*info).write_streams;
                Progress {
                    stage: Stage::Write,
                    done: w.completed_bytes,
                    total: w.total_bytes,
                }
            }
            sys::WIMLIB_PROGRESS_MSG_SCAN_BEGIN => Progress {
                stage: Stage::Scan,
                done: 0,
                total: 0,
            },
            sys::WIMLIB_PROGRESS_MSG_SCAN_DENTRY => Progress {
                stage: Stage::Scan,
                done: (*info).scan.num_bytes_scanned,
                total: 0,
            },
            sys::WIMLIB_PROGRESS_MSG_SCAN_END => {
                let n = (*info).scan.num_bytes_scanned;
                Progress {
                    stage: Stage::Scan,
                    done: n,
                    total: n,
                }
            }
            sys::WIMLIB_PROGRESS_MSG_EXTRACT_STREAMS => {
                let e = (*info).extract;
                Progress {
                    stage: Stage::Extract,
                    done: e.completed_bytes,
                    total: e.total_bytes,
                }
            }
            sys::WIMLIB_PROGRESS_MSG_VERIFY_STREAMS => {
                let v = (*info).verify_streams;
                Progress {
                    stage: Stage::Verify,
                    done: v.completed_bytes,
                    total: v.total_bytes,
                }
            }
            sys::WIMLIB_PROGRESS_MSG_VERIFY_INTEGRITY => {
                let i = (*info).integrity;
                Progress {
                    stage: Stage::Verify,
                    done: i.completed_bytes,
                    total: i.total_bytes,
                }
            }
            sys::WIMLIB_PROGRESS_MSG_CALC_INTEGRITY => {
                let i = (*info).integrity;
                Progress {
                    stage: Stage::Other,
                    done: i.completed_bytes,
                    total: i.total_bytes,
                }
            }
            sys::WIMLIB_PROGRESS_MSG_SPLIT_BEGIN_PART | sys::WIMLIB_PROGRESS_MSG_SPLIT_END_PART => {
                let s = (*info).split;
                Progress {
                    stage: Stage::Split,
                    done: s.completed_bytes,
                    total: s.total_bytes,
                }
            }
            sys::WIMLIB_PROGRESS_MSG_UPDATE_BEGIN_COMMAND
            | sys::WIMLIB_PROGRESS_MSG_UPDATE_END_COMMAND => {
                let u = (*info).update;
                Progress {
                    stage: Stage::Update,
                    done: u.completed_commands as u64,
                    total: u.total_commands as u64,
                }
            }
            _ => return None,
        }
    };
    Some(p)
}

/// The function libwim calls; one instance per closure type.
///
/// # Safety
/// `ctx` must be the context pointer of a live `ProgressHook` created for this `F`,
/// with no other access to that hook while libwim runs the callback.
unsafe extern "C" fn trampoline<F>(
    msg: c_int,
    info: *mut sys::wimlib_progress_info,
    ctx: *mut c_void,
) -> c_int
where
    F: FnMut(Progress) -> ProgressControl + Send + 'static,
{
    if ctx.is_null() {
        return sys::WIMLIB_PROGRESS_STATUS_CONTINUE;
    }
    // SAFETY: per this function's contract `ctx` is the `Slot<F>` of a live hook, and
    // the owning `Wim` is inside the libwim call, so nothing else touches the slot.
    let slot = unsafe { &mut *ctx.cast::<Slot<F>>() };
    if slot.panic.is_some() {
        // The closure already panicked during this call: keep asking libwim to stop.
        return sys::WIMLIB_PROGRESS_STATUS_ABORT;
    }
    // SAFETY: `info` is what libwim passed along with `msg`.
    let Some(report) = (unsafe { translate(msg, info) }) else {
        return sys::WIMLIB_PROGRESS_STATUS_CONTINUE;
    };
    let f = &mut slot.f;
    match catch_unwind(AssertUnwindSafe(|| f(report))) {
        Ok(ProgressControl::Continue) => sys::WIMLIB_PROGRESS_STATUS_CONTINUE,
        Ok(ProgressControl::Abort) => sys::WIMLIB_PROGRESS_STATUS_ABORT,
        Err(payload) => {
            slot.panic = Some(payload);
            sys::WIMLIB_PROGRESS_STATUS_ABORT
        }
    }
}
