//! Hooks: parsing specs, the environment and working folder a hook sees, its output,
//! failure, timeout and cancel, and that nothing it started outlives it.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wait_pipeline::{DEFAULT_HOOK_TIMEOUT, HOOK_STAGES, Hook, HookError, parse_hook, run_hook};

fn hook(command: &str) -> Hook {
    Hook {
        point: "after_stage.drivers".to_owned(),
        command: command.to_owned(),
        timeout: Duration::from_secs(60),
    }
}

/// Run a hook in `dir` and collect its lines.
fn run(hook: &Hook, env: &[(&str, &str)], dir: &Path) -> (Result<(), HookError>, Vec<String>) {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut lines = Vec::new();
    let result = run_hook(hook, &env, dir, &AtomicBool::new(false), &mut |l: &str| {
        lines.push(l.to_owned())
    });
    (result, lines)
}

/// Whether a process is still running (a zombie waiting to be reaped has ended).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
            state != Some(Some('Z'))
        }
        Err(_) => false,
    }
}

/// SIGKILL is delivered at once, but the process disappears from /proc a moment later.
fn assert_gone(pid: u32) {
    for _ in 0..200 {
        if !running(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("process {pid} is still running");
}

fn pid_from(lines: &[String], prefix: &str) -> u32 {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix} line in {lines:?}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn the_environment_and_working_folder_reach_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        r#"echo "job=$WAIT_JOB_ID point=$WAIT_HOOK_POINT"; echo "scratch=$WAIT_SCRATCH_DIR"; pwd"#,
    );
    let (result, lines) = run(
        &h,
        &[
            ("WAIT_JOB_ID", "0190f0c2-demo"),
            ("WAIT_HOOK_POINT", "after_stage.drivers"),
            ("WAIT_SCRATCH_DIR", "/srv/wait scratch/42"),
        ],
        dir.path(),
    );
    result.unwrap();
    let cwd = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(
        lines,
        vec![
            "job=0190f0c2-demo point=after_stage.drivers".to_owned(),
            "scratch=/srv/wait scratch/42".to_owned(),
            cwd.to_string_lossy().into_owned(),
        ]
    );
}

#[test]
fn stdin_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (result, lines) = run(&hook("cat; echo after-cat"), &[], dir.path());
    result.unwrap();
    assert_eq!(lines, vec!["after-cat"]);
}

#[test]
fn stdout_and_stderr_lines_arrive_in_the_order_written() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        "i=1; while [ $i -le 300 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; printf 'no newline'",
    );
    let (result, lines) = run(&h, &[], dir.path());
    result.unwrap();
    let mut want: Vec<String> = (1..=300)
        .flat_map(|i| [format!("out{i}"), format!("err{i}")])
        .collect();
    want.push("no newline".to_owned());
    assert_eq!(lines, want);
}

#[test]
fn output_is_decoded_lossily_and_crlf_is_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let (result, lines) = run(
        &hook(r"printf 'caf\303\251\r\nbad \377 byte\n\nend\n'"),
        &[],
        dir.path(),
    );
    result.unwrap();
    assert_eq!(lines, vec!["café", "bad \u{fffd} byte", "", "end"]);
}

#[test]
fn a_non_zero_exit_is_a_failure_with_the_last_lines() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        "i=1; while [ $i -le 30 ]; do echo line$i; i=$((i+1)); done; echo 'signing failed' >&2; exit 7",
    );
    let (result, lines) = run(&h, &[], dir.path());
    assert_eq!(lines.len(), 31);
    match result.unwrap_err() {
        HookError::Failed {
            point,
            code,
            last_lines,
        } => {
            assert_eq!(point, "after_stage.drivers");
            assert_eq!(code, 7);
            assert_eq!(last_lines.len(), 20);
            assert_eq!(last_lines.first().map(String::as_str), Some("line12"));
            assert_eq!(
                last_lines.last().map(String::as_str),
                Some("signing failed")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let (result, _) = run(&h, &[], dir.path());
    let message = result.unwrap_err().to_string();
    assert!(message.contains("after_stage.drivers"), "{message}");
    assert!(message.contains("exit code 7"), "{message}");
    assert!(message.contains("signing failed"), "{message}");
}

#[test]
fn a_hook_killed_by_a_signal_reports_128_plus_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = run(&hook("kill -TERM $$"), &[], dir.path());
    assert!(
        matches!(result, Err(HookError::Failed { code: 143, .. })),
        "{result:?}"
    );
}

#[test]
fn a_hook_that_runs_too_long_is_stopped_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hook {
        timeout: Duration::from_millis(500),
        ..hook("sleep 300 & echo child=$!; exec sleep 300")
    };
    let (result, lines) = run(&h, &[], dir.path());
    assert!(
        matches!(result, Err(HookError::TimedOut { .. })),
        "{result:?}"
    );
    assert_gone(pid_from(&lines, "child="));
}

