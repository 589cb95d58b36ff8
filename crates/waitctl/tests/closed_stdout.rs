//! A reader that stops early (`waitctl openapi | head -1`) ends waitctl quietly, never
//! with a panic message.

use std::process::{Command, Stdio};

#[test]
fn output_into_a_closed_pipe_ends_quietly_with_the_sigpipe_status() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waitctl"))
        .arg("openapi")
        .env_remove("WAIT_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start waitctl");
    // Close the read end before anything is read: the document is larger than a pipe's
    // buffer, so some write fails with EPIPE whatever the timing.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for waitctl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(141), "stderr: {stderr}");
}
