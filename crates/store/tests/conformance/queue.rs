use std::collections::HashSet;
use std::time::Duration;

use wait_store::{CancelOutcome, JobStatus, JobUpdate, StoreError};

const LEASE: Duration = Duration::from_secs(60);

use crate::support::{self, TestDb};

conformance! {
async fn claim_returns_none_when_queue_is_empty(db: &TestDb) {
    assert!(
        db.store
            .claim_job("w1", LEASE)
            .await
            .expect("claim")
            .is_none()
    );
}

async fn claims_follow_fifo_order(db: &TestDb) {
    let mut created = Vec::new();
    for i in 0..4 {
        created.push(
            db.store
                .create_job(&support::request(&format!("B{i}")), None)
                .await
                .expect("job")
                .job_id,
        );
    }
    let mut claimed = Vec::new();
    while let Some(job) = db.store.claim_job("w1", LEASE).await.expect("claim") {
        assert_eq!(job.status, JobStatus::ProcessingBuild);
        assert_eq!(job.attempt, 1);
        assert_eq!(job.lease_owner.as_deref(), Some("w1"));
        assert!(job.started_at.is_some());
        assert!(job.lease_expires_at.is_some());
        claimed.push(job.job_id);
    }
    assert_eq!(claimed, created);
}

async fn higher_priority_is_claimed_first(db: &TestDb) {
    let first = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let urgent = db
        .store
        .create_job(&support::request("B"), None)
        .await
        .expect("job");
    db.store
        .set_priority(urgent.job_id, 10)
        .await
        .expect("priority");

    let queue: Vec<_> = db
        .store
        .queue()
        .await
        .expect("queue")
        .into_iter()
        .map(|j| j.job_id)
        .collect();
    assert_eq!(queue, vec![urgent.job_id, first.job_id]);
    assert_eq!(
        db.store.queue_position(urgent.job_id).await.expect("pos"),
        Some(1)
    );
    assert_eq!(
        db.store.queue_position(first.job_id).await.expect("pos"),
        Some(2)
    );

    let got = db
        .store
        .claim_job("w1", LEASE)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(got.job_id, urgent.job_id);
}

async fn concurrent_claimers_never_get_the_same_job(db: &TestDb) {
    for i in 0..5 {
        db.store
            .create_job(&support::request(&format!("B{i}")), None)
            .await
            .expect("job");
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_job(&format!("w{w}"), LEASE).await
        }));
    }
    let mut ids = Vec::new();
    let mut empty = 0;
    for t in tasks {
        match t.await.expect("task").expect("claim") {
            Some(job) => ids.push(job.job_id),
            None => empty += 1,
        }
    }
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), 5, "every job claimed once");
    assert_eq!(unique.len(), 5, "no job claimed twice");
    assert_eq!(empty, 3);
}

