//! `waitctl job …` and `waitctl login` against a real `waitctl serve`: the client binary
//! creates, follows, lists, clones, cancels and downloads over HTTP only, and its
//! errors say what went wrong.

// Helpers below are not #[test] fns; a panic is still the failure report.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Proc, waitctl};

const BOARD: &str = "X13SAW";
const IMAGE: &str = "WINDOWS11_IOT_LTSC_24H2_EN_US_X64.wim";
const PASSWORD: &str = "correct horse battery";

/// A served data directory with an admin `alice`, her API token and a private config
/// folder for saved sessions.
struct Site {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    scratch: PathBuf,
    url: String,
    token: String,
    _server: Proc,
}

fn admin(args: &[&str], data: &Path, stdin: Option<&str>) -> Output {
    let mut c = waitctl();
    c.args(args).arg("--data-dir").arg(data);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "waitctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn site(worker: bool) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = tmp.path().join("config");
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    admin(&["init"], &data, None);
    wait_catalog::fixtures::demo_repository(
        &data.join("WAIT_Repository"),
        &wait_catalog::fixtures::TreeSpec::small(11),
    )
    .unwrap();
    admin(
        &[
            "user",
            "add",
            "alice",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &data,
        Some(&format!("{PASSWORD}\n")),
    );
    let out = admin(
        &["token", "create", "--user", "alice", "--name", "cli"],
        &data,
        None,
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let mut serve = waitctl();
    serve
        .args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data);
    if !worker {
        serve.arg("--no-worker");
    }
    let mut child = serve
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
    Site {
        _tmp: tmp,
        data,
        config,
        scratch,
        url,
        token,
        _server: Proc(child),
    }
}

impl Site {
    /// The client with no credential or server from the environment, and its own
    /// config folder (so no real saved session is read or written).
    fn bare(&self, args: &[&str]) -> std::process::Command {
        let mut c = waitctl();
        c.env_remove("WAIT_SERVER")
            .env_remove("WAIT_TOKEN")
            .env("XDG_CONFIG_HOME", &self.config)
            .env("HOME", &self.config)
            .args(args);
        c
    }

    /// The client with `--server` and the API token.
    fn client(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.bare(args);
        c.args(["--server", &self.url, "--token", &self.token]);
        c
    }

    fn output_root(&self) -> PathBuf {
        self.data.join("WAIT_Repository/8_Output")
    }
}

/// Run to the end; a command that hangs is killed and fails the test.
fn finish(mut c: std::process::Command) -> Output {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).map(|_| v)
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stderr.read_to_end(&mut v).map(|_| v)
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("client command did not end by itself");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap().unwrap(),
        stderr: err_reader.join().unwrap().unwrap(),
    }
}

