use wait_store::{LogLevel, StoreError};

use crate::support::{self, TestDb};

conformance! {
async fn log_seq_is_gapless_under_concurrent_appends(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = db.store.clone();
        let id = job.job_id;
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25 {
                let seq = store
                    .append_log(
                        id,
                        LogLevel::Normal,
                        Some("test"),
                        &format!("task {t} line {i}"),
                    )
                    .await
                    .expect("append");
                seqs.push(seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<i64>>());

    let lines = db
        .store
        .logs_after(job.job_id, 0, true, 1000)
        .await
        .expect("logs");
    let seqs: Vec<i64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<i64>>());
    assert_eq!(db.store.last_log_seq(job.job_id).await.expect("last"), 200);
}

async fn logs_after_hides_verbose_lines_unless_asked(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("A"), None)
        .await
        .expect("job");
    db.store
        .append_log(job.job_id, LogLevel::Normal, Some("s"), "one")
        .await
        .expect("log");
    db.store
        .append_log(job.job_id, LogLevel::Verbose, None, "two")
        .await
        .expect("log");
    db.store
        .append_log(job.job_id, LogLevel::Normal, None, "three")
        .await
        .expect("log");

    let normal = db
        .store
        .logs_after(job.job_id, 0, false, 100)
        .await
        .expect("logs");
    let seqs: Vec<i64> = normal.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, vec![1, 3]);
    assert_eq!(normal[0].stage.as_deref(), Some("s"));

    let all = db
        .store
        .logs_after(job.job_id, 0, true, 100)
        .await
        .expect("logs");
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].level, LogLevel::Verbose);
    assert_eq!(all[1].message, "two");

    let tail = db
        .store
        .logs_after(job.job_id, 1, true, 1)
        .await
        .expect("logs");
    assert_eq!(tail.iter().map(|l| l.seq).collect::<Vec<_>>(), vec![2]);
}

async fn each_job_has_its_own_log_sequence(db: &TestDb) {
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
    assert_eq!(
        db.store
            .append_log(a.job_id, LogLevel::Normal, None, "a1")
            .await
            .expect("log"),
        1
    );
    assert_eq!(
        db.store
            .append_log(b.job_id, LogLevel::Normal, None, "b1")
            .await
            .expect("log"),
        1
    );
    assert_eq!(
        db.store
            .append_log(a.job_id, LogLevel::Normal, None, "a2")
            .await
            .expect("log"),
        2
    );
}

async fn append_log_to_unknown_job_is_not_found(db: &TestDb) {
    let err = db
        .store
        .append_log(uuid::Uuid::now_v7(), LogLevel::Normal, None, "orphan")
        .await
        .expect_err("refused");
    assert!(matches!(err, StoreError::NotFound { .. }));
}
}
