//! Waiting on a future while watching the caller's cancel flag and a deadline. The flag is
//! a plain `AtomicBool` shared with synchronous build code, so it is polled.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the cancel flag is looked at while waiting.
const POLL: Duration = Duration::from_millis(50);

/// How a wait ended.
#[derive(Debug)]
pub(super) enum Outcome<T> {
    Done(T),
    TimedOut,
    Cancelled,
}

/// Await `future` for at most `limit`, giving up early when `cancel` is set.
pub(super) async fn with_deadline<F: Future>(
    future: F,
    limit: Duration,
    cancel: &AtomicBool,
) -> Outcome<F::Output> {
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(future, deadline);
    let mut tick = tokio::time::interval(POLL);
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Outcome::Cancelled;
        }
        tokio::select! {
            out = &mut future => return Outcome::Done(out),
            () = &mut deadline => return Outcome::TimedOut,
            _ = tick.tick() => {}
        }
    }
}

/// Sleep for `pause` unless cancelled first; `false` when cancelled.
pub(super) async fn pause(pause: Duration, cancel: &AtomicBool) -> bool {
    !matches!(
        with_deadline(std::future::pending::<()>(), pause, cancel).await,
        Outcome::Cancelled
    )
}

/// Run synchronous work on the blocking pool. The work gets its own flag, set when the
/// caller's flag is, because a borrowed flag cannot move to another thread.
pub(super) async fn blocking<T, F>(work: F, cancel: &AtomicBool) -> std::io::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&AtomicBool) -> T + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let mut task = tokio::task::spawn_blocking(move || work(&flag));
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            joined = &mut task => return joined.map_err(std::io::Error::other),
            _ = tick.tick() => {
                if cancel.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}