fn ok(c: std::process::Command) -> String {
    let out = finish(c);
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn failed(c: std::process::Command) -> String {
    let out = finish(c);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

/// The id on the `job <id> queued…` line.
fn created_id(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("job ") && l.contains(" queued"))
        .unwrap_or_else(|| panic!("no queued line: {stdout}"));
    line.split_whitespace().nth(1).unwrap().to_string()
}

fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn client_builds_follows_clones_and_downloads_over_http() {
    let s = site(true);

    // create --wait: a progress bar on a terminal, then the final state; exit 0
    let out = ok(s.client(&[
        "job",
        "create",
        "--board",
        BOARD,
        "--image",
        IMAGE,
        "--customer",
        "AABBCCE",
        "--wait",
    ]));
    let id = created_id(&out);
    assert!(out.contains(&format!("job {id} Completed")), "{out}");
    assert!(out.contains("output: AABBCCE/"), "{out}");

    let status = ok(s.client(&["job", "status", &id]));
    assert!(status.contains("status:    Completed"), "{status}");
    let job = json(ok(s.client(&["job", "status", &id, "--json"])).trim());
    assert_eq!(job["status"], "Completed");
    assert_eq!(job["created_by"], "alice");
    let output_dir = job["output_dir"].as_str().unwrap().to_string();

    let listed = ok(s.client(&[
        "job",
        "list",
        "--status",
        "Completed",
        "--customer",
        "AABBCCE",
    ]));
    assert!(listed.contains(&id), "{listed}");
    let page = json(ok(s.client(&["job", "list", "--json", "--limit", "5"])).trim());
    assert!(
        page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["job_id"] == id.as_str())
    );

    // logs: a page read, then a follow of a finished job that ends by itself
    let logs = ok(s.client(&["job", "logs", &id]));
    assert!(logs.lines().count() > 3, "{logs}");
    let followed = ok(s.client(&["job", "logs", &id, "-f"]));
    assert_eq!(
        followed.lines().collect::<Vec<_>>(),
        logs.lines().collect::<Vec<_>>(),
        "the stream shows the same lines as the log page"
    );
    let events = ok(s.client(&["job", "logs", &id, "-f", "--json"]));
    let events: Vec<Value> = events.lines().map(json).collect();
    assert!(events.iter().any(|e| e["event"] == "log"));
    let last_status = events
        .iter()
        .rev()
        .find(|e| e["event"] == "status")
        .unwrap();
    assert_eq!(last_status["data"]["status"], "Completed");

    // clone: same inputs, new job
    let cloned = ok(s.client(&["job", "clone", &id]));
    assert!(cloned.contains("inputs unchanged"), "{cloned}");
    let cloned = json(ok(s.client(&["job", "clone", &id, "--strict", "--json"])).trim());
    assert_eq!(cloned["inputs"], "unchanged");
    assert_ne!(cloned["job_id"], id.as_str());

    // the checksum file, byte for byte
    let folder = s.output_root().join(&output_dir);
    let sums = s.scratch.join("sums.txt");
    ok(s.client(&[
        "job",
        "download",
        &id,
        "--what",
        "checksum",
        "-o",
        sums.to_str().unwrap(),
    ]));
    assert_eq!(
        std::fs::read(&sums).unwrap(),
        std::fs::read(folder.join("checksum.sha256")).unwrap()
    );

    // the image into a folder: the server's file name, checked by sha256sum too
    let wim_name = job["output_files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|f| f.ends_with(".wim"))
        .unwrap()
        .to_string();
    let got = ok(s.client(&[
        "job",
        "download",
        &id,
        "--what",
        "wim",
        "-o",
        s.scratch.to_str().unwrap(),
    ]));
    assert!(got.contains("SHA-256 verified"), "{got}");
    let downloaded = s.scratch.join(&wim_name);
    let original = folder.join(&wim_name);
    assert_eq!(sha256sum(&downloaded), sha256sum(&original));
    let sums_text = std::fs::read_to_string(&sums).unwrap();
    let hash = sha256sum(&downloaded);
    assert!(
        sums_text
            .lines()
            .any(|l| l.starts_with(&hash) && l.ends_with(&wim_name)),
        "{sums_text}"
    );

    // a truncated file is continued where it stopped
    let whole = std::fs::read(&original).unwrap();
    let half = whole.len() / 2;
    let partial = s.scratch.join("partial.wim");
    std::fs::write(&partial, &whole[..half]).unwrap();
    let got = ok(s.client(&[
        "job",
        "download",
        &id,
        "--what",
        "wim",
        "--json",
        "-o",
        partial.to_str().unwrap(),
    ]));
    let report = json(got.trim());
    assert_eq!(report["resumed_from"], half as u64);
    assert_eq!(report["bytes"], whole.len() as u64);
    assert_eq!(std::fs::read(&partial).unwrap(), whole);

    // a partial file with wrong bytes is caught by the checksum, not passed off
    let mut bad = whole[..half].to_vec();
    bad[0] ^= 0xff;
    let corrupt = s.scratch.join("corrupt.wim");
    std::fs::write(&corrupt, &bad).unwrap();
    let err = failed(s.client(&[
        "job",
        "download",
        &id,
        "--what",
        "wim",
        "-o",
        corrupt.to_str().unwrap(),
    ]));
    assert!(err.contains("does not match"), "{err}");

    // an API error names the field
    let err = failed(s.client(&["job", "create", "--board", "NOPE", "--image", IMAGE]));
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("(field: motherboard_model)"), "{err}");
    let err = failed(s.client(&["job", "status", "not-a-uuid"]));
    assert!(err.contains("(field: job_id)"), "{err}");
}

#[test]
fn login_session_drives_queued_job_cancel_without_a_token() {
    // no worker: a created job stays queued until it is cancelled
    let s = site(false);

    // without a token or a session the server says so
    let err = failed(s.bare(&["job", "list", "--server", &s.url]));
    assert!(err.starts_with("error: "), "{err}");

    let mut login = s.bare(&[
        "login",
        "--server",
        &s.url,
        "--user",
        "alice",
        "--password-stdin",
    ]);
    let mut child = login
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let session = s.config.join("wait/session.json");
    let mode = std::fs::metadata(&session).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "session file is private");
    let saved = std::fs::read_to_string(&session).unwrap();
    assert!(!saved.contains(PASSWORD), "the password is never saved");
    assert_eq!(json(&saved)["server"], s.url.as_str());

    // no --server and no --token: the saved session's server and token are used
    let out = ok(s.bare(&["job", "create", "--board", BOARD, "--image", IMAGE]));
    let id = created_id(&out);
    assert!(out.contains("queue position 1"), "{out}");
    let job = json(ok(s.bare(&["job", "status", &id, "--json"])).trim());
    assert_eq!(job["status"], "Queued");
    assert_eq!(job["created_by"], "alice");

    let out = ok(s.bare(&["job", "cancel", &id]));
    assert!(out.contains("Cancelled"), "{out}");
    let job = json(ok(s.bare(&["job", "status", &id, "--json"])).trim());
    assert_eq!(job["status"], "Cancelled");
    // following a cancelled job ends at once, with exit 1 (not Completed)
    let out = finish(s.bare(&["job", "logs", &id, "-f"]));
    assert_eq!(out.status.code(), Some(1));

    // cancelling twice: the server's 409 comes back as an error
    let err = failed(s.bare(&["job", "cancel", &id]));
    assert!(err.starts_with("error: "), "{err}");

    // the session is not sent to another server; an unreachable one is named
    let err = failed(s.bare(&["job", "status", "--server", "http://127.0.0.1:1"]));
    assert!(
        err.contains("cannot reach the WAIT server at http://127.0.0.1:1"),
        "{err}"
    );
}
