//! Hooks: operator-configured shell commands run at named points of a build, such as
//! `after_stage.drivers=/opt/wait/hooks/sign-drivers.sh`.
//!
//! A hook runs as `sh -c <command>` in its own process group, with stdin closed and
//! stdout and stderr sharing one pipe, so its lines reach the job log in the order they
//! were written. Whatever the outcome, the whole group is killed before `run_hook`
//! returns: a hook cannot leave processes behind to outlive the build. See decision 0010.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// The build stages a hook can run before or after: the built-in stages.
pub const HOOK_STAGES: &[&str] = &crate::build::BUILTIN_STAGES;

/// How long a hook may run unless its `timeout` is set otherwise.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(600);

/// Lines of output quoted in a failure.
const TAIL_LINES: usize = 20;
/// Longer lines are cut into pieces of this many bytes, so one runaway line cannot use
/// unbounded memory.
const MAX_LINE_BYTES: usize = 8192;
/// How often cancel and the timeout are checked while the hook is quiet.
const POLL: Duration = Duration::from_millis(50);
/// After the hook has exited and its group was killed, how long to wait for the pipe to
/// close. Only a process that left the group (setsid) can hold it open longer.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// One hook: where it runs and what it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// `before_stage.<stage>`, `after_stage.<stage>`, `before_publish` or `after_publish`.
    pub point: String,
    /// A shell command line, run by `sh -c`.
    pub command: String,
    pub timeout: Duration,
}

/// A hook spec was malformed, or the hook could not run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("hook {spec:?} is not valid: {reason}")]
    InvalidSpec { spec: String, reason: String },
    #[error("hook {point} could not be started: {source}")]
    Spawn {
        point: String,
        #[source]
        source: std::io::Error,
    },
    #[error("hook {point} failed with exit code {code}{}", last_line(.last_lines))]
    Failed {
        point: String,
        /// The exit code; a hook killed by signal N reports 128 + N, as shells do.
        code: i32,
        /// Its last lines of output, oldest first.
        last_lines: Vec<String>,
    },
    #[error("hook {point} was cancelled")]
    Cancelled { point: String },
    #[error("hook {point} was stopped after running for {} seconds", after.as_secs_f64())]
    TimedOut { point: String, after: Duration },
    #[error("hook {point}: {context}: {source}")]
    Io {
        point: String,
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
}

fn last_line(lines: &[String]) -> String {
    match lines.last() {
        Some(line) => format!(" (last output: {line:?})"),
        None => " and no output".to_owned(),
    }
}

/// Every valid hook point, in stage order.
pub fn hook_points() -> Vec<String> {
    let mut points: Vec<String> = HOOK_STAGES
        .iter()
        .flat_map(|stage| {
            [
                format!("before_stage.{stage}"),
                format!("after_stage.{stage}"),
            ]
        })
        .collect();
    points.push("before_publish".to_owned());
    points.push("after_publish".to_owned());
    points
}

fn is_hook_point(point: &str) -> bool {
    if point == "before_publish" || point == "after_publish" {
        return true;
    }
    let stage = point
        .strip_prefix("before_stage.")
        .or_else(|| point.strip_prefix("after_stage."));
    stage.is_some_and(|stage| HOOK_STAGES.contains(&stage))
}

fn valid_points_text() -> String {
    format!(
        "valid points are before_stage.<stage> and after_stage.<stage> for the stages {}, \
         and before_publish and after_publish",
        HOOK_STAGES.join(", ")
    )
}

/// Parse `<point>=<command>`, for example `after_stage.drivers=/opt/hooks/notify.sh drivers`.
/// Only the first `=` separates; the command may contain more. The timeout is
/// [`DEFAULT_HOOK_TIMEOUT`].
pub fn parse_hook(spec: &str) -> Result<Hook, HookError> {
    let invalid = |reason: String| HookError::InvalidSpec {
        spec: spec.to_owned(),
        reason,
    };
    let Some((point, command)) = spec.split_once('=') else {
        return Err(invalid(
            "expected <point>=<command>, for example after_stage.drivers=/opt/hooks/notify.sh"
                .into(),
        ));
    };
    let (point, command) = (point.trim(), command.trim());
    if point.is_empty() {
        return Err(invalid(format!(
            "the hook point before '=' is missing; {}",
            valid_points_text()
        )));
    }
    if !is_hook_point(point) {
        return Err(invalid(format!(
            "unknown hook point {point:?}; {}",
            valid_points_text()
        )));
    }
    if command.is_empty() {
        return Err(invalid("the command after '=' is empty".into()));
    }
    if command.contains('\0') {
        return Err(invalid("the command contains a NUL byte".into()));
    }
    Ok(Hook {
        point: point.to_owned(),
        command: command.to_owned(),
        timeout: DEFAULT_HOOK_TIMEOUT,
    })
}

