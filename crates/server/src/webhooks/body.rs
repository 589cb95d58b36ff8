//! What a delivery sends: `{event, delivery_id, job, sent_at}` as JSON, or for Slack a
//! `{"text": …}` with a one-line summary of the same.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use wait_store::{DeliveryEvent, Job, WebhookFormat};

use crate::views::{JobView, redact};

/// Fields of the event's snapshot that describe the job at the moment of the event.
/// They replace the current values, so a late (retried) delivery still tells what
/// happened then: a `job.started` never arrives saying `Completed`.
const SNAPSHOT_FIELDS: [&str; 4] = ["status", "attempt", "output_dir", "error"];

/// Longest error shown in a Slack line.
const SLACK_ERROR_CHARS: usize = 200;

/// The `job` object of a delivery: the job as the API shows it, with the event's own
/// state laid over it. When the job was deleted meanwhile, the snapshot alone, without
/// its error (the product key that would mask it went with the job).
pub fn job_object(job: Option<Job>, snapshot: Option<&Value>) -> Value {
    let snapshot = snapshot.and_then(Value::as_object);
    let Some(job) = job else {
        let mut alone = snapshot.cloned().unwrap_or_default();
        alone.remove("error");
        return Value::Object(alone);
    };
    let key = job.request.product_key.clone();
    let mut view = match serde_json::to_value(JobView::new(job, None)) {
        Ok(Value::Object(view)) => view,
        _ => Map::new(),
    };
    if let Some(snapshot) = snapshot {
        for field in SNAPSHOT_FIELDS {
            let Some(value) = snapshot.get(field) else {
                continue;
            };
            let value = match (field, value) {
                ("error", Value::String(e)) => Value::String(redact(e, key.as_deref())),
                _ => value.clone(),
            };
            view.insert(field.to_string(), value);
        }
    }
    Value::Object(view)
}

/// The body to send, in the webhook's format. `job` is None for a ping.
pub fn render(
    format: WebhookFormat,
    event: DeliveryEvent,
    delivery_id: Uuid,
    job: Option<&Value>,
    sent_at: OffsetDateTime,
) -> Value {
    match format {
        WebhookFormat::Json => json!({
            "event": event.as_str(),
            "delivery_id": delivery_id,
            "job": job,
            "sent_at": sent_at.format(&Rfc3339).unwrap_or_default(),
        }),
        WebhookFormat::Slack => json!({ "text": slack_text(event, job) }),
    }
}

/// One readable line: event, job id, status, board, customer, output folder (and the
/// error of a failed job). Slack's control characters `&`, `<`, `>` are escaped.
pub fn slack_text(event: DeliveryEvent, job: Option<&Value>) -> String {
    let Some(job) = job else {
        return "WAIT webhook test: this endpoint will receive WAIT job events.".to_string();
    };
    let field = |name: &str| match job.get(name) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "-".to_string(),
    };
    let mut line = format!(
        "WAIT {event}: job {} is {} (board {}, customer {}, output {})",
        field("job_id"),
        field("status"),
        field("motherboard_model"),
        field("customer_name"),
        field("output_dir"),
    );
    if let Some(Value::String(error)) = job.get("error") {
        let short: String = error.chars().take(SLACK_ERROR_CHARS).collect();
        let more = if short.len() < error.len() { "…" } else { "" };
        line.push_str(&format!(": {short}{more}"));
    }
    escape_slack(&line.replace(['\r', '\n'], " "))
}

fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use wait_store::EventKind;

    use super::*;

    fn snapshot() -> Value {
        json!({
            "job_id": "0190aaaa-0000-7000-8000-000000000001",
            "status": "Failed_Build",
            "attempt": 2,
            "customer_name": "Acme <EU>",
            "motherboard_model": "X13SAW",
            "worker": "w1",
            "error": "driver pack\nmissing",
            "output_dir": null,
        })
    }

    #[test]
    fn slack_text_is_one_escaped_line_with_the_job_summary() {
        let text = slack_text(DeliveryEvent::Job(EventKind::Failed), Some(&snapshot()));
        assert_eq!(
            text,
            "WAIT job.failed: job 0190aaaa-0000-7000-8000-000000000001 is Failed_Build \
             (board X13SAW, customer Acme &lt;EU&gt;, output -): driver pack missing"
        );
        assert!(slack_text(DeliveryEvent::Ping, None).contains("test"));
    }

    #[test]
    fn a_deleted_job_is_described_by_its_snapshot_without_the_error() {
        let job = job_object(None, Some(&snapshot()));
        assert_eq!(job["status"], "Failed_Build");
        assert_eq!(job["worker"], "w1");
        assert!(job.get("error").is_none());
    }

    #[test]
    fn the_json_body_names_event_delivery_job_and_time() {
        let id = Uuid::now_v7();
        let body = render(
            WebhookFormat::Json,
            DeliveryEvent::Job(EventKind::Queued),
            id,
            Some(&json!({"job_id": "x"})),
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(body["event"], "job.queued");
        assert_eq!(body["delivery_id"], id.to_string());
        assert_eq!(body["job"]["job_id"], "x");
        assert_eq!(body["sent_at"], "1970-01-01T00:00:00Z");
        let slack = render(
            WebhookFormat::Slack,
            DeliveryEvent::Ping,
            id,
            None,
            OffsetDateTime::UNIX_EPOCH,
        );
        assert!(slack["text"].is_string());
        assert_eq!(slack.as_object().map(Map::len), Some(1));
    }
}
