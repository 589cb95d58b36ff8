//! A backup taken while a build runs: `waitctl serve` (SQLite) with a config file builds
//! a job that a `before_stage.write` hook holds in the middle; `waitctl backup` copies the
//! database meanwhile. A config pointed at the copy passes `config check`, and a server
//! started on it lists the job (and accepts the API token that was in the database).
//! The original build still finishes.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::Proc;
use wait_catalog::fixtures::{TreeSpec, demo_repository};

fn waitctl(config: &Path) -> Command {
    let mut c = support::waitctl();
    for (name, _) in std::env::vars() {
        if name.starts_with("WAIT_") || name == "RUST_LOG" {
            c.env_remove(name);
        }
    }
    c.arg("--config").arg(config);
    c
}

fn run(mut c: Command) -> Output {
    let out = c.output().expect("run waitctl");
    assert!(
        out.status.success(),
        "{c:?} exited {}:\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A config file at `dir/wait.toml` for a server on `port`.
fn write_config(dir: &Path, database: &Path, repository: &Path, port: u16) -> PathBuf {
    let path = dir.join("wait.toml");
    let text = format!(
        "[paths]\ndata_dir = {:?}\nrepository = {:?}\n\n[database]\nurl = \"sqlite://{}\"\n\n\
         [server]\nbind = \"127.0.0.1:{port}\"\n\n[worker]\n\
         # Holds the build in its write stage long enough to take a backup meanwhile.\n\
         hooks = [\"before_stage.write=sleep 5\"]\n",
        dir.join("data"),
        repository,
        database.display()
    );
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(&path, text).expect("write config");
    path
}

fn serve(config: &Path, port: u16, extra: &[&str]) -> Proc {
    let mut c = waitctl(config);
    c.arg("serve")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut p = Proc(c.spawn().expect("start serve"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = p.0.try_wait().expect("try_wait");
        assert!(exited.is_none(), "serve exited early: {exited:?}");
        assert!(Instant::now() < deadline, "serve did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

/// `waitctl job status ID --json` against the server on `port`.
fn status(config: &Path, port: u16, token: &str, id: &str) -> serde_json::Value {
    let mut c = waitctl(config);
    c.args([
        "job",
        "--json",
        "--server",
        &format!("http://127.0.0.1:{port}"),
    ])
    .args(["--token", token, "status", id]);
    let out = run(c);
    serde_json::from_slice(&out.stdout).expect("status is JSON")
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_backup_taken_during_a_build_is_a_working_database() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repository = tmp.path().join("repository");
    let demo = demo_repository(&repository, &TreeSpec::small(7)).expect("demo repository");
    let port = free_port();
    let live = write_config(
        &tmp.path().join("live"),
        &tmp.path().join("live/data/wait.db"),
        &repository,
        port,
    );

    run({
        let mut c = waitctl(&live);
        c.args([
            "user",
            "add",
            "admin",
            "--role",
            "admin",
            "--password-stdin",
        ]);
        let password = tmp.path().join("password");
        std::fs::write(&password, "a-long-password\n").expect("write password");
        c.stdin(std::fs::File::open(&password).expect("password file"));
        c
    });
    let token = run({
        let mut c = waitctl(&live);
        c.args([
            "token",
            "create",
            "--user",
            "admin",
            "--name",
            "backup-test",
        ]);
        c
    });
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();

    let server = serve(&live, port, &[]);
    let created = run({
        let mut c = waitctl(&live);
        c.args([
            "job",
            "--json",
            "--server",
            &format!("http://127.0.0.1:{port}"),
        ])
        .args(["--token", &token, "create", "--board", &demo.board])
        .args(["--image", &demo.base_image, "--customer", "LIVE"]);
        c
    });
    let created: serde_json::Value =
        serde_json::from_slice(&created.stdout).expect("create prints JSON");
    let id = created["job_id"].as_str().expect("job_id").to_string();

    // The hook sleeps before the write stage: the build is in the middle of its work.
    wait_until("the write stage", || {
        status(&live, port, &token, &id)["stage"].as_str() == Some("write")
    });
    let copy = tmp.path().join("backups/wait.db");
    std::fs::create_dir_all(copy.parent().expect("parent")).expect("mkdir");
    run({
        let mut c = waitctl(&live);
        c.arg("backup").arg("--output").arg(&copy);
        c
    });
    let during = status(&live, port, &token, &id);
    assert_eq!(
        during["status"], "Processing_Build",
        "the backup ran during the build"
    );

    // The build is not disturbed by the copy.
    wait_until("the live job to finish", || {
        let s = status(&live, port, &token, &id);
        s["status"] != "Processing_Build" && s["status"] != "Processing_Validation"
    });
    assert_eq!(status(&live, port, &token, &id)["status"], "Completed");
    drop(server);

    // The copy, as a database of its own.
    let port2 = free_port();
    let restored = write_config(&tmp.path().join("restored"), &copy, &repository, port2);
    run({
        let mut c = waitctl(&restored);
        c.args(["config", "check"]);
        c
    });
    let _server2 = serve(&restored, port2, &["--no-worker"]);
    let listed = run({
        let mut c = waitctl(&restored);
        c.args([
            "job",
            "--json",
            "--server",
            &format!("http://127.0.0.1:{port2}"),
        ])
        .args(["--token", &token, "list"]);
        c
    });
    let page: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("a JSON page");
    let listed = page.to_string();
    let job = page["jobs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .find(|j| j["job_id"] == id.as_str())
        .unwrap_or_else(|| panic!("the backup lacks job {id}: {listed}"));
    // A point in time during the build: the job as it was then.
    assert_eq!(job["status"], "Processing_Build", "{job}");
}
