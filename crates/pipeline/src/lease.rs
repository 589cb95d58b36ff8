//! The two background tasks of a running job: one writes its log lines and progress in
//! order, the other renews its lease and watches for cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use wait_store::{Store, StoreError};

use crate::WorkerConfig;
use crate::report::Event;

/// Flags shared between a running job and its worker.
#[derive(Debug, Clone, Default)]
pub(crate) struct JobFlags {
    /// Stop the work (a user's cancel, a lost lease, or a hand-back).
    pub cancel: Arc<AtomicBool>,
    /// Another worker owns the job now: write nothing more.
    pub lost: Arc<AtomicBool>,
    /// The worker is shutting down and its drain deadline passed: give the job back to
    /// the queue instead of cancelling it.
    pub handback: Arc<AtomicBool>,
}

/// Write log lines and progress changes in order. Progress is written only when the
/// percentage or stage changes, so a fast libwim callback costs no database writes.
pub(crate) async fn drain_events(
    store: Store,
    job_id: uuid::Uuid,
    attempt: i64,
    mut rx: mpsc::UnboundedReceiver<Event>,
) {
    let mut last: Option<(u8, std::borrow::Cow<'static, str>)> = None;
    while let Some(event) = rx.recv().await {
        let result = match event {
            Event::Log {
                level,
                stage,
                message,
            } => store
                .append_log(job_id, level, Some(&stage), &message)
                .await
                .map(drop),
            Event::Progress { percent, stage } => {
                if last.as_ref() == Some(&(percent, stage.clone())) {
                    continue;
                }
                let written = store.set_progress(job_id, attempt, percent, &stage).await;
                last = Some((percent, stage));
                written
            }
            Event::Flush(done) => {
                let _ = done.send(());
                Ok(())
            }
        };
        if let Err(e) = result {
            if !matches!(e, StoreError::LeaseLost { .. }) {
                tracing::warn!(%job_id, error = %e, "could not record job progress");
            }
        }
    }
}

/// Renew the lease, watch for cancellation and hand-back, and keep the worker visible
/// to /api/health.
pub(crate) async fn keep_lease(
    store: Store,
    config: WorkerConfig,
    job_id: uuid::Uuid,
    attempt: i64,
    flags: JobFlags,
) {
    let mut ticks = 0u64;
    loop {
        tokio::time::sleep(config.heartbeat).await;
        if flags.handback.load(Ordering::Relaxed) {
            flags.cancel.store(true, Ordering::Relaxed);
        }
        match store.heartbeat(job_id, attempt, config.lease).await {
            Ok(true) => flags.cancel.store(true, Ordering::Relaxed),
            Ok(false) => {}
            Err(StoreError::LeaseLost { .. }) => {
                flags.lost.store(true, Ordering::Relaxed);
                flags.cancel.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::warn!(%job_id, error = %e, "lease heartbeat failed"),
        }
        ticks += 1;
        if ticks % 10 == 0 {
            let _ = store.worker_heartbeat(&config.name).await;
        }
    }
}
