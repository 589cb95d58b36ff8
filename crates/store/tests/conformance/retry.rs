//! Failures: transient ones are retried with growing backoff until max_attempts, then
//! fail; permanent ones fail at once; a graceful release does not use up an attempt.

use std::time::Duration;

use wait_store::{JobStatus, StoreError};

use crate::support::{self, TestDb};

const LEASE: Duration = Duration::from_secs(60);

conformance! {
async fn transient_failures_retry_with_growing_backoff_then_fail(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let mut waits = Vec::new();
    for attempt in 1..=3 {
        let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
        assert_eq!(got.attempt, attempt);
        let before = wait_store_now();
        let after = db
            .store
            .fail_attempt(job.job_id, attempt, true, "share went away", JobStatus::ProcessingBuild)
            .await
            .expect("fail attempt");
        if attempt < 3 {
            assert_eq!(after.status, JobStatus::Queued);
            assert_eq!(after.error.as_deref(), Some("share went away"));
            assert!(after.lease_owner.is_none());
            assert!(
                db.store.claim_job("w", LEASE).await.expect("claim").is_none(),
                "not runnable before its backoff"
            );
            waits.push(db.run_after(job.job_id).await - before);
            db.skip_backoff(job.job_id).await;
        } else {
            assert_eq!(after.status, JobStatus::FailedBuild);
            assert!(after.finished_at.is_some());
            assert!(after.error.as_deref().unwrap_or("").contains("gave up after 3 of 3"));
        }
    }
    // attempt^4 seconds plus up to a second of jitter: 1..=2 s, then 16..=17 s
    assert_eq!(waits.len(), 2);
    assert!((1_000..=2_100).contains(&waits[0]), "{waits:?}");
    assert!((16_000..=17_100).contains(&waits[1]), "{waits:?}");
    assert!(db.store.claim_job("w", LEASE).await.expect("claim").is_none());
}

async fn a_permanent_failure_is_not_retried(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    let failed = db
        .store
        .fail_attempt(job.job_id, got.attempt, false, "no such edition", JobStatus::ProcessingBuild)
        .await
        .expect("fail");
    assert_eq!(failed.status, JobStatus::FailedBuild);
    assert_eq!(failed.error.as_deref(), Some("no such edition"));
    db.skip_backoff(job.job_id).await;
    assert!(db.store.claim_job("w", LEASE).await.expect("claim").is_none());
}

async fn a_failure_in_validation_ends_failed_validation(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    let failed = db
        .store
        .fail_attempt(
            job.job_id,
            got.attempt,
            false,
            "checksum mismatch",
            JobStatus::ProcessingValidation,
        )
        .await
        .expect("fail");
    assert_eq!(failed.status, JobStatus::FailedValidation);
    assert!(matches!(
        db.store
            .fail_attempt(job.job_id, got.attempt, false, "x", JobStatus::Completed)
            .await,
        Err(StoreError::Invalid { field: "failed_in", .. })
    ));
}

async fn a_failure_reported_by_a_fenced_out_worker_is_lease_lost(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    db.store.claim_job("w1", LEASE).await.expect("claim").expect("job");
    db.expire_lease(job.job_id).await;
    let second = db.store.claim_job("w2", LEASE).await.expect("claim").expect("job");
    assert_eq!(second.attempt, 2);
    assert!(matches!(
        db.store
            .fail_attempt(job.job_id, 1, true, "late", JobStatus::ProcessingBuild)
            .await,
        Err(StoreError::LeaseLost { attempt: 1, .. })
    ));
    assert!(matches!(
        db.store.release_lease(job.job_id, 1).await,
        Err(StoreError::LeaseLost { attempt: 1, .. })
    ));
}

async fn a_cancel_requested_job_that_fails_transiently_is_cancelled(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    db.store.request_cancel(job.job_id).await.expect("cancel");
    let after = db
        .store
        .fail_attempt(job.job_id, got.attempt, true, "interrupted", JobStatus::ProcessingBuild)
        .await
        .expect("fail");
    assert_eq!(after.status, JobStatus::Cancelled);
}

async fn release_hands_the_job_back_without_using_an_attempt(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    // Released three times (graceful shutdowns), the job still has all its attempts.
    for attempt in 1..=3 {
        let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
        assert_eq!(got.attempt, attempt, "attempt is the fencing token and only grows");
        let back = db.store.release_lease(job.job_id, attempt).await.expect("release");
        assert_eq!(back.status, JobStatus::Queued);
        assert_eq!(back.attempt, attempt);
        assert!(back.lease_owner.is_none());
        assert!(matches!(
            db.store.heartbeat(job.job_id, attempt, LEASE).await,
            Err(StoreError::LeaseLost { .. })
        ));
    }
    // ... so three lease expiries may still follow before it fails
    for _ in 0..3 {
        db.store.claim_job("w", LEASE).await.expect("claim").expect("runnable at once");
        db.expire_lease(job.job_id).await;
    }
    assert!(db.store.claim_job("w", LEASE).await.expect("claim").is_none());
    let failed = db.store.get_job(job.job_id).await.expect("read").expect("job");
    assert_eq!(failed.status, JobStatus::FailedBuild);
    assert!(failed.error.as_deref().unwrap_or("").contains("3 of 3"));
}
}

fn wait_store_now() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(now).expect("time fits")
}
