//! Webhooks: endpoints, the outbox turned into deliveries exactly once per event and
//! webhook (also with two readers racing), claims of due attempts, backoff and give-up.

use std::collections::HashSet;
use std::time::Duration;

use wait_store::{
    AttemptResult, ClaimedDelivery, DeliveryEvent, DeliveryRetry, DeliveryState, EventKind,
    NewWebhook, Store, StoreError, Webhook, WebhookChanges, WebhookFormat, WebhookSecret,
};

use crate::support::{self, TestDb};

const LEASE: Duration = Duration::from_secs(60);

async fn hook(store: &Store, events: &[EventKind]) -> Webhook {
    store
        .create_webhook(
            &NewWebhook {
                url: "https://hooks.example/wait".to_string(),
                events: events.to_vec(),
                format: WebhookFormat::Json,
                secret: WebhookSecret::new("s3cret").expect("secret"),
                active: true,
            },
            Some("admin"),
        )
        .await
        .expect("create webhook")
}

fn answered(code: u16) -> AttemptResult {
    AttemptResult {
        status_code: Some(code),
        duration: Duration::from_millis(12),
        error: None,
        permanent: false,
    }
}

/// Count rows of a raw query on the test database.
async fn count(db: &TestDb, sql: &str) -> i64 {
    db.scalar_i64(sql, None).await
}

/// Make every pending attempt due now (deterministic, no sleeping).
async fn skip_backoff(db: &TestDb) {
    db.exec(
        "UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE state = 'pending'",
        None,
    )
    .await
    .expect("skip backoff");
}

fn gap_ms(later: time::OffsetDateTime, earlier: time::OffsetDateTime) -> i128 {
    (later - earlier).whole_milliseconds()
}

async fn claim_one(store: &Store) -> ClaimedDelivery {
    let mut claimed = store
        .claim_webhook_deliveries(10, LEASE)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "exactly one attempt is due");
    claimed.remove(0)
}

conformance! {
async fn webhooks_are_created_listed_changed_and_deleted_without_showing_secrets(db: &TestDb) {
    let created = hook(&db.store, &[EventKind::Completed, EventKind::Queued]).await;
    // stored in canonical order, each once
    assert_eq!(created.events, vec![EventKind::Queued, EventKind::Completed]);
    assert_eq!(created.format, WebhookFormat::Json);
    assert!(created.active);
    assert_eq!(created.created_by.as_deref(), Some("admin"));
    let shown = serde_json::to_string(&created).expect("json");
    assert!(!shown.contains("s3cret"), "the secret is not part of a webhook: {shown}");

    assert_eq!(db.store.get_webhook(created.id).await.expect("get"), Some(created.clone()));
    assert_eq!(db.store.list_webhooks().await.expect("list"), vec![created.clone()]);

    let changed = db
        .store
        .update_webhook(
            created.id,
            &WebhookChanges {
                url: Some("https://other.example/hook".to_string()),
                events: Some(vec![EventKind::Failed]),
                format: Some(WebhookFormat::Slack),
                active: Some(false),
                secret: Some(WebhookSecret::new("rotated").expect("secret")),
            },
        )
        .await
        .expect("update");
    assert_eq!(changed.url, "https://other.example/hook");
    assert_eq!(changed.events, vec![EventKind::Failed]);
    assert_eq!(changed.format, WebhookFormat::Slack);
    assert!(!changed.active);
    assert_eq!(changed.created_at, created.created_at);
    assert_eq!(
        db.scalar_text(&format!("SELECT secret FROM webhooks WHERE id = {}", created.id), None)
            .await,
        "rotated",
        "the secret is stored as given, to sign with"
    );

    // an empty change keeps everything
    let same = db
        .store
        .update_webhook(created.id, &WebhookChanges::default())
        .await
        .expect("empty update");
    assert_eq!(same, changed);

    let none = db
        .store
        .create_webhook(
            &NewWebhook {
                url: "https://x.example".to_string(),
                events: vec![],
                format: WebhookFormat::Json,
                secret: WebhookSecret::generate(),
                active: true,
            },
            None,
        )
        .await;
    assert!(matches!(none, Err(StoreError::Invalid { field: "events", .. })), "{none:?}");

    db.store.delete_webhook(created.id).await.expect("delete");
    assert_eq!(db.store.get_webhook(created.id).await.expect("get"), None);
    for result in [
        db.store.delete_webhook(created.id).await,
        db.store
            .update_webhook(created.id, &WebhookChanges::default())
            .await
            .map(|_| ()),
        db.store.list_webhook_deliveries(created.id, 10).await.map(|_| ()),
        db.store.create_test_delivery(created.id, LEASE).await.map(|_| ()),
    ] {
        assert!(matches!(result, Err(StoreError::NotFound { .. })), "{result:?}");
    }
}

async fn each_event_is_enqueued_once_for_each_active_webhook_that_wants_it(db: &TestDb) {
    let queued_and_done = hook(&db.store, &[EventKind::Queued, EventKind::Completed]).await;
    let started = hook(&db.store, &[EventKind::Started]).await;
    let paused = hook(&db.store, &[EventKind::Queued]).await;
    db.store
        .update_webhook(paused.id, &WebhookChanges { active: Some(false), ..Default::default() })
        .await
        .expect("pause");

    let a = db.store.create_job(&support::request("A"), None).await.expect("job");
    let b = db.store.create_job(&support::request("B"), None).await.expect("job");
    db.store.claim_job("w", LEASE).await.expect("claim").expect("job");

    assert_eq!(db.store.enqueue_webhook_deliveries(100).await.expect("enqueue"), 3);
    assert_eq!(db.store.enqueue_webhook_deliveries(100).await.expect("again"), 0);

    let first = db.store.list_webhook_deliveries(queued_and_done.id, 10).await.expect("log");
    let jobs: HashSet<_> = first.iter().filter_map(|d| d.job_id).collect();
    assert_eq!(jobs, HashSet::from([a.job_id, b.job_id]));
    assert!(first.iter().all(|d| d.event == DeliveryEvent::Job(EventKind::Queued)
        && d.state == DeliveryState::Pending
        && d.attempt == 1));
    assert_ne!(first[0].delivery_id, first[1].delivery_id);
    assert!(first[0].id > first[1].id, "newest first");

    let second = db.store.list_webhook_deliveries(started.id, 10).await.expect("log");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].event, DeliveryEvent::Job(EventKind::Started));
    assert_eq!(second[0].job_id, Some(a.job_id));

    assert!(db.store.list_webhook_deliveries(paused.id, 10).await.expect("log").is_empty());
}

