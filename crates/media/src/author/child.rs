//! Running an external tool: stdout/stderr captured line by line, progress lines handed
//! to a callback, the other lines kept to quote in errors, and cancellation by killing
//! the child.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use super::error::AuthorError;
use super::tools::ExternalTool;

/// How often the cancel flag is looked at while the child is quiet.
const POLL: Duration = Duration::from_millis(50);
/// Lines of output kept for an error message, and the longest line kept.
const TAIL_LINES: usize = 20;
const MAX_LINE: usize = 400;

/// Everything needed to run one tool.
pub(crate) struct ToolRun<'a> {
    pub tool: ExternalTool,
    pub program: &'a Path,
    pub args: &'a [OsString],
    /// Recognises a progress line and returns its percentage.
    pub percent: fn(&str) -> Option<f64>,
}

/// Kills and reaps the child if it is still owned when dropped (error, cancel, or a
/// panicking progress callback), so no tool keeps writing after we gave up.
struct Reaper(Option<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Run the tool to completion. `Ok` only for exit status 0.
pub(crate) fn run_tool(
    run: &ToolRun<'_>,
    on_progress: &mut dyn FnMut(f64),
    cancel: &AtomicBool,
) -> Result<(), AuthorError> {
    if cancel.load(Ordering::Relaxed) {
        return Err(AuthorError::Cancelled);
    }
    let mut child = Command::new(run.program)
        .args(run.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AuthorError::MissingTool { tool: run.tool },
            _ => AuthorError::io(run.program, e),
        })?;

    let (tx, rx) = mpsc::channel::<String>();
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(spawn_reader(out, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(spawn_reader(err, tx.clone()));
    }
    // Only the reader threads hold senders now: the channel closes when both pipes do.
    drop(tx);
    let mut reaper = Reaper(Some(child));

    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    loop {
        if cancel.load(Ordering::Relaxed) {
            // Readers are not joined: a grandchild could still hold a pipe open; they
            // end on their own when the last writer goes away.
            drop(reaper);
            return Err(AuthorError::Cancelled);
        }
        match rx.recv_timeout(POLL) {
            Ok(line) => match (run.percent)(&line) {
                Some(p) => on_progress(p),
                None => {
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            },
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }

    let status = match reaper.0.take() {
        Some(mut child) => child.wait().map_err(|e| AuthorError::io(run.program, e))?,
        None => return Err(AuthorError::Cancelled),
    };
    join_all(readers);
    if status.success() {
        return Ok(());
    }
    let message = if tail.is_empty() {
        "(no output)".to_owned()
    } else {
        Vec::from(tail).join("\n")
    };
    Err(AuthorError::ToolFailed {
        tool: run.tool,
        status: describe(status),
        message,
    })
}

fn describe(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => format!("{status}"),
    }
}

fn join_all(readers: Vec<JoinHandle<()>>) {
    for reader in readers {
        // A reader only reads and sends; if it panicked there is nothing to recover.
        let _ = reader.join();
    }
}

/// Read a pipe and send its lines; both '\n' and '\r' end a line because the tools
/// redraw progress with '\r'.
fn spawn_reader(mut pipe: impl Read + Send + 'static, tx: Sender<String>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for &b in &buf[..n] {
                if b == b'\n' || b == b'\r' {
                    if send_line(&tx, &pending).is_err() {
                        return;
                    }
                    pending.clear();
                } else if pending.len() < MAX_LINE * 4 {
                    pending.push(b);
                }
            }
        }
        let _ = send_line(&tx, &pending);
    })
}

fn send_line(tx: &Sender<String>, bytes: &[u8]) -> Result<(), mpsc::SendError<String>> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return Ok(());
    }
    let line: String = text.chars().take(MAX_LINE).collect();
    tx.send(line)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::author::progress::genisoimage_percent;

    fn sh(script: &str) -> Vec<OsString> {
        vec!["-c".into(), script.into()]
    }

    #[test]
    fn progress_and_failure_message_are_separated() {
        let args =
            sh("printf ' 10.00%% done\\r 55.50%% done\\n' >&2; echo 'boom: bad node' >&2; exit 3");
        let run = ToolRun {
            tool: ExternalTool::Genisoimage,
            program: Path::new("/bin/sh"),
            args: &args,
            percent: genisoimage_percent,
        };
        let mut seen = Vec::new();
        let err = run_tool(&run, &mut |p| seen.push(p), &AtomicBool::new(false))
            .expect_err("exit 3 is a failure");
        assert_eq!(seen, vec![10.0, 55.5]);
        match err {
            AuthorError::ToolFailed {
                status, message, ..
            } => {
                assert_eq!(status, "exit code 3");
                assert_eq!(message, "boom: bad node");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn cancel_kills_a_running_child() {
        let args = sh("echo ' 1.00% done' >&2; exec sleep 30");
        let run = ToolRun {
            tool: ExternalTool::Genisoimage,
            program: Path::new("/bin/sh"),
            args: &args,
            percent: genisoimage_percent,
        };
        let cancel = AtomicBool::new(false);
        let started = std::time::Instant::now();
        let err = run_tool(
            &run,
            &mut |_| cancel.store(true, Ordering::Relaxed),
            &cancel,
        )
        .expect_err("cancelled");
        assert!(matches!(err, AuthorError::Cancelled), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn missing_program_is_missing_tool() {
        let run = ToolRun {
            tool: ExternalTool::Oscdimg,
            program: Path::new("/nonexistent/oscdimg"),
            args: &[],
            percent: genisoimage_percent,
        };
        let err = run_tool(&run, &mut |_| {}, &AtomicBool::new(false)).expect_err("missing");
        assert!(matches!(
            err,
            AuthorError::MissingTool {
                tool: ExternalTool::Oscdimg
            }
        ));
    }
}
