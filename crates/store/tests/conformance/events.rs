//! The outbox: exactly one event per state change, in order, written with the change.

use std::time::Duration;

use wait_store::{EventKind, JobStatus, JobUpdate};

use crate::support::{self, TestDb};

const LEASE: Duration = Duration::from_secs(60);

async fn kinds(db: &TestDb, job_id: uuid::Uuid) -> Vec<EventKind> {
    db.store
        .job_events(job_id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

conformance! {
async fn a_full_run_writes_one_event_per_state_change(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    let a = got.attempt;
    let none = JobUpdate::default();
    for to in [
        JobStatus::PendingValidation,
        JobStatus::ProcessingValidation,
        JobStatus::Completed,
    ] {
        db.store.transition(job.job_id, a, to, &none).await.expect("transition");
    }
    assert_eq!(
        kinds(db, job.job_id).await,
        vec![
            EventKind::Queued,
            EventKind::Started,
            EventKind::BuildSucceeded,
            EventKind::Started,
            EventKind::Completed,
        ]
    );
    let events = db.store.job_events(job.job_id).await.expect("events");
    let last = events.last().expect("event");
    assert_eq!(last.payload["status"], "Completed");
    assert_eq!(last.payload["job_id"], job.job_id.to_string());
    assert_eq!(events[1].payload["worker"], "w");
}

async fn a_transition_to_the_same_status_writes_no_event(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    db.store
        .transition(job.job_id, got.attempt, JobStatus::ProcessingBuild, &JobUpdate::default())
        .await
        .expect("same status");
    assert_eq!(kinds(db, job.job_id).await, vec![EventKind::Queued, EventKind::Started]);
}

async fn cancel_failure_and_sweeps_write_their_events(db: &TestDb) {
    let queued = db.store.create_job(&support::request("A"), None).await.expect("job");
    db.store.request_cancel(queued.job_id).await.expect("cancel");
    assert_eq!(kinds(db, queued.job_id).await, vec![EventKind::Queued, EventKind::Cancelled]);

    let failing = db.store.create_job(&support::request("B"), None).await.expect("job");
    let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    db.store
        .fail_attempt(failing.job_id, got.attempt, false, "bad input", JobStatus::ProcessingBuild)
        .await
        .expect("fail");
    assert_eq!(
        kinds(db, failing.job_id).await,
        vec![EventKind::Queued, EventKind::Started, EventKind::Failed]
    );

    // a running job whose cancellation was requested and whose worker died is swept to
    // Cancelled by the next claim, with its event
    let abandoned = db.store.create_job(&support::request("C"), None).await.expect("job");
    db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    db.store.request_cancel(abandoned.job_id).await.expect("cancel");
    db.expire_lease(abandoned.job_id).await;
    assert!(db.store.claim_job("w2", LEASE).await.expect("claim").is_none());
    assert_eq!(
        kinds(db, abandoned.job_id).await,
        vec![EventKind::Queued, EventKind::Started, EventKind::Cancelled]
    );
}

async fn events_after_pages_in_order_without_gaps_or_repeats(db: &TestDb) {
    for i in 0..7 {
        db.store
            .create_job(&support::request(&format!("B{i}")), None)
            .await
            .expect("job");
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = db.store.events_after(after, 3).await.expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        for e in &page {
            assert!(e.seq > after);
            after = e.seq;
            seen.push(e.id);
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 7);
    assert!(db.store.events_after(after, 100).await.expect("tail").is_empty());
}

async fn events_written_concurrently_are_all_seen_by_a_cursor(db: &TestDb) {
    // Readers page while writers commit; a cursor must never skip a late commit.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = db.store.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    store
                        .create_job(&support::request(&format!("W{w}-{i}")), None)
                        .await
                        .expect("job");
                }
            })
        })
        .collect();
    let mut after = 0;
    let mut seen = 0;
    let mut writers_done = false;
    loop {
        let page = db.store.events_after(after, 10).await.expect("page");
        for e in &page {
            assert!(e.seq > after, "positions only grow");
            after = e.seq;
            seen += 1;
        }
        if page.is_empty() {
            if writers_done {
                break;
            }
            writers_done = writers.iter().all(|w| w.is_finished());
            tokio::task::yield_now().await;
        }
    }
    for w in writers {
        w.await.expect("writer");
    }
    assert_eq!(seen, 100);
}
}
