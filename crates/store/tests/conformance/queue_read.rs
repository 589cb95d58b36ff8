//! `Store::queue` reads rows as JSON built by the database (`queue_read`); every job it
//! returns must equal what `get_job` (the column-by-column read) returns, on both
//! databases, including booleans, NULLs, JSON lists and text that needs escaping.

use std::time::Duration;

use wait_store::{JobOptions, JobStatus, JobUpdate, Resource};

use crate::support::{self, TestDb};

conformance! {
async fn queue_rows_equal_single_job_reads(db: &TestDb) {
    let mut full = support::request("X13SAW");
    full.driver_set = Some("WINDOWS11_X64".to_string());
    full.langpacks = vec!["de-de.cab".to_string(), "fr-fr.cab".to_string()];
    full.updates = vec!["kb1.msu".to_string()];
    full.software = vec!["tool \"quoted\".exe".to_string()];
    full.answer_file = Some("X/autounattend.xml".to_string());
    full.product_key = Some("ABCDE-12345-ABCDE-12345-ABCDE".to_string());
    full.key_variants = "both".to_string();
    full.create_iso = true;
    full.options = JobOptions {
        image_name: Some("Image-ü".to_string()),
        recompress_winre: true,
        recompress: true,
        software_switches: [(
            "tool \"quoted\".exe".to_string(),
            "/S /DIR=\"C:\\ü x\"".to_string(),
        )]
        .into(),
    };
    let first = db.store.create_job(&full, Some("builder")).await.expect("job");
    let queued = db.store.create_job(&support::request("B2"), None).await.expect("job");
    let urgent = db.store.create_job(&support::request("B3"), None).await.expect("job");
    db.store.set_priority(urgent.job_id, 5).await.expect("priority");

    let claimed = db
        .store
        .claim_job("w1", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(claimed.job_id, urgent.job_id, "priority first");
    db.store
        .set_progress(claimed.job_id, claimed.attempt, 40, "servicing")
        .await
        .expect("progress");
    db.store
        .transition(
            claimed.job_id,
            claimed.attempt,
            JobStatus::ProcessingBuild,
            &JobUpdate {
                error: Some("line one\nline \"two\" \\ tab\t ✓".to_string()),
                output_dir: Some("default/B3_x".to_string()),
                output_files: Some(vec!["install.wim".to_string()]),
                resources: Some(vec![Resource {
                    kind: "base_image".to_string(),
                    path: "1_BaseImages/a.wim".to_string(),
                    sha256: "ab".repeat(32),
                    size: 5_000_000_000,
                }]),
                add_warnings: vec!["warn 1".to_string()],
                ..JobUpdate::default()
            },
        )
        .await
        .expect("transition");
    let queue = db.store.queue().await.expect("queue");
    let ids: Vec<_> = queue.iter().map(|j| j.job_id).collect();
    assert_eq!(ids, vec![urgent.job_id, first.job_id, queued.job_id]);
    for job in &queue {
        let single = db.store.get_job(job.job_id).await.expect("get").expect("found");
        assert_eq!(job, &single);
    }
    assert!(queue[1].request.create_iso);
    assert!(!queue[0].cancel_requested);
}
}
