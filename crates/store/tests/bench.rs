//! Queue throughput benchmark (not a test; nothing here asserts speed):
//!
//! ```text
//! WAIT_TEST_DATABASE_URL=postgres://… \
//!   cargo test -p wait-store --release --test bench -- --ignored --nocapture
//! ```
//!
//! For each setup, two runs:
//! * phases: enqueue N jobs (as many producers as workers), then the workers claim and
//!   complete them until the queue is empty; enqueue, claim+complete and end-to-end
//!   rates;
//! * mixed: producers and workers run at the same time (the API queueing while workers
//!   drain), idle workers parked in `wait_for_work`; end-to-end rate.
//!
//! Both report claim latency percentiles. Goals: SQLite with one worker ≥ 500 jobs/s,
//! PostgreSQL with eight workers ≥ 1000 jobs/s. Every job costs three commits (create,
//! claim, complete), so on PostgreSQL the rate is bounded by how many commits one WAL
//! flush can carry: see docs/decisions/0006-postgresql-queue.md.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wait_store::{JobStatus, JobUpdate, Store};

const LEASE: Duration = Duration::from_secs(60);

struct Report {
    /// Phases run: time to enqueue everything; mixed run: zero.
    enqueue: Duration,
    /// Phases run: time to drain the queue; mixed run: the whole run.
    process: Duration,
    claims: Vec<Duration>,
}

async fn produce(store: Store, producer: usize, count: usize) {
    for i in 0..count {
        store
            .create_job(&support::request(&format!("P{producer}-{i}")), None)
            .await
            .expect("enqueue");
    }
}

/// Claim and complete until the queue is empty and `producing` is false.
async fn consume(store: Store, worker: usize, producing: Arc<AtomicBool>) -> Vec<Duration> {
    let name = format!("bench-{worker}");
    let mut claims = Vec::new();
    loop {
        let t = Instant::now();
        let Some(job) = store.claim_job(&name, LEASE).await.expect("claim") else {
            if !producing.load(Ordering::Acquire) {
                break;
            }
            store.wait_for_work(Duration::from_millis(50)).await;
            continue;
        };
        claims.push(t.elapsed());
        store
            .transition(
                job.job_id,
                job.attempt,
                JobStatus::Completed,
                &JobUpdate::default(),
            )
            .await
            .expect("complete");
    }
    claims
}

fn shares(jobs: usize, parts: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..parts).map(move |p| (p, jobs / parts + usize::from(p < jobs % parts)))
}

async fn phases(store: &Store, jobs: usize, workers: usize) -> Report {
    let start = Instant::now();
    let producers: Vec<_> = shares(jobs, workers)
        .map(|(p, n)| tokio::spawn(produce(store.clone(), p, n)))
        .collect();
    for p in producers {
        p.await.expect("producer");
    }
    let enqueue = start.elapsed();

    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let consumers: Vec<_> = (0..workers)
        .map(|w| tokio::spawn(consume(store.clone(), w, Arc::clone(&done))))
        .collect();
    let mut claims = Vec::new();
    for c in consumers {
        claims.extend(c.await.expect("consumer"));
    }
    let process = start.elapsed();
    assert_eq!(claims.len(), jobs, "every job claimed once");
    Report {
        enqueue,
        process,
        claims,
    }
}

async fn mixed(store: &Store, jobs: usize, workers: usize) -> Report {
    let start = Instant::now();
    let producing = Arc::new(AtomicBool::new(true));
    let consumers: Vec<_> = (0..workers)
        .map(|w| tokio::spawn(consume(store.clone(), w, Arc::clone(&producing))))
        .collect();
    let producers: Vec<_> = shares(jobs, workers)
        .map(|(p, n)| tokio::spawn(produce(store.clone(), p, n)))
        .collect();
    for p in producers {
        p.await.expect("producer");
    }
    producing.store(false, Ordering::Release);
    let mut claims = Vec::new();
    for c in consumers {
        claims.extend(c.await.expect("consumer"));
    }
    assert_eq!(claims.len(), jobs, "every job claimed once");
    Report {
        enqueue: Duration::ZERO,
        process: start.elapsed(),
        claims,
    }
}

fn print(label: &str, jobs: usize, mut r: Report) {
    r.claims.sort_unstable();
    let pct = |p: usize| r.claims[(r.claims.len() * p / 100).min(r.claims.len() - 1)];
    let rate = |d: Duration| jobs as f64 / d.as_secs_f64();
    let phases = if r.enqueue.is_zero() {
        String::from("producers and workers together")
    } else {
        format!(
            "enqueue {:>6.0}/s, claim+complete {:>6.0}/s",
            rate(r.enqueue),
            rate(r.process)
        )
    };
    println!(
        "{label:<34} {jobs:>5} jobs | {phases:<42} | end to end {:>6.0} jobs/s | \
         claim p50 {:>5.2} ms p95 {:>5.2} ms p99 {:>5.2} ms",
        rate(r.enqueue + r.process),
        pct(50).as_secs_f64() * 1e3,
        pct(95).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark; run with --ignored --nocapture"]
async fn bench_sqlite_one_worker() {
    let jobs = 2000;
    let db = support::sqlite().await;
    print(
        "sqlite, 1 worker, phases",
        jobs,
        phases(&db.store, jobs, 1).await,
    );
    db.finish().await;
    let db = support::sqlite().await;
    print(
        "sqlite, 1 worker, mixed",
        jobs,
        mixed(&db.store, jobs, 1).await,
    );
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark; run with --ignored --nocapture"]
async fn bench_postgres_one_and_eight_workers() {
    for (workers, jobs) in [(1, 1000), (8, 4000)] {
        let Some(db) = support::postgres("bench_postgres").await else {
            return;
        };
        let label = format!("postgres, {workers} worker(s), phases");
        print(&label, jobs, phases(&db.store, jobs, workers).await);
        db.finish().await;
        let Some(db) = support::postgres("bench_postgres").await else {
            return;
        };
        let label = format!("postgres, {workers} worker(s), mixed");
        print(&label, jobs, mixed(&db.store, jobs, workers).await);
        db.finish().await;
    }
}
