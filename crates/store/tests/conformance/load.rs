//! Many workers, one queue: every job runs exactly once and never has two holders.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;
use wait_store::{EventKind, JobStatus, JobUpdate};

use crate::support::{self, TestDb};

const LEASE: Duration = Duration::from_secs(60);
const JOBS: usize = 200;
const WORKERS: usize = 4;

#[derive(Default)]
struct Ledger {
    /// Who holds each job right now.
    holders: HashMap<Uuid, HashSet<String>>,
    /// How many times each job was run.
    runs: HashMap<Uuid, usize>,
    /// Largest number of simultaneous holders ever seen for one job.
    max_holders: usize,
}

conformance! {
async fn four_workers_run_two_hundred_jobs_exactly_once(db: &TestDb) {
    let mut created = HashSet::new();
    for i in 0..JOBS {
        let job = db
            .store
            .create_job(&support::request(&format!("B{i}")), None)
            .await
            .expect("job");
        created.insert(job.job_id);
    }
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let store = db.store.clone();
        let ledger = Arc::clone(&ledger);
        tasks.push(tokio::spawn(async move {
            let name = format!("w{w}");
            while let Some(job) = store.claim_job(&name, LEASE).await.expect("claim") {
                {
                    let mut l = ledger.lock().expect("ledger");
                    let holders = l.holders.entry(job.job_id).or_default();
                    holders.insert(name.clone());
                    let n = holders.len();
                    l.max_holders = l.max_holders.max(n);
                    *l.runs.entry(job.job_id).or_default() += 1;
                }
                tokio::task::yield_now().await;
                {
                    let mut l = ledger.lock().expect("ledger");
                    if let Some(h) = l.holders.get_mut(&job.job_id) {
                        h.remove(&name);
                    }
                }
                store
                    .transition(job.job_id, job.attempt, JobStatus::Completed, &JobUpdate::default())
                    .await
                    .expect("complete");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker task");
    }
    {
        let l = ledger.lock().expect("ledger");
        assert_eq!(l.max_holders, 1, "a job had two holders at once");
        assert_eq!(l.runs.len(), JOBS, "every job ran");
        assert!(l.runs.values().all(|&n| n == 1), "some job ran twice");
        assert_eq!(l.runs.keys().copied().collect::<HashSet<_>>(), created);
    }
    let done = db
        .store
        .get_jobs_by_status(JobStatus::Completed)
        .await
        .expect("completed");
    assert_eq!(done.len(), JOBS);
    assert!(done.iter().all(|j| j.attempt == 1));

    // one queued, one started, one completed event per job
    let events = db.store.events_after(0, 10_000).await.expect("events");
    assert_eq!(events.len(), 3 * JOBS);
    let mut per_job: HashMap<Uuid, Vec<EventKind>> = HashMap::new();
    for e in &events {
        per_job.entry(e.job_id).or_default().push(e.kind);
    }
    for kinds in per_job.values() {
        assert_eq!(
            kinds,
            &vec![EventKind::Queued, EventKind::Started, EventKind::Completed]
        );
    }
}
}
