//! `waitctl token create | list | revoke` against a real `waitctl serve`: the printed
//! token is a working bearer token, the list never shows it, and a revoked token is
//! refused — on SQLite and on PostgreSQL.

// The shared body below is not a #[test] fn itself; a panic is still the failure report.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{PgSchema, Proc, waitctl};

fn with_db(args: &[&str], data: &Path, db: Option<&str>) -> std::process::Command {
    let mut c = waitctl();
    c.args(args).arg("--data-dir").arg(data);
    if let Some(url) = db {
        c.args(["--database-url", url]);
    }
    c
}

fn run(args: &[&str], data: &Path, db: Option<&str>) -> Output {
    let out = with_db(args, data, db).output().unwrap();
    assert!(
        out.status.success(),
        "waitctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `waitctl serve` (API only) on an ephemeral port; its base URL comes from the line it
/// logs once it listens.
fn serve(data: &Path, db: Option<&str>) -> (Proc, String) {
    let mut child = with_db(&["serve", "--bind", "127.0.0.1:0", "--no-worker"], data, db)
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
    let url = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    (Proc(child), url)
}

async fn me(url: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{url}/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn create_list_use_revoke(db: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    run(&["init"], &data, db);
    let mut add = with_db(
        &["user", "add", "ci", "--role", "builder", "--password-stdin"],
        &data,
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

    let out = run(
        &[
            "token",
            "create",
            "--user",
            "ci",
            "--name",
            "nightly",
            "--expires-days",
            "7",
        ],
        &data,
        db,
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim_end_matches('\n');
    assert!(
        token.starts_with("wait_") && !token.contains(char::is_whitespace),
        "stdout is the token alone: {stdout:?}"
    );
    assert_eq!(stdout, format!("{token}\n"), "one line, nothing else");

    let (_server, url) = serve(&data, db);
    let (status, body) = me(&url, token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "ci");
    assert_eq!(body["user"]["role"], "builder");

    let listed =
        String::from_utf8(run(&["token", "list", "--user", "ci"], &data, db).stdout).unwrap();
    assert!(!listed.contains(token), "the list never shows the secret");
    let line = listed
        .lines()
        .find(|l| l.contains("nightly"))
        .unwrap_or_else(|| panic!("token listed: {listed}"));
    assert!(line.contains("active"), "{line}");
    let id = line.split_whitespace().next().unwrap();

    let revoked = run(&["token", "revoke", id], &data, db);
    assert!(String::from_utf8_lossy(&revoked.stdout).contains("revoked"));
    let (status, _) = me(&url, token).await;
    assert_eq!(status, 401, "a revoked token is refused at once");
    let listed =
        String::from_utf8(run(&["token", "list", "--user", "ci"], &data, db).stdout).unwrap();
    assert!(listed.contains("revoked"), "{listed}");

    // an unknown user is an error, not an empty success
    let refused = with_db(
        &["token", "create", "--user", "ghost", "--name", "x"],
        &data,
        db,
    )
    .output()
    .unwrap();
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty(), "nothing on stdout on failure");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ghost"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_prints_a_bearer_token_that_the_served_api_accepts() {
    create_list_use_revoke(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_commands_work_the_same_on_postgres() {
    let Some(schema) = PgSchema::create("token_commands_work_the_same_on_postgres").await else {
        return;
    };
    create_list_use_revoke(Some(&schema.url)).await;
    schema.finish().await;
}
