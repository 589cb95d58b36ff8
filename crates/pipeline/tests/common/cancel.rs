//! Cancellation helpers: watching a running job from outside the worker, cancelling it
//! through the store as the API does, and checking that a cancelled build left nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use uuid::Uuid;
use wait_store::{Job, JobStatus, LogLine};

use super::{Env, names_in};

/// Files under `dir` this process still has open.
pub fn open_files_under(dir: &Path) -> Vec<String> {
    let mut open = Vec::new();
    for fd in std::fs::read_dir("/proc/self/fd")
        .expect("fd list")
        .flatten()
    {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            if target.starts_with(dir) {
                open.push(target.display().to_string());
            }
        }
    }
    open
}

/// No output folder for `customer`, no `job-*` scratch in the work dir, no open file
/// of the build under the test folder (the store's own files excepted). `case` starts
/// every failure message.
pub fn assert_left_nothing(env: &Env, customer: &str, case: &str) {
    let left = names_in(&env.repo.output_root().join(customer));
    assert!(left.is_empty(), "{case}: output left {left:?}");
    let scratch: Vec<_> = names_in(&env.dir.path().join("work"))
        .into_iter()
        .filter(|n| n.to_string_lossy().starts_with("job-"))
        .collect();
    assert!(scratch.is_empty(), "{case}: scratch left {scratch:?}");
    let open: Vec<_> = open_files_under(env.dir.path())
        .into_iter()
        .filter(|p| !p.contains("wait.db"))
        .collect();
    assert!(open.is_empty(), "{case}: still open {open:?}");
}

/// Poll the store until `ready` holds for the job; panics when the job finishes first
/// (the fixture was too small for the step to be caught) or `bound` runs out.
pub async fn wait_for(
    env: &Env,
    id: Uuid,
    bound: Duration,
    what: &str,
    ready: impl Fn(&Job, &[LogLine]) -> bool,
) {
    let until = Instant::now() + bound;
    loop {
        let j = env.job(id).await;
        let lines = env.logs(id).await;
        if ready(&j, &lines) {
            return;
        }
        assert!(
            !j.status.is_final(),
            "the job ended {:?} before {what}: {:?}",
            j.status,
            j.error
        );
        assert!(Instant::now() < until, "the job never reached {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Request the cancel and return how long the worker took to make the job Cancelled.
pub async fn cancel_and_time(env: &Env, id: Uuid) -> Duration {
    let asked = Instant::now();
    env.store.request_cancel(id).await.expect("request cancel");
    loop {
        let j = env.job(id).await;
        if j.status.is_final() {
            assert_eq!(j.status, JobStatus::Cancelled, "{:?}", j.error);
            return asked.elapsed();
        }
        assert!(
            asked.elapsed() < Duration::from_secs(120),
            "the job never stopped"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
