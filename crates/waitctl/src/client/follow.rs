//! Following a job on `GET /api/job/stream`: log lines, status and progress as they
//! happen. A dropped connection is resumed with `Last-Event-ID`, so no line is shown
//! twice or lost; following ends when the server closes the stream after the final
//! status.

use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::Value;

use super::http::{Api, ClientError};
use super::output;
use super::sse::{SseEvent, SseParser};

/// Reconnections in a row without a new event before giving up.
const MAX_RETRIES: u32 = 10;

/// The states a job ends in.
pub fn is_final(status: &str) -> bool {
    matches!(
        status,
        "Completed" | "Failed_Build" | "Failed_Validation" | "Cancelled"
    )
}

/// What to show while following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Log lines and status changes as text.
    Logs,
    /// A progress bar (stderr) and status changes only.
    Progress,
    /// Every event's JSON object, one per line.
    Json,
}

/// How the job ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: String,
    pub error: Option<String>,
}

pub async fn follow(api: &Api, job_id: &str, verbose: bool, show: Show) -> anyhow::Result<Outcome> {
    let level = if verbose { "verbose" } else { "" };
    let url = api.url(
        &["api", "job", "stream"],
        &[("job_id", job_id), ("level", level)],
    );
    let bar = match show {
        Show::Progress => {
            let bar = ProgressBar::new(100);
            let style = ProgressStyle::with_template("{bar:40} {pos:>3}% {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Some(bar)
        }
        _ => None,
    };
    let mut last_id: Option<String> = None;
    let mut last: Option<Outcome> = None;
    let mut retries = 0u32;
    loop {
        let mut req = api.request(Method::GET, url.clone());
        if let Some(id) = &last_id {
            req = req.header("Last-Event-ID", id.as_str());
        }
        let mut resp = match api.send(req, "the job stream").await {
            Ok(resp) => resp,
            Err(e @ ClientError::Unreachable { .. }) if retries < MAX_RETRIES => {
                retries += 1;
                note(&bar, &format!("{e}; retrying"));
                tokio::time::sleep(backoff(retries)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut parser = SseParser::new();
        let closed_cleanly = loop {
            match resp.chunk().await {
                Ok(Some(bytes)) => {
                    for event in parser.push(&bytes) {
                        retries = 0;
                        if event.event == "log" {
                            last_id = event.id.clone().or(last_id);
                        }
                        handle(&event, show, &bar, &mut last)?;
                    }
                }
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        if let Some(outcome) = last.as_ref().filter(|o| is_final(&o.status)) {
            if closed_cleanly {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                return Ok(outcome.clone());
            }
        }
        retries += 1;
        if retries > MAX_RETRIES {
            bail!(
                "the job stream from {} kept closing before the job ended",
                api.server()
            );
        }
        tokio::time::sleep(backoff(retries)).await;
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * u64::from(attempt.min(8)))
}

fn note(bar: &Option<ProgressBar>, text: &str) {
    match bar {
        // a hidden bar (stderr is not a terminal) would swallow the line
        Some(bar) if !bar.is_hidden() => bar.println(text),
        _ => eprintln!("{text}"),
    }
}

fn handle(
    event: &SseEvent,
    show: Show,
    bar: &Option<ProgressBar>,
    last: &mut Option<Outcome>,
) -> anyhow::Result<()> {
    if event.event == "error" {
        let message = serde_json::from_str::<Value>(&event.data)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| event.data.clone());
        bail!("the job stream stopped: {message}");
    }
    let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
        // not one of ours (a proxy's note, say); nothing to show
        return Ok(());
    };
    if show == Show::Json {
        println!(
            "{}",
            serde_json::json!({"event": event.event, "data": data})
        );
    }
    match event.event.as_str() {
        "status" => {
            let status = data["status"].as_str().unwrap_or_default().to_string();
            let changed = last.as_ref().is_none_or(|o| o.status != status);
            if changed && show != Show::Json {
                note(bar, &format!("status: {status}{}", error_note(&data)));
            }
            *last = Some(Outcome {
                status,
                error: data["error"].as_str().map(str::to_string),
            });
        }
        "progress" => {
            if let Some(bar) = bar {
                bar.set_position(data["progress"].as_u64().unwrap_or(0));
                bar.set_message(data["stage"].as_str().unwrap_or_default().to_string());
            }
        }
        "log" if show == Show::Logs => println!("{}", output::log_line(&data)),
        _ => {}
    }
    Ok(())
}

fn error_note(data: &Value) -> String {
    data["error"]
        .as_str()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default()
}
