//! The job stream: Server-Sent Events built by polling the store, so it follows jobs run
//! by workers in other processes too.
//!
//! Events: `log` (id = line seq, resumable with Last-Event-ID), `status` on every status
//! change, `progress` on every progress/stage change, heartbeat comments. The stream ends
//! once the job is final and all its lines were sent, when the job disappears, or when
//! the server shuts down.

use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Serialize;
use uuid::Uuid;
use wait_store::{Job, JobStatus};

use crate::AppState;
use crate::views::LogView;

/// Lines fetched per store query.
const PAGE: i64 = 500;

#[derive(Serialize)]
struct StatusData<'a> {
    job_id: Uuid,
    status: JobStatus,
    error: Option<&'a str>,
    queue_position: Option<u32>,
}

#[derive(Serialize)]
struct ProgressData<'a> {
    job_id: Uuid,
    progress: u8,
    stage: Option<&'a str>,
}

fn event(name: &'static str, data: &impl Serialize) -> Event {
    match Event::default().event(name).json_data(data) {
        Ok(e) => e,
        // Serialising these plain structs cannot fail; send an empty event if it ever does.
        Err(_) => Event::default().event(name),
    }
}

fn error_event() -> Event {
    Event::default()
        .event("error")
        .data(r#"{"error":{"code":"internal","message":"the stream stopped on a server error"}}"#)
}

pub(crate) fn job_stream(
    state: AppState,
    job: Job,
    after: i64,
    verbose: bool,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let heartbeat = state.config.stream_heartbeat;
    let poll = state.config.stream_poll;
    let mut shutdown = state.shutdown_signal();
    let store = state.store;
    let job_id = job.job_id;
    let product_key = job.request.product_key.clone();

    let events = async_stream::stream! {
        let mut last_seq = after;
        let mut status = job.status;
        let mut progress = (job.progress, job.stage.clone());
        let first_position = store.queue_position(job_id).await.ok().flatten();
        yield Ok(event("status", &StatusData { job_id, status, error: job.error.as_deref(), queue_position: first_position }));
        yield Ok(event("progress", &ProgressData { job_id, progress: progress.0, stage: progress.1.as_deref() }));
        let mut final_seen = status.is_final();

        loop {
            // Send every line written so far, page by page.
            loop {
                let lines = match store.logs_after(job_id, last_seq, verbose, PAGE).await {
                    Ok(lines) => lines,
                    Err(e) => {
                        tracing::error!(%job_id, error = %e, "job stream: reading logs failed");
                        yield Ok(error_event());
                        return;
                    }
                };
                let full = i64::try_from(lines.len()).unwrap_or(PAGE) >= PAGE;
                for line in lines {
                    last_seq = line.seq;
                    let seq = line.seq;
                    let view = LogView::new(line, product_key.as_deref());
                    yield Ok(event("log", &view).id(seq.to_string()));
                }
                if !full {
                    break;
                }
            }
            // Lines are read before the status, so once a final status was seen on the
            // previous round, this round's lines are the last ones.
            if final_seen {
                return;
            }

            let current = match store.get_job(job_id).await {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(%job_id, error = %e, "job stream: reading the job failed");
                    yield Ok(error_event());
                    return;
                }
            };
            if current.status != status {
                status = current.status;
                let position = if status == JobStatus::Queued {
                    store.queue_position(job_id).await.ok().flatten()
                } else {
                    None
                };
                yield Ok(event("status", &StatusData { job_id, status, error: current.error.as_deref(), queue_position: position }));
            }
            let now = (current.progress, current.stage.clone());
            if now != progress {
                progress = now;
                yield Ok(event("progress", &ProgressData { job_id, progress: progress.0, stage: progress.1.as_deref() }));
            }
            if status.is_final() {
                // One more pass over the logs, then stop.
                final_seen = true;
                continue;
            }

            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    };
    Sse::new(events).keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
}
