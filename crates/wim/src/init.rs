//! One-time, process-wide libwim initialisation.

use std::sync::Once;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::error::{ErrorContext, Result, check};
use crate::sys;

static INIT: Once = Once::new();
static INIT_RESULT: AtomicI32 = AtomicI32::new(0);

/// Initialise libwim exactly once (quietly), and report whether that worked.
///
/// Every entry point that creates a handle calls this first. libwim is never torn
/// down: `wimlib_global_cleanup` would race with other threads still using it.
pub(crate) fn ensure_init() -> Result<()> {
    INIT.call_once(|| {
        // SAFETY: both functions only set library-global state. `Once` guarantees this
        // closure runs once, before any other libwim call made through this crate.
        // Printing is switched off so that failures reach callers only as `WimError`s.
        let rc = unsafe {
            sys::wimlib_set_print_errors(false);
            sys::wimlib_global_init(0)
        };
        INIT_RESULT.store(rc, Ordering::Release);
    });
    check(
        INIT_RESULT.load(Ordering::Acquire),
        &ErrorContext::default(),
    )
}