async fn a_webhook_receives_only_events_from_after_its_creation(db: &TestDb) {
    let before = db.store.create_job(&support::request("OLD"), None).await.expect("job");
    let hook = hook(&db.store, &[EventKind::Queued]).await;
    // the event is clearly older than the webhook, whatever the clock resolution
    db.exec(
        "UPDATE events SET created_at = created_at - 60000 WHERE job_id = $1",
        Some(&before.job_id.to_string()),
    )
    .await
    .expect("age the event");
    let after = db.store.create_job(&support::request("NEW"), None).await.expect("job");
    assert_eq!(db.store.enqueue_webhook_deliveries(100).await.expect("enqueue"), 1);
    let log = db.store.list_webhook_deliveries(hook.id, 10).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].job_id, Some(after.job_id));
}

async fn two_racing_readers_enqueue_each_event_once_per_webhook(db: &TestDb) {
    const JOBS: usize = 40;
    let one = hook(&db.store, &[EventKind::Queued]).await;
    let two = hook(&db.store, &[EventKind::Queued, EventKind::Cancelled]).await;
    let other = db.reopen().await.expect("second store");

    let producer = {
        let store = db.store.clone();
        tokio::spawn(async move {
            for i in 0..JOBS {
                let job = store
                    .create_job(&support::request(&format!("R{i}")), None)
                    .await
                    .expect("job");
                if i % 4 == 0 {
                    store.request_cancel(job.job_id).await.expect("cancel");
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut readers = Vec::new();
    for store in [db.store.clone(), other.clone()] {
        readers.push(tokio::spawn(async move {
            let mut total = 0;
            for _ in 0..200 {
                // small pages, so the readers take turns many times
                total += store.enqueue_webhook_deliveries(3).await.expect("enqueue");
                tokio::task::yield_now().await;
            }
            total
        }));
    }
    producer.await.expect("producer");
    let mut total = 0;
    for reader in readers {
        total += reader.await.expect("reader");
    }
    // whatever the readers left behind
    loop {
        let n = other.enqueue_webhook_deliveries(50).await.expect("drain");
        total += n;
        if n == 0 && db.store.enqueue_webhook_deliveries(50).await.expect("drain") == 0 {
            break;
        }
    }
    other.close().await;

    let cancelled = JOBS.div_ceil(4);
    let expected = JOBS + JOBS + cancelled;
    assert_eq!(total, expected as u64, "every reader reports what it wrote");
    assert_eq!(count(db, "SELECT COUNT(*) FROM webhook_deliveries").await, expected as i64);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM (SELECT DISTINCT webhook_id, event_id
                                            FROM webhook_deliveries) t").await,
        expected as i64,
        "no (webhook, event) pair twice"
    );
    assert_eq!(
        db.store.list_webhook_deliveries(one.id, 500).await.expect("log").len(),
        JOBS
    );
    assert_eq!(
        db.store.list_webhook_deliveries(two.id, 500).await.expect("log").len(),
        JOBS + cancelled
    );
}

async fn only_due_unleased_attempts_of_active_webhooks_are_claimed(db: &TestDb) {
    let active = hook(&db.store, &[EventKind::Queued]).await;
    let paused = hook(&db.store, &[EventKind::Queued]).await;
    db.store.create_job(&support::request("A"), None).await.expect("job");
    db.store.create_job(&support::request("B"), None).await.expect("job");
    assert_eq!(db.store.enqueue_webhook_deliveries(100).await.expect("enqueue"), 4);
    db.store
        .update_webhook(paused.id, &WebhookChanges { active: Some(false), ..Default::default() })
        .await
        .expect("pause");

    let first = db.store.claim_webhook_deliveries(1, LEASE).await.expect("claim");
    assert_eq!(first.len(), 1, "the limit holds");
    let rest = db.store.claim_webhook_deliveries(10, LEASE).await.expect("claim");
    assert_eq!(rest.len(), 1, "leased and paused attempts are not claimed");
    assert!(db.store.claim_webhook_deliveries(10, LEASE).await.expect("claim").is_empty());
    for claimed in first.iter().chain(&rest) {
        assert_eq!(claimed.webhook_id, active.id);
        assert_eq!(claimed.url, "https://hooks.example/wait");
        assert_eq!(claimed.secret.as_ref().map(WebhookSecret::expose), Some("s3cret"));
        assert_eq!(claimed.event, DeliveryEvent::Job(EventKind::Queued));
        let payload = claimed.payload.as_ref().expect("payload");
        assert_eq!(payload["status"], "Queued");
        assert_eq!(payload["job_id"], claimed.job_id.expect("job").to_string());
    }
    assert!(!format!("{:?}", first[0]).contains("s3cret"), "Debug hides the secret");

    // a dispatcher that died: its lease runs out and the attempt is claimed again
    db.exec(
        &format!("UPDATE webhook_deliveries SET lease_expires_at = 0 WHERE id = {}", first[0].id),
        None,
    )
    .await
    .expect("expire lease");
    let again = claim_one(&db.store).await;
    assert_eq!(again.id, first[0].id);
    assert_eq!(again.delivery_id, first[0].delivery_id);
    let lost = db
        .store
        .record_webhook_attempt(&first[0], &answered(200), &DeliveryRetry::default())
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "fenced: {lost:?}");
    let recorded = db
        .store
        .record_webhook_attempt(&again, &answered(204), &DeliveryRetry::default())
        .await
        .expect("record");
    assert_eq!(recorded.state, DeliveryState::Delivered);
    assert_eq!(recorded.status_code, Some(204));
    assert_eq!(recorded.duration_ms, Some(12));
    assert!(recorded.attempted_at.is_some());
    assert_eq!(recorded.next_attempt_at, None);
}

async fn a_failed_attempt_is_retried_after_a_growing_backoff(db: &TestDb) {
    let hook = hook(&db.store, &[EventKind::Queued]).await;
    db.store.create_job(&support::request("A"), None).await.expect("job");
    db.store.enqueue_webhook_deliveries(100).await.expect("enqueue");
    let retry = DeliveryRetry::default();

    let first = claim_one(&db.store).await;
    let failed = db
        .store
        .record_webhook_attempt(&first, &answered(500), &retry)
        .await
        .expect("record");
    assert_eq!(failed.state, DeliveryState::Retrying);
    assert_eq!(failed.status_code, Some(500));
    let log = db.store.list_webhook_deliveries(hook.id, 10).await.expect("log");
    assert_eq!(log.len(), 2);
    let next = &log[0];
    assert_eq!((next.attempt, next.state), (2, DeliveryState::Pending));
    assert_eq!(next.delivery_id, first.delivery_id, "one delivery, several attempts");
    let wait = gap_ms(
        next.next_attempt_at.expect("due"),
        failed.attempted_at.expect("tried"),
    );
    assert!((1000..=2000).contains(&wait), "1 s plus jitter after the first failure: {wait}");
    assert!(
        db.store.claim_webhook_deliveries(10, LEASE).await.expect("claim").is_empty(),
        "not due yet"
    );

    skip_backoff(db).await;
    let second = claim_one(&db.store).await;
    assert_eq!(second.attempt, 2);
    let refused = AttemptResult {
        status_code: None,
        duration: Duration::from_millis(3),
        error: Some("connection refused".to_string()),
        permanent: false,
    };
    let failed = db
        .store
        .record_webhook_attempt(&second, &refused, &retry)
        .await
        .expect("record");
    assert_eq!(failed.error.as_deref(), Some("connection refused"));
    let log = db.store.list_webhook_deliveries(hook.id, 10).await.expect("log");
    let wait = gap_ms(
        log[0].next_attempt_at.expect("due"),
        failed.attempted_at.expect("tried"),
    );
    assert!((16_000..=17_000).contains(&wait), "2^4 s plus jitter: {wait}");

    skip_backoff(db).await;
    let third = claim_one(&db.store).await;
    assert_eq!(third.attempt, 3);
    let done = db
        .store
        .record_webhook_attempt(&third, &answered(200), &retry)
        .await
        .expect("record");
    assert_eq!(done.state, DeliveryState::Delivered);
    let states: Vec<_> = db
        .store
        .list_webhook_deliveries(hook.id, 10)
        .await
        .expect("log")
        .iter()
        .map(|d| (d.attempt, d.state))
        .collect();
    assert_eq!(
        states,
        vec![
            (3, DeliveryState::Delivered),
            (2, DeliveryState::Retrying),
            (1, DeliveryState::Retrying),
        ]
    );
}

async fn deliveries_give_up_after_the_last_attempt_or_a_permanent_failure(db: &TestDb) {
    let hook = hook(&db.store, &[EventKind::Queued]).await;
    let retry = DeliveryRetry { max_attempts: 2, unit: Duration::ZERO, cap: Duration::ZERO };
    db.store.create_job(&support::request("A"), None).await.expect("job");
    db.store.enqueue_webhook_deliveries(100).await.expect("enqueue");

    let first = claim_one(&db.store).await;
    db.store.record_webhook_attempt(&first, &answered(503), &retry).await.expect("record");
    let second = claim_one(&db.store).await;
    let last = db
        .store
        .record_webhook_attempt(&second, &answered(503), &retry)
        .await
        .expect("record");
    assert_eq!(last.state, DeliveryState::Failed);
    assert_eq!(last.next_attempt_at, None);
    assert!(db.store.claim_webhook_deliveries(10, LEASE).await.expect("claim").is_empty());
    assert_eq!(db.store.list_webhook_deliveries(hook.id, 10).await.expect("log").len(), 2);

    // a refused target is not retried however many attempts are left
    db.store.create_job(&support::request("B"), None).await.expect("job");
    db.store.enqueue_webhook_deliveries(100).await.expect("enqueue");
    let claimed = claim_one(&db.store).await;
    let refused = AttemptResult {
        status_code: None,
        duration: Duration::ZERO,
        error: Some("refused: 10.0.0.1 is a private address".to_string()),
        permanent: true,
    };
    let recorded = db
        .store
        .record_webhook_attempt(&claimed, &refused, &DeliveryRetry::default())
        .await
        .expect("record");
    assert_eq!(recorded.state, DeliveryState::Failed);
    assert!(db.store.claim_webhook_deliveries(10, LEASE).await.expect("claim").is_empty());
}

async fn a_test_delivery_is_sent_once_and_logged(db: &TestDb) {
    let hook = hook(&db.store, &[EventKind::Queued]).await;
    let ping = db.store.create_test_delivery(hook.id, LEASE).await.expect("ping");
    assert_eq!(ping.event, DeliveryEvent::Ping);
    assert_eq!((ping.event_id, ping.job_id, ping.payload.clone()), (None, None, None));
    assert_eq!(ping.secret.as_ref().map(WebhookSecret::expose), Some("s3cret"));
    assert!(
        db.store.claim_webhook_deliveries(10, LEASE).await.expect("claim").is_empty(),
        "a dispatcher never picks up a test delivery"
    );
    let recorded = db
        .store
        .record_webhook_attempt(&ping, &answered(500), &DeliveryRetry::default())
        .await
        .expect("record");
    assert_eq!(recorded.state, DeliveryState::Failed, "a test is not retried");
    let log = db.store.list_webhook_deliveries(hook.id, 10).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event, DeliveryEvent::Ping);

    // deleting the webhook removes its log
    db.store.delete_webhook(hook.id).await.expect("delete");
    assert_eq!(count(db, "SELECT COUNT(*) FROM webhook_deliveries").await, 0);
}
}

#[test]
fn backoff_grows_with_the_fourth_power_and_is_capped() {
    let retry = DeliveryRetry::default();
    for (attempt, base) in [(1, 1), (2, 16), (3, 81), (5, 625)] {
        let d = retry.delay(attempt);
        assert!(
            d >= Duration::from_secs(base) && d <= Duration::from_secs(base + 1),
            "attempt {attempt}: {d:?}"
        );
    }
    assert_eq!(retry.delay(10), retry.cap);
    assert_eq!(
        DeliveryRetry {
            unit: Duration::ZERO,
            ..retry
        }
        .delay(3),
        Duration::ZERO
    );
}