#[test]
fn cancel_stops_the_hook_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook("sleep 300 >/dev/null 2>&1 & echo child=$!; echo shell=$$; sleep 300");
    let cancel = AtomicBool::new(false);
    let mut lines = Vec::new();
    let result = run_hook(&h, &[], dir.path(), &cancel, &mut |l: &str| {
        lines.push(l.to_owned());
        if l.starts_with("shell=") {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    assert!(
        matches!(&result, Err(HookError::Cancelled { point }) if point == "after_stage.drivers"),
        "{result:?}"
    );
    assert_gone(pid_from(&lines, "child="));
    assert_gone(pid_from(&lines, "shell="));
}

#[test]
fn background_children_do_not_outlive_a_successful_hook() {
    let dir = tempfile::tempdir().unwrap();
    // One child keeps the output pipe open, the other does not; both must go.
    let h = hook("sleep 300 & echo held=$!; sleep 300 >/dev/null 2>&1 & echo quiet=$!; exit 0");
    let (result, lines) = run(&h, &[], dir.path());
    result.unwrap();
    assert_gone(pid_from(&lines, "held="));
    assert_gone(pid_from(&lines, "quiet="));
}

#[test]
fn a_hook_that_closes_its_output_is_still_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("finished");
    let h = hook(&format!(
        "exec >/dev/null 2>&1; sleep 0.3; touch '{}'; exit 3",
        marker.display()
    ));
    let (result, _) = run(&h, &[], dir.path());
    assert!(
        matches!(result, Err(HookError::Failed { code: 3, .. })),
        "{result:?}"
    );
    assert!(marker.exists());
}

#[test]
fn a_missing_working_folder_is_a_spawn_error() {
    let dir = tempfile::tempdir().unwrap();
    let (result, lines) = run(&hook("echo hi"), &[], &dir.path().join("missing"));
    assert!(matches!(result, Err(HookError::Spawn { .. })), "{result:?}");
    assert!(lines.is_empty());
}

#[test]
fn a_cancelled_hook_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let h = hook(&format!("touch '{}'", marker.display()));
    let result = run_hook(
        &h,
        &[],
        dir.path(),
        &AtomicBool::new(true),
        &mut |_: &str| {},
    );
    assert!(
        matches!(result, Err(HookError::Cancelled { .. })),
        "{result:?}"
    );
    assert!(!marker.exists());
}

#[test]
fn good_specs_parse() {
    let cases = [
        (
            "after_stage.drivers=cmd args",
            "after_stage.drivers",
            "cmd args",
        ),
        (
            " before_publish = /opt/hooks/notify.sh --tag=a=b ",
            "before_publish",
            "/opt/hooks/notify.sh --tag=a=b",
        ),
        ("after_publish=true", "after_publish", "true"),
        (
            "before_stage.answer-file=echo x",
            "before_stage.answer-file",
            "echo x",
        ),
    ];
    for (spec, point, command) in cases {
        let parsed = parse_hook(spec).unwrap();
        assert_eq!(
            parsed,
            Hook {
                point: point.to_owned(),
                command: command.to_owned(),
                timeout: DEFAULT_HOOK_TIMEOUT,
            },
            "{spec}"
        );
    }
    for stage in HOOK_STAGES {
        for when in ["before_stage", "after_stage"] {
            let spec = format!("{when}.{stage}=true");
            assert!(parse_hook(&spec).is_ok(), "{spec}");
        }
    }
}

#[test]
fn bad_specs_are_refused_with_a_reason() {
    let cases = [
        ("", "expected <point>=<command>"),
        ("after_stage.drivers", "expected <point>=<command>"),
        ("=echo hi", "hook point before '=' is missing"),
        ("after_stage.drivers=", "command after '=' is empty"),
        ("after_stage.drivers=   ", "command after '=' is empty"),
        (
            "after_stage.unknown=echo",
            "unknown hook point \"after_stage.unknown\"",
        ),
        ("after_stage.=echo", "unknown hook point"),
        ("before_stage=echo", "unknown hook point"),
        ("after_stage.Drivers=echo", "unknown hook point"),
        ("during_stage.drivers=echo", "unknown hook point"),
        ("before_publish.iso=echo", "unknown hook point"),
        ("after_stage.drivers.extra=echo", "unknown hook point"),
        ("after_stage.drivers=echo \0 x", "NUL byte"),
    ];
    for (spec, expected) in cases {
        let err = parse_hook(spec).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, HookError::InvalidSpec { .. }),
            "{spec:?}: {err:?}"
        );
        assert!(message.contains(expected), "{spec:?}: {message}");
    }
    // An unknown point is answered with the points that exist.
    let message = parse_hook("after_stage.unknown=echo")
        .unwrap_err()
        .to_string();
    for needle in [
        "before_stage.<stage>",
        "after_publish",
        "answer-file",
        "checksums",
    ] {
        assert!(message.contains(needle), "{message}");
    }
}