async fn queue_lists_running_first_then_queued_with_positions(db: &TestDb) {
    let a = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let b = db
        .store
        .create_job(&support::request("B"), None)
        .await
        .expect("job");
    let c = db
        .store
        .create_job(&support::request("C"), None)
        .await
        .expect("job");
    let running = db
        .store
        .claim_job("w1", LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(running.job_id, a.job_id);

    let order: Vec<_> = db
        .store
        .queue()
        .await
        .expect("queue")
        .into_iter()
        .map(|j| j.job_id)
        .collect();
    assert_eq!(order, vec![a.job_id, b.job_id, c.job_id]);
    assert_eq!(db.store.queue_position(a.job_id).await.expect("pos"), None);
    assert_eq!(
        db.store.queue_position(b.job_id).await.expect("pos"),
        Some(1)
    );
    assert_eq!(
        db.store.queue_position(c.job_id).await.expect("pos"),
        Some(2)
    );
    let current = db
        .store
        .current_or_latest_job()
        .await
        .expect("current")
        .expect("job");
    assert_eq!(current.job_id, a.job_id);
}

async fn reclaimed_job_fences_out_the_first_worker(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let first = db
        .store
        .claim_job("w1", LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(first.attempt, 1);
    db.store
        .set_progress(job.job_id, 1, 40, "export")
        .await
        .expect("progress while owned");

    db.expire_lease(job.job_id).await;
    let second = db
        .store
        .claim_job("w2", LEASE)
        .await
        .expect("claim")
        .expect("reclaimed");
    assert_eq!(second.job_id, job.job_id);
    assert_eq!(second.attempt, 2);
    assert_eq!(second.lease_owner.as_deref(), Some("w2"));
    assert_eq!(
        second.started_at, first.started_at,
        "started_at keeps the first start"
    );

    let lost =
        |r: Result<_, StoreError>| matches!(r, Err(StoreError::LeaseLost { attempt: 1, .. }));
    assert!(lost(
        db.store.heartbeat(job.job_id, 1, LEASE).await.map(|_| ())
    ));
    assert!(lost(db.store.set_progress(job.job_id, 1, 90, "late").await));
    assert!(lost(
        db.store
            .transition(job.job_id, 1, JobStatus::Completed, &JobUpdate::default())
            .await
            .map(|_| ())
    ));

    // the current owner is unaffected
    assert!(
        !db.store
            .heartbeat(job.job_id, 2, LEASE)
            .await
            .expect("heartbeat")
    );
    let now = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(now.status, JobStatus::ProcessingBuild);
    assert_eq!(now.lease_owner.as_deref(), Some("w2"));
}

async fn job_fails_when_lease_expires_more_than_max_attempts(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    for attempt in 1..=3 {
        let got = db
            .store
            .claim_job("w", LEASE)
            .await
            .expect("claim")
            .expect("job");
        assert_eq!(got.attempt, attempt);
        db.expire_lease(job.job_id).await;
    }
    assert!(
        db.store
            .claim_job("w", LEASE)
            .await
            .expect("claim")
            .is_none()
    );
    let failed = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(failed.status, JobStatus::FailedBuild);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or("")
            .contains("lease expired too many times")
    );
    assert!(failed.finished_at.is_some());
    assert!(failed.lease_owner.is_none());
}

async fn full_flow_to_completed_sets_finished_and_clears_lease(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let got = db
        .store
        .claim_job("w", LEASE)
        .await
        .expect("claim")
        .expect("job");
    let update = JobUpdate {
        stage: Some("build".into()),
        add_warnings: vec!["first".into()],
        ..JobUpdate::default()
    };
    let pending = db
        .store
        .transition(
            job.job_id,
            got.attempt,
            JobStatus::PendingValidation,
            &update,
        )
        .await
        .expect("pending");
    assert_eq!(pending.status, JobStatus::PendingValidation);
    assert!(pending.lease_owner.is_some());
    let validating = db
        .store
        .transition(
            job.job_id,
            got.attempt,
            JobStatus::ProcessingValidation,
            &JobUpdate {
                add_warnings: vec!["second".into()],
                ..JobUpdate::default()
            },
        )
        .await
        .expect("validating");
    assert_eq!(
        validating.warnings,
        vec!["first".to_string(), "second".to_string()]
    );
    let done = db
        .store
        .transition(
            job.job_id,
            got.attempt,
            JobStatus::Completed,
            &JobUpdate {
                output_dir: Some("default/20250101_000000_A".into()),
                output_files: Some(vec!["install.wim".into()]),
                ..JobUpdate::default()
            },
        )
        .await
        .expect("completed");
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.progress, 100);
    assert!(done.finished_at.is_some());
    assert!(done.lease_owner.is_none() && done.lease_expires_at.is_none());
    assert_eq!(done.output_files, vec!["install.wim".to_string()]);
    assert_eq!(done.stage.as_deref(), Some("build"));
    // a final job can no longer be moved by its former owner
    assert!(matches!(
        db.store
            .transition(
                job.job_id,
                got.attempt,
                JobStatus::FailedBuild,
                &JobUpdate::default()
            )
            .await,
        Err(StoreError::LeaseLost { .. })
    ));
}

