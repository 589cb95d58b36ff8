//! Several hosts on one PostgreSQL queue: `waitctl serve --no-worker` and two
//! `waitctl worker` processes, each with its own data directory, all on the same
//! repository path (the shared mount). Jobs go in over HTTP with an API token; each is
//! built and validated by exactly one worker, both workers take work, and the outputs
//! verify with `md5sum -c`. A worker killed mid-job loses it to the other one, which
//! finishes it without a second output folder.

// Helpers below are not #[test] fns themselves; a panic is still the failure report.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{PgSchema, Proc, waitctl};
use wait_catalog::fixtures::{TreeSpec, demo_repository};

const CUSTOMER: &str = "MULTIHOST";
/// Keeps a worker busy in its build long enough that the other one must take the next
/// job, and gives the kill below a moment when a build is surely under way.
const SLOW_PUBLISH: &str = "before_stage.publish=sleep 3";

/// `waitctl <args>` on this host's data directory, the shared repository and the queue.
fn on_host(args: &[&str], data: &Path, repo: &Path, db: &str) -> Command {
    let mut c = waitctl();
    c.args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--repository")
        .arg(repo)
        .args(["--database-url", db]);
    c
}

fn run_ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The API host: a builder account, its token, and the server's base URL.
fn start_api(data: &Path, repo: &Path, db: &str) -> (Proc, String, String) {
    run_ok(&mut on_host(&["init"], data, repo, db));
    let mut add = on_host(
        &["user", "add", "ci", "--role", "builder", "--password-stdin"],
        data,
        repo,
        db,
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let token = run_ok(&mut on_host(
        &["token", "create", "--user", "ci", "--name", "multi-host"],
        data,
        repo,
        db,
    ))
    .trim()
    .to_string();

    let mut child = on_host(
        &["serve", "--no-worker", "--bind", "127.0.0.1:0"],
        data,
        repo,
        db,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("serving http://") {
                let _ = tx.send(line[at + "serving ".len()..].trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server did not report its address");
    (Proc(child), url, token)
}

/// A build host: its own data directory, the shared repository, a short lease.
fn start_worker(data: &Path, repo: &Path, db: &str) -> Proc {
    std::fs::create_dir_all(data).unwrap();
    let log = std::fs::File::create(data.join("worker.log")).unwrap();
    let child = on_host(
        &["worker", "--lease-seconds", "5", "--hook", SLOW_PUBLISH],
        data,
        repo,
        db,
    )
    .stdout(Stdio::null())
    .stderr(log)
    .spawn()
    .expect("start waitctl worker");
    Proc(child)
}

struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn submit(&self, board: &str, base_image: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/job", self.url))
            .bearer_auth(&self.token)
            .json(&json!({
                "motherboard_model": board,
                "base_image": base_image,
                "customer_name": CUSTOMER,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.unwrap();
        created["job_id"].as_str().unwrap().to_string()
    }

    async fn job(&self, id: &str) -> Value {
        self.get(&format!("/api/jobs/{id}")).await
    }

    async fn log(&self, id: &str) -> Vec<String> {
        let page = self
            .get(&format!("/api/jobs/{id}/logs?level=verbose&limit=1000"))
            .await;
        page["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn wait_final(&self, id: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let job = self.job(id).await;
            let status = job["status"].as_str().unwrap_or_default();
            if [
                "Completed",
                "Failed_Build",
                "Failed_Validation",
                "Cancelled",
            ]
            .contains(&status)
            {
                return job;
            }
            assert!(Instant::now() < deadline, "job did not finish: {job}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The worker named in each "Build started on worker W (attempt N of M)" line.
fn build_starts(log: &[String]) -> Vec<(String, String)> {
    log.iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("Build started on worker ")?;
            let (worker, attempt) = rest.split_once(" (attempt ")?;
            let attempt = attempt.split_whitespace().next()?;
            Some((worker.to_string(), attempt.to_string()))
        })
        .collect()
}

/// Worker names are `<host>-<pid>-<n>`.
fn pid_of(worker: &str) -> u32 {
    worker.rsplit('-').nth(1).unwrap().parse().unwrap()
}

fn md5sum_check(folder: &Path) {
    let out = Command::new("md5sum")
        .args(["-c", "checksum.md5"])
        .current_dir(folder)
        .output()
        .expect("md5sum");
    assert!(
        out.status.success(),
        "md5sum -c in {}: {}{}",
        folder.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn output_folders(repo: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo.join("8_Output").join(CUSTOMER))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn worker_logs(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| {
            let text = std::fs::read_to_string(d.join("worker.log")).unwrap_or_default();
            format!("--- {} ---\n{text}", d.display())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_two_worker_hosts_share_the_queue_and_the_repository() {
    let Some(schema) =
        PgSchema::create("api_and_two_worker_hosts_share_the_queue_and_the_repository").await
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("shared/WAIT_Repository");
    let demo = demo_repository(&repo, &TreeSpec::small(71)).unwrap();
    let db = schema.url.clone();

    let (_api, url, token) = start_api(&tmp.path().join("api-host"), &repo, &db);
    let api = Api {
        http: reqwest::Client::new(),
        url,
        token,
    };
    let dirs = [tmp.path().join("host-a"), tmp.path().join("host-b")];
    let mut workers: Vec<Option<Proc>> = dirs
        .iter()
        .map(|d| Some(start_worker(d, &repo, &db)))
        .collect();

    // Both workers are registered before any job exists, so both can claim.
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.get("/api/health").await["workers"] != 2 {
        assert!(
            Instant::now() < deadline,
            "workers did not register:\n{}",
            worker_logs(&dirs)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(api.submit(&demo.board, &demo.base_image).await);
    }
    let mut builders = BTreeSet::new();
    let mut outputs = BTreeSet::new();
    for id in &ids {
        let job = api.wait_final(id, Duration::from_secs(180)).await;
        assert_eq!(job["status"], "Completed", "{job}\n{}", worker_logs(&dirs));
        assert_eq!(job["attempt"], 1, "{job}");
        let log = api.log(id).await;
        let starts = build_starts(&log);
        assert_eq!(starts.len(), 1, "one build start for job {id}: {starts:?}");
        builders.insert(starts[0].0.clone());
        let out = job["output_dir"].as_str().unwrap().to_string();
        assert!(
            log.iter()
                .any(|l| l == &format!("Completed: 8_Output/{out}")),
            "validated: {log:?}"
        );
        assert!(
            log.iter().all(|l| !l.starts_with("FAIL ")),
            "every validation check passed: {log:?}"
        );
        md5sum_check(&repo.join("8_Output").join(&out));
        assert!(outputs.insert(out), "one folder per job");
    }
    assert_eq!(
        builders.len(),
        2,
        "both workers built jobs: {builders:?}\n{}",
        worker_logs(&dirs)
    );

    // A worker killed mid-build: the other reclaims the job once the lease runs out.
    let id = api.submit(&demo.board, &demo.base_image).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let victim = loop {
        let log = api.log(&id).await;
        if log
            .iter()
            .any(|l| l.starts_with("Running hook before_stage.publish"))
        {
            break build_starts(&log).remove(0).0;
        }
        assert!(
            Instant::now() < deadline,
            "the build did not get to publish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let slot = workers
        .iter()
        .position(|w| w.as_ref().is_some_and(|p| p.0.id() == pid_of(&victim)))
        .expect("the building worker is one of ours");
    drop(workers[slot].take()); // SIGKILL, mid-build
    let partials = |repo: &Path| -> Vec<String> {
        output_folders(repo)
            .into_iter()
            .filter(|n| n.starts_with(".partial-"))
            .collect()
    };
    assert_eq!(
        partials(&repo).len(),
        1,
        "the killed build left its unfinished folder"
    );

    let job = api.wait_final(&id, Duration::from_secs(180)).await;
    assert_eq!(job["status"], "Completed", "{job}\n{}", worker_logs(&dirs));
    assert_eq!(job["attempt"], 2, "{job}");
    let log = api.log(&id).await;
    let starts = build_starts(&log);
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_eq!(starts[0], (victim.clone(), "1".to_string()));
    assert_ne!(starts[1].0, victim, "the surviving worker took it over");
    assert_eq!(starts[1].1, "2");
    assert!(
        log.iter()
            .any(|l| l.starts_with("Removed the unfinished folder of an earlier attempt")),
        "the reclaim cleaned up the killed attempt: {log:?}"
    );
    let out = job["output_dir"].as_str().unwrap().to_string();
    md5sum_check(&repo.join("8_Output").join(&out));
    outputs.insert(out);

    // Five jobs, five folders: no second copy of the reclaimed job, nothing partial.
    let on_disk: BTreeSet<String> = output_folders(&repo)
        .into_iter()
        .map(|n| format!("{CUSTOMER}/{n}"))
        .collect();
    assert_eq!(on_disk, outputs);
    assert!(partials(&repo).is_empty());

    drop(workers);
    schema.finish().await;
}
