//! Answers in Slack's message format, `{"response_type": "ephemeral"|"in_channel",
//! "text": …}`, and the short texts they carry.
//!
//! Answers are HTTP 200 even when the request is refused: Slack shows the text of a 200 to
//! the person who typed the command, but only a generic failure for any other status.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;
use wait_store::{JobRequest, JobStatus};

use crate::views::JobView;

/// At most this many jobs are listed by `queue`; the rest are counted.
pub const QUEUE_LINES: usize = 10;

/// Who sees the answer: only the caller, or everyone in the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Ephemeral,
    InChannel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SlackReply {
    pub response_type: Visibility,
    pub text: String,
}

impl SlackReply {
    pub fn ephemeral(text: impl Into<String>) -> Self {
        SlackReply {
            response_type: Visibility::Ephemeral,
            text: text.into(),
        }
    }

    pub fn in_channel(text: impl Into<String>) -> Self {
        SlackReply {
            response_type: Visibility::InChannel,
            text: text.into(),
        }
    }
}

impl IntoResponse for SlackReply {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// Slack reads `&`, `<` and `>` as markup (`<@U1>` mentions someone); text that comes
/// from users or files must show them as typed.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// How to use the command. `command` is the command as the caller typed it.
pub fn usage(command: &str) -> String {
    let c = match command.trim() {
        "" => "/wait".to_string(),
        typed => escape(typed),
    };
    format!(
        "*Usage*\n\
         • `{c} build board=BOARD image=FILE [customer=NAME] [index=N] [driver_set=SET] \
         [langpacks=a,b] [updates=a,b] [software=a,b] [answer_file=PATH] \
         [key_variants=nokey] [iso=true|false] [compression=lzx|xpress|lzms|esd|none]` \
         — queue a build (quote values with spaces; product keys are not accepted here)\n\
         • `{c} status [JOB]` — a job by id or its first 8+ characters; \
         default the running or latest one\n\
         • `{c} queue` — queued and running jobs"
    )
}

/// A refused build: the reason, and the job field it is about.
pub fn not_queued(field: Option<&str>, message: &str) -> String {
    match field {
        Some(field) => format!(
            "Not queued: {} (field `{}`)",
            escape(message),
            escape(field)
        ),
        None => format!("Not queued: {}", escape(message)),
    }
}

/// A queued build, for the channel.
pub fn queued(
    job_id: Uuid,
    position: Option<u32>,
    request: &JobRequest,
    requester: &str,
    wait_user: &str,
) -> String {
    let position = position.map_or_else(String::new, |p| format!(" (position {p})"));
    format!(
        "Queued job `{job_id}`{position}: board {}, image {} (index {}), customer {}. \
         Requested by {requester} as `{}`.",
        escape(&request.motherboard_model),
        escape(&request.base_image),
        escape(&request.image_index),
        escape(&request.customer_name),
        escape(wait_user),
    )
}

/// Status, stage, progress, board, customer, output folder and error of one job.
pub fn job_status(job: &JobView) -> String {
    let mut state = job.status.to_string();
    match (job.status, job.queue_position) {
        (JobStatus::Queued, Some(p)) => state.push_str(&format!(", position {p}")),
        (s, _) if s.is_running() => state.push_str(&format!(", {}%", job.progress)),
        _ => {}
    }
    if let Some(stage) = job.stage.as_deref().filter(|s| !s.is_empty()) {
        state.push_str(&format!(", stage {}", escape(stage)));
    }
    let mut lines = vec![
        format!("*Job* `{}` — {state}", job.job_id),
        format!(
            "Board {} · customer {} · image {} (index {}) · by {}",
            escape(&job.motherboard_model),
            escape(&job.customer_name),
            escape(&job.base_image),
            escape(&job.image_index),
            escape(job.created_by.as_deref().unwrap_or("unknown")),
        ),
    ];
    if let Some(dir) = &job.output_dir {
        lines.push(format!("Output: `8_Output/{}`", escape(dir)));
    }
    if let Some(error) = job.error.as_deref().filter(|e| !e.is_empty()) {
        lines.push(format!("Error: {}", escape(error)));
    }
    lines.join("\n")
}

/// The queue in run order, one line per job, at most `QUEUE_LINES` lines.
pub fn queue(jobs: &[JobView]) -> String {
    if jobs.is_empty() {
        return "The queue is empty.".to_string();
    }
    let mut lines = vec![format!("*Queue* ({} jobs)", jobs.len())];
    for (n, job) in jobs.iter().take(QUEUE_LINES).enumerate() {
        let progress = if job.status.is_running() {
            format!(" {}%", job.progress)
        } else {
            String::new()
        };
        lines.push(format!(
            "{}. `{}` {}{progress} — {} / {} (by {})",
            n + 1,
            job.job_id,
            job.status,
            escape(&job.motherboard_model),
            escape(&job.customer_name),
            escape(job.created_by.as_deref().unwrap_or("unknown")),
        ));
    }
    if jobs.len() > QUEUE_LINES {
        lines.push(format!("+{} more", jobs.len() - QUEUE_LINES));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_serialise_in_slack_format() {
        let json = serde_json::to_value(SlackReply::in_channel("hi")).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"response_type": "in_channel", "text": "hi"})
        );
        let json = serde_json::to_value(SlackReply::ephemeral("x")).expect("json");
        assert_eq!(json["response_type"], "ephemeral");
    }

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(escape("<!channel> a&b"), "&lt;!channel&gt; a&amp;b");
        assert_eq!(
            not_queued(Some("base_image"), "\"<x>\" not found"),
            "Not queued: \"&lt;x&gt;\" not found (field `base_image`)"
        );
    }

    #[test]
    fn usage_names_the_command_as_typed() {
        assert!(usage("/imgs").contains("`/imgs queue`"));
        assert!(usage("").contains("`/wait queue`"));
    }
}