/// Run `hook` in `work_dir` with `env` added to the environment, handing every output
/// line to `on_line` as it arrives. The worker's own `WAIT_*` variables (database URL,
/// secrets) are not passed on; the caller's `env` is what the hook gets from us.
pub fn run_hook(
    hook: &Hook,
    env: &[(String, String)],
    work_dir: &Path,
    cancel: &AtomicBool,
    on_line: &mut dyn FnMut(&str),
) -> Result<(), HookError> {
    let point = || hook.point.clone();
    if cancel.load(Ordering::Relaxed) {
        return Err(HookError::Cancelled { point: point() });
    }
    let io = |context: &'static str| {
        move |source: std::io::Error| HookError::Io {
            point: hook.point.clone(),
            context,
            source,
        }
    };
    let (read_end, write_end) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| io("cannot create the output pipe")(e.into()))?;
    let stderr_end = write_end
        .try_clone()
        .map_err(io("cannot create the output pipe"))?;

    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(&hook.command)
        .current_dir(work_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::from(stderr_end))
        .process_group(0);
    for (name, _) in std::env::vars_os() {
        if name.as_encoded_bytes().starts_with(b"WAIT_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let spawned = command.spawn();
    // The Command holds our copies of the pipe's write end; the reader only sees the end
    // of the output once they are closed.
    drop(command);
    let child = spawned.map_err(|source| HookError::Spawn {
        point: point(),
        source,
    })?;
    let mut group = Group::new(child);
    let lines = spawn_reader(File::from(read_end));
    let (status, tail) = supervise(hook, &mut group, &lines, cancel, on_line)?;
    if status.success() {
        return Ok(());
    }
    Err(HookError::Failed {
        point: point(),
        code: exit_code(status),
        last_lines: tail.into(),
    })
}

/// Pass lines on until the hook has exited and its output is drained, watching cancel
/// and the timeout throughout. Returns the exit status and the last lines of output.
fn supervise(
    hook: &Hook,
    group: &mut Group,
    lines: &Receiver<String>,
    cancel: &AtomicBool,
    on_line: &mut dyn FnMut(&str),
) -> Result<(ExitStatus, VecDeque<String>), HookError> {
    let started = Instant::now();
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    let mut exited: Option<(ExitStatus, Instant)> = None;
    let mut pipe_open = true;
    loop {
        if cancel.load(Ordering::Relaxed) {
            group.kill();
            return Err(HookError::Cancelled {
                point: hook.point.clone(),
            });
        }
        if exited.is_none() && started.elapsed() >= hook.timeout {
            group.kill();
            return Err(HookError::TimedOut {
                point: hook.point.clone(),
                after: hook.timeout,
            });
        }
        if pipe_open {
            match lines.recv_timeout(POLL) {
                Ok(line) => {
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    on_line(&line);
                    tail.push_back(line);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => pipe_open = false,
            }
        } else if exited.is_none() {
            // The hook closed its output but is still running.
            std::thread::sleep(POLL);
        }
        if exited.is_none() {
            let status = group.try_wait().map_err(|source| HookError::Io {
                point: hook.point.clone(),
                context: "cannot wait for the hook",
                source,
            })?;
            if let Some(status) = status {
                // Background children of the hook die with it.
                group.kill();
                exited = Some((status, Instant::now()));
            }
        }
        if let Some((status, at)) = exited {
            if !pipe_open || at.elapsed() >= DRAIN_GRACE {
                return Ok((status, tail));
            }
        }
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => -1,
    }
}

/// The hook's process group. Dropping it kills the group and reaps the shell, so an
/// early return or a panicking `on_line` leaves nothing running either.
struct Group {
    child: Option<Child>,
    id: Pid,
}

impl Group {
    fn new(child: Child) -> Self {
        let id = Pid::from_child(&child);
        Self {
            child: Some(child),
            id,
        }
    }

    /// Kill every process in the group and reap the shell if it is still ours.
    fn kill(&mut self) {
        // ESRCH means the group is already empty, which is the goal.
        let _ = rustix::process::kill_process_group(self.id, Signal::KILL);
        if let Some(mut child) = self.child.take() {
            // The shell itself, in case the group could not be signalled; the wait
            // below must not hang on it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The shell's exit status once it has exited; the group may live on.
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        let status = child.try_wait()?;
        if status.is_some() {
            self.child = None;
        }
        Ok(status)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Read the pipe on a thread and send it on line by line ('\n' ends a line; a trailing
/// '\r' is dropped), decoding lossily. The channel closes when every writer is gone.
fn spawn_reader(mut pipe: File) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for &byte in &buf[..n] {
                if byte == b'\n' || pending.len() == MAX_LINE_BYTES {
                    if send_line(&tx, &mut pending).is_err() {
                        return;
                    }
                    if byte == b'\n' {
                        continue;
                    }
                }
                pending.push(byte);
            }
        }
        if !pending.is_empty() {
            let _ = send_line(&tx, &mut pending);
        }
    });
    rx
}

fn send_line(tx: &Sender<String>, pending: &mut Vec<u8>) -> Result<(), mpsc::SendError<String>> {
    if pending.last() == Some(&b'\r') {
        pending.pop();
    }
    let line = String::from_utf8_lossy(pending).into_owned();
    pending.clear();
    tx.send(line)
}
