//! The systemd units in deploy/systemd, run the way systemd would run them.
//!
//! There is no systemd here, so the test reads each unit itself: the hardening keys must
//! be present, and ExecStart runs exactly as written with only the installation paths
//! swapped for the built binary and a temporary copy of deploy/wait.toml (its folders
//! moved into a temporary directory) and `%i` given a worker number. The server must
//! answer /api/health, the worker must log that it started; ExecReload (SIGHUP) must
//! leave them running and KillSignal must end them cleanly within TimeoutStopSec. A typo
//! in any of those lines fails here.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use support::Proc;

const BINARY: &str = "/usr/local/bin/waitctl";
const CONFIG: &str = "/etc/wait/wait.toml";
const DATA_DIR: &str = "/var/lib/wait";
const REPOSITORY: &str = "/srv/wait-repository";

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// `Key=Value` lines of a unit file; a key given twice keeps every value in order.
fn parse_unit(path: &Path) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        assert!(
            !line.ends_with('\\'),
            "{}: continuation lines are not used",
            path.display()
        );
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{}: not a Key=Value line: {line}", path.display()));
        keys.entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }
    keys
}

fn one<'a>(unit: &'a BTreeMap<String, Vec<String>>, key: &str, name: &str) -> &'a str {
    match unit.get(key).map(Vec::as_slice) {
        Some([value]) => value,
        other => panic!("{name}: expected one {key}=, found {other:?}"),
    }
}

/// deploy/wait.toml's `[worker] drain_seconds`.
fn drain_seconds() -> u64 {
    let text = std::fs::read_to_string(deploy().join("wait.toml")).expect("deploy/wait.toml");
    let value: toml::Value = toml::from_str(&text).expect("deploy/wait.toml parses");
    value["worker"]["drain_seconds"]
        .as_integer()
        .and_then(|n| u64::try_from(n).ok())
        .expect("deploy/wait.toml sets [worker] drain_seconds")
}

