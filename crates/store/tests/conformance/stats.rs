use std::time::Duration;

use wait_store::{
    BUILD_DURATION_BOUNDS_SECS, JobStatus, JobUpdate, NewWebhook, WebhookFormat, WebhookSecret,
};

use crate::support::{self, TestDb};

const LEASE: Duration = Duration::from_secs(60);

/// Pin a job's start and finish times (ms) so its duration is known exactly.
async fn set_times(db: &TestDb, job_id: &str, started: i64, finished: i64) {
    db.exec(
        &format!(
            "UPDATE build_jobs SET started_at = {started}, finished_at = {finished}
              WHERE job_id = $1"
        ),
        Some(job_id),
    )
    .await
    .expect("set times");
}

conformance! {
async fn stats_of_an_empty_store_are_all_zero(db: &TestDb) {
    let stats = db.store.stats().await.expect("stats");
    assert_eq!(stats.jobs_by_status.len(), JobStatus::ALL.len());
    assert!(stats.jobs_by_status.iter().all(|(_, n)| *n == 0));
    assert_eq!(stats.build_durations.count, 0);
    assert_eq!(stats.build_durations.sum_ms, 0);
    assert_eq!(stats.build_durations.buckets.len(), BUILD_DURATION_BOUNDS_SECS.len());
    assert!(stats.build_durations.buckets.iter().all(|(_, n)| *n == 0));
    assert_eq!(stats.webhook_attempts, Default::default());
}

async fn stats_count_jobs_per_state(db: &TestDb) {
    for i in 0..5 {
        db.store
            .create_job(&support::request(&format!("B{i}")), None)
            .await
            .expect("job");
    }
    // two running, one of them completed, one cancelled while queued
    let a = db.store.claim_job("w1", LEASE).await.expect("claim").expect("a job");
    let b = db.store.claim_job("w1", LEASE).await.expect("claim").expect("a job");
    db.store
        .transition(b.job_id, b.attempt, JobStatus::Completed, &JobUpdate::default())
        .await
        .expect("complete");
    let queued = db.store.queue().await.expect("queue");
    let waiting = queued
        .iter()
        .find(|j| j.status == JobStatus::Queued)
        .expect("a queued job");
    db.store.request_cancel(waiting.job_id).await.expect("cancel");

    let stats = db.store.stats().await.expect("stats");
    assert_eq!(stats.jobs(JobStatus::Queued), 2);
    assert_eq!(stats.jobs(JobStatus::ProcessingBuild), 1);
    assert_eq!(stats.jobs(JobStatus::Completed), 1);
    assert_eq!(stats.jobs(JobStatus::Cancelled), 1);
    assert_eq!(stats.jobs(JobStatus::FailedBuild), 0);
    let total: i64 = stats.jobs_by_status.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 5);
    // the running job has no finish time yet, so only finished jobs are measured
    assert_ne!(a.job_id, b.job_id);
}

async fn build_duration_histogram_is_cumulative_per_bound(db: &TestDb) {
    // durations: 30 s, 60 s (on the first bound), 61 s, 2 h 30 min, 4 h (past every bound)
    let durations_s = [30_i64, 60, 61, 9000, 14400];
    for (i, secs) in durations_s.iter().enumerate() {
        let job = db
            .store
            .create_job(&support::request(&format!("D{i}")), None)
            .await
            .expect("job");
        let started = 1_700_000_000_000_i64 + i64::try_from(i).expect("small") * 1000;
        set_times(db, &job.job_id.to_string(), started, started + secs * 1000).await;
    }
    // a job that started but never finished is not measured
    db.store.create_job(&support::request("R"), None).await.expect("job");
    db.store.claim_job("w1", LEASE).await.expect("claim").expect("a job");

    let h = db.store.stats().await.expect("stats").build_durations;
    assert_eq!(h.count, 5);
    assert_eq!(h.sum_ms, durations_s.iter().sum::<i64>() * 1000);
    let at = |bound: i64| {
        h.buckets
            .iter()
            .find(|(b, _)| *b == bound)
            .map(|(_, n)| *n)
            .expect("bound present")
    };
    assert_eq!(at(60), 2, "{h:?}");
    assert_eq!(at(300), 3, "{h:?}");
    assert_eq!(at(7200), 3, "{h:?}");
    assert_eq!(at(10800), 4, "{h:?}");
    assert!(h.buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{h:?}");
}

async fn webhook_attempts_are_counted_by_result(db: &TestDb) {
    let hook = db
        .store
        .create_webhook(
            &NewWebhook {
                url: "https://hooks.example/wait".to_string(),
                events: vec![wait_store::EventKind::Completed],
                format: WebhookFormat::Json,
                secret: WebhookSecret::new("s3cret").expect("secret"),
                active: true,
            },
            None,
        )
        .await
        .expect("webhook");
    let states = ["delivered", "delivered", "retrying", "failed", "pending"];
    for (i, state) in states.iter().enumerate() {
        db.exec(
            &format!(
                "INSERT INTO webhook_deliveries
                    (webhook_id, delivery_id, event, attempt, state, created_at)
                 VALUES ({}, '00000000-0000-4000-8000-00000000000{i}', 'ping', 1, $1, 0)",
                hook.id
            ),
            Some(state),
        )
        .await
        .expect("insert delivery");
    }
    let w = db.store.stats().await.expect("stats").webhook_attempts;
    assert_eq!((w.delivered, w.failed, w.gave_up), (2, 1, 1));
}
}
