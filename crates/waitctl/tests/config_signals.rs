//! A running `waitctl serve`: JSON log lines, and SIGHUP re-reading the config file.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use support::Proc;

fn waitctl() -> Command {
    let mut c = support::waitctl();
    for (name, _) in std::env::vars() {
        if name.starts_with("WAIT_") || name == "RUST_LOG" {
            c.env_remove(name);
        }
    }
    c
}

/// Start `c` with stderr read line by line on a thread.
fn spawn(mut c: Command) -> (Proc, Receiver<String>) {
    let mut child: Child = c
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start waitctl");
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

/// Lines until one contains `needle` (all of them, that one last).
fn wait_for(rx: &Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?}; saw:\n{}", seen.join("\n"));
}

fn signal(p: &Proc, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(p.0.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name}");
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn wait_until_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write_config(file: &Path, data: &Path, port: u16, level: &str) {
    let text = format!(
        "[paths]\ndata_dir = {:?}\n\n[server]\nbind = \"127.0.0.1:{port}\"\nno_worker = true\n\n[log]\nlevel = {level:?}\n",
        data.display().to_string()
    );
    // Written whole to a new file then renamed, so the process never reads half of it.
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write config");
    std::fs::rename(&tmp, file).expect("replace config");
}

#[test]
fn json_log_format_gives_one_json_object_per_stderr_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut c = waitctl();
    c.args([
        "--log-format",
        "json",
        "serve",
        "--no-worker",
        "--bind",
        "127.0.0.1:0",
    ])
    .arg("--data-dir")
    .arg(tmp.path().join("data"));
    let (p, rx) = spawn(c);
    let mut lines = wait_for(&rx, "serving http://");
    signal(&p, "TERM");
    lines.extend(wait_for(&rx, "stopping"));
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{line}"
        );
    }
    // The environment variable does the same.
    let mut c = waitctl();
    c.args(["serve", "--no-worker", "--bind", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .env("WAIT_LOG_FORMAT", "json");
    let (_p, rx) = spawn(c);
    let line = wait_for(&rx, "serving http://").pop().expect("a line");
    serde_json::from_str::<serde_json::Value>(&line).expect("JSON from WAIT_LOG_FORMAT");
}

#[test]
fn sighup_applies_a_new_log_level_and_names_settings_that_need_a_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let file = tmp.path().join("wait.toml");
    let port = free_port();
    write_config(&file, &data, port, "warn");
    let mut c = waitctl();
    c.arg("serve").arg("--config").arg(&file);
    let (p, rx) = spawn(c);
    wait_until_listening(port);

    // At warn, the startup info lines were filtered out.
    std::thread::sleep(Duration::from_millis(300));
    let early: Vec<String> = rx.try_iter().collect();
    assert!(
        early.iter().all(|l| !l.contains("serving http://")),
        "info line at level warn: {early:?}"
    );

    write_config(&file, &data, port, "info");
    signal(&p, "HUP");
    let seen = wait_for(&rx, "SIGHUP: config file re-read");
    let line = seen.last().expect("a line");
    assert!(
        line.contains("INFO") && line.contains("log.level"),
        "{line}"
    );

    // A change that needs a restart is named as such; the process keeps running.
    write_config(&file, &data, free_port(), "info");
    signal(&p, "HUP");
    let line = wait_for(&rx, "need a restart").pop().expect("a line");
    assert!(line.contains("server.bind"), "{line}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "still on the old port"
    );

    // A broken file is refused and the running settings stay.
    std::fs::write(&file, "[log]\nlevel = 3\n").expect("write broken config");
    signal(&p, "HUP");
    let line = wait_for(&rx, "not applied").pop().expect("a line");
    assert!(line.contains("ERROR") && line.contains("line 2"), "{line}");

    // Now at info, the shutdown line shows.
    signal(&p, "TERM");
    wait_for(&rx, "stopping");
}

#[test]
fn sighup_in_a_worker_reports_what_needs_a_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let file = tmp.path().join("wait.toml");
    let port = free_port();
    write_config(&file, &data, port, "info");
    let mut c = waitctl();
    c.arg("worker").arg("--config").arg(&file);
    let (p, rx) = spawn(c);
    // Logged after the SIGHUP handler is in place.
    wait_for(&rx, "workers started");

    let text = std::fs::read_to_string(&file).expect("read config");
    std::fs::write(&file, format!("{text}\n[worker]\ndrain_seconds = 5\n")).expect("edit config");
    signal(&p, "HUP");
    let line = wait_for(&rx, "need a restart").pop().expect("a line");
    assert!(line.contains("worker.drain_seconds"), "{line}");
    assert!(!line.contains("log.level"), "{line}");
    signal(&p, "TERM");
    wait_for(&rx, "stopping");
}