fn check_hardening(name: &str, unit: &BTreeMap<String, Vec<String>>) {
    for (key, want) in [
        ("User", "wait"),
        ("Group", "wait"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "true"),
        ("PrivateTmp", "true"),
        ("NoNewPrivileges", "true"),
        ("KillSignal", "SIGTERM"),
        ("Restart", "on-failure"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
    ] {
        assert_eq!(one(unit, key, name), want, "{name}: {key}=");
    }
    let writable: Vec<&str> = one(unit, "ReadWritePaths", name)
        .split_whitespace()
        .collect();
    for path in [DATA_DIR, REPOSITORY] {
        assert!(
            writable.contains(&path),
            "{name}: ReadWritePaths lacks {path}"
        );
    }
    let timeout: u64 = one(unit, "TimeoutStopSec", name)
        .parse()
        .unwrap_or_else(|e| panic!("{name}: TimeoutStopSec is not seconds: {e}"));
    assert!(
        timeout > drain_seconds(),
        "{name}: TimeoutStopSec={timeout} must be longer than drain_seconds={}",
        drain_seconds()
    );
}

/// Installation paths → their place under `root`, as in the temporary config.
fn relocate(arg: &str, root: &Path) -> String {
    for prefix in [DATA_DIR, REPOSITORY] {
        if arg == prefix || arg.starts_with(&format!("{prefix}/")) {
            return format!("{}{arg}", root.display());
        }
    }
    arg.to_string()
}

/// deploy/wait.toml with its folders under `root` and a free port, at root/wait.toml.
fn temp_config(root: &Path, port: u16) -> PathBuf {
    let text = std::fs::read_to_string(deploy().join("wait.toml")).expect("deploy/wait.toml");
    let text = text
        .replace(DATA_DIR, &format!("{}{DATA_DIR}", root.display()))
        .replace(REPOSITORY, &format!("{}{REPOSITORY}", root.display()))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    assert!(
        text.contains(&format!("127.0.0.1:{port}")),
        "deploy/wait.toml binds 127.0.0.1:8080"
    );
    let path = root.join("wait.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// The ExecStart line as a command: systemd splits on spaces (no quotes are used here).
fn exec_start(line: &str, root: &Path, config: &Path, instance: &str) -> Command {
    let words: Vec<String> = line
        .replace("%i", instance)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(
        words.first().map(String::as_str),
        Some(BINARY),
        "ExecStart runs {BINARY}"
    );
    assert!(
        words.iter().any(|w| w == CONFIG),
        "ExecStart passes --config {CONFIG}: {line}"
    );
    let mut c = support::waitctl();
    for (name, _) in std::env::vars() {
        if name.starts_with("WAIT_") || name == "RUST_LOG" {
            c.env_remove(name);
        }
    }
    for word in &words[1..] {
        if word == CONFIG {
            c.arg(config);
        } else {
            c.arg(relocate(word, root));
        }
    }
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn spawn(mut c: Command) -> (Proc, Receiver<String>) {
    let mut child = c.spawn().expect("start waitctl");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Proc(child), rx)
}

fn wait_for_line(rx: &Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no log line with {needle:?}; saw:\n{}", seen.join("\n"));
}

/// GET /api/health over plain HTTP/1.0: the status line.
fn health(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    answer.lines().next().map(str::to_string)
}

fn wait_healthy(port: u16, p: &mut Proc) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = health(port) {
            assert!(status.contains(" 200"), "/api/health answered {status}");
            return;
        }
        let exited = p.0.try_wait().expect("try_wait");
        assert!(exited.is_none(), "the server exited early: {exited:?}");
        assert!(
            Instant::now() < deadline,
            "the server never answered on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// ExecReload as written, `$MAINPID` being the process.
fn reload(line: &str, p: &Proc) {
    let line = line.replace("$MAINPID", &p.0.id().to_string());
    let words: Vec<&str> = line.split_whitespace().collect();
    let status = Command::new(words[0])
        .args(&words[1..])
        .status()
        .expect("run ExecReload");
    assert!(status.success(), "ExecReload failed: {line}");
}

/// Send KillSignal and expect a clean exit within TimeoutStopSec.
fn stop(signal: &str, timeout: u64, mut p: Proc) {
    let name = signal.trim_start_matches("SIG");
    let status = Command::new("kill")
        .args(["-s", name, &p.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -s {name}");
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        if let Some(exit) = p.0.try_wait().expect("try_wait") {
            assert!(exit.success(), "stopped with {signal} it exited {exit}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running {timeout} s after {signal}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Still running a moment after `reload`, while its stderr keeps flowing.
fn still_up(p: &mut Proc, rx: &Receiver<String>, seen: &mut Vec<String>) {
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        seen.extend(rx.try_iter());
        std::thread::sleep(Duration::from_millis(100));
    }
    let exit = p.0.try_wait().expect("try_wait");
    assert!(
        exit.is_none(),
        "exited after ExecReload: {exit:?}\n{}",
        seen.join("\n")
    );
}

#[test]
fn units_have_the_hardening_keys() {
    for name in ["wait-server.service", "wait-worker@.service"] {
        let unit = parse_unit(&deploy().join("systemd").join(name));
        check_hardening(name, &unit);
    }
}

#[test]
fn units_pass_systemd_analyze_where_it_exists() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("note: systemd-analyze is not installed; skipped");
        return;
    };
    assert!(probe.status.success(), "systemd-analyze --version");
    // verify insists that ExecStart's program exists: point it at the built binary.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for name in ["wait-server.service", "wait-worker@.service"] {
        let text = std::fs::read_to_string(deploy().join("systemd").join(name)).expect("unit");
        let path = tmp.path().join(name);
        std::fs::write(&path, text.replace(BINARY, env!("CARGO_BIN_EXE_waitctl"))).expect("w");
        files.push(path);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&files)
        .output()
        .expect("run");
    let complaints = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && complaints.trim().is_empty(),
        "verify: {complaints}"
    );
}

#[test]
fn exec_start_lines_run_reload_and_stop_as_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = temp_config(root, port);
    let units = deploy().join("systemd");
    let server = parse_unit(&units.join("wait-server.service"));
    let worker = parse_unit(&units.join("wait-worker@.service"));

    let line = one(&server, "ExecStart", "wait-server.service");
    assert!(
        line.contains(" serve "),
        "the server unit runs serve: {line}"
    );
    let (mut srv, srv_rx) = spawn(exec_start(line, root, &config, "1"));
    wait_healthy(port, &mut srv);

    let line = one(&worker, "ExecStart", "wait-worker@.service");
    assert!(
        line.contains(" worker "),
        "the worker unit runs worker: {line}"
    );
    let (mut wrk, wrk_rx) = spawn(exec_start(line, root, &config, "2"));
    let mut wrk_seen = Vec::new();
    wait_for_line(&wrk_rx, "workers started", &mut wrk_seen);
    // The instance number picked the worker's own folder, inside the relocated data dir.
    assert!(
        root.join("var/lib/wait/worker-2").is_dir(),
        "worker-%i data folder"
    );

    let mut srv_seen = Vec::new();
    reload(one(&server, "ExecReload", "wait-server.service"), &srv);
    reload(one(&worker, "ExecReload", "wait-worker@.service"), &wrk);
    still_up(&mut srv, &srv_rx, &mut srv_seen);
    still_up(&mut wrk, &wrk_rx, &mut wrk_seen);
    assert!(
        health(port).is_some_and(|s| s.contains(" 200")),
        "healthy after reload"
    );

    for (unit, p, name) in [
        (&server, srv, "wait-server.service"),
        (&worker, wrk, "wait-worker@.service"),
    ] {
        let timeout: u64 = one(unit, "TimeoutStopSec", name).parse().expect("seconds");
        stop(one(unit, "KillSignal", name), timeout, p);
    }
}