async fn requeued_job_waits_for_its_backoff(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let got = db
        .store
        .claim_job("w", LEASE)
        .await
        .expect("claim")
        .expect("job");
    let back = db
        .store
        .transition(
            job.job_id,
            got.attempt,
            JobStatus::Queued,
            &JobUpdate::default(),
        )
        .await
        .expect("requeue");
    assert_eq!(back.status, JobStatus::Queued);
    assert!(back.lease_owner.is_none());
    assert!(
        db.store
            .claim_job("w", LEASE)
            .await
            .expect("claim")
            .is_none(),
        "backoff not over yet"
    );
}

async fn progress_above_100_is_refused(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let got = db
        .store
        .claim_job("w", LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert!(matches!(
        db.store
            .set_progress(job.job_id, got.attempt, 101, "x")
            .await,
        Err(StoreError::Invalid {
            field: "progress",
            ..
        })
    ));
}

async fn cancel_queued_job_cancels_it_at_once(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    assert_eq!(
        db.store.request_cancel(job.job_id).await.expect("cancel"),
        CancelOutcome::Cancelled
    );
    let read = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(read.status, JobStatus::Cancelled);
    assert!(read.finished_at.is_some());
    assert!(
        db.store
            .claim_job("w", LEASE)
            .await
            .expect("claim")
            .is_none()
    );
}

async fn cancel_running_job_asks_the_worker_through_heartbeat(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let got = db
        .store
        .claim_job("w", LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert!(
        !db.store
            .heartbeat(job.job_id, got.attempt, LEASE)
            .await
            .expect("heartbeat")
    );
    assert_eq!(
        db.store.request_cancel(job.job_id).await.expect("cancel"),
        CancelOutcome::Requested
    );
    assert!(
        db.store
            .heartbeat(job.job_id, got.attempt, LEASE)
            .await
            .expect("heartbeat")
    );
    let read = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(read.status, JobStatus::ProcessingBuild);
    assert!(read.cancel_requested);
}

async fn cancel_requested_job_whose_worker_died_is_cancelled_not_rerun(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    db.store
        .claim_job("w", LEASE)
        .await
        .expect("claim")
        .expect("job");
    db.store.request_cancel(job.job_id).await.expect("cancel");
    db.expire_lease(job.job_id).await;
    assert!(
        db.store
            .claim_job("w2", LEASE)
            .await
            .expect("claim")
            .is_none()
    );
    let read = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(read.status, JobStatus::Cancelled);
}

async fn cancel_finished_job_is_a_conflict_and_missing_job_is_not_found(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let got = db
        .store
        .claim_job("w", LEASE)
        .await
        .expect("claim")
        .expect("job");
    db.store
        .transition(
            job.job_id,
            got.attempt,
            JobStatus::Completed,
            &JobUpdate::default(),
        )
        .await
        .expect("done");
    assert!(matches!(
        db.store.request_cancel(job.job_id).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        db.store.request_cancel(uuid::Uuid::now_v7()).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn delete_refuses_unfinished_jobs_and_removes_finished_ones_with_logs(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    db.store
        .append_log(job.job_id, wait_store::LogLevel::Normal, None, "hello")
        .await
        .expect("log");
    assert!(matches!(
        db.store.delete_job(job.job_id).await,
        Err(StoreError::Conflict(_))
    ));
    db.store.request_cancel(job.job_id).await.expect("cancel");
    db.store.delete_job(job.job_id).await.expect("delete");
    assert!(db.store.get_job(job.job_id).await.expect("read").is_none());
    assert!(
        db.store
            .logs_after(job.job_id, 0, true, 100)
            .await
            .expect("logs")
            .is_empty()
    );
    assert!(matches!(
        db.store.delete_job(job.job_id).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn live_workers_counts_recent_heartbeats(db: &TestDb) {
    assert_eq!(
        db.store
            .live_workers(Duration::from_secs(30))
            .await
            .expect("count"),
        0
    );
    db.store.worker_heartbeat("w1").await.expect("hb");
    db.store.worker_heartbeat("w1").await.expect("hb");
    db.store.worker_heartbeat("w2").await.expect("hb");
    assert_eq!(
        db.store
            .live_workers(Duration::from_secs(30))
            .await
            .expect("count"),
        2
    );
}
}
