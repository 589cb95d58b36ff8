//! Turning the original database's values into ours: timestamps, states, roles, lists,
//! webhook events and password hashes.

use argon2::password_hash::PasswordHash;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::{EventKind, JobStatus, Role};

/// Unix milliseconds from what SQLAlchemy and friends write into SQLite: ISO text
/// (`2024-05-01 12:34:56.123456`, with `T`, `Z` or an offset), or Unix seconds or
/// milliseconds as a number. Naive times are UTC, as the original tool wrote them.
pub(crate) fn timestamp_ms(text: &str) -> Option<i64> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<i64>() {
        // Seconds until the year 5138; anything larger is already milliseconds.
        return Some(if n.abs() < 100_000_000_000 {
            n * 1000
        } else {
            n
        });
    }
    if let Ok(f) = s.parse::<f64>() {
        return f.is_finite().then_some((f * 1000.0) as i64);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(ms(t));
    }
    let s = s.replacen('T', " ", 1);
    let s = s.strip_suffix('Z').unwrap_or(&s);
    let (main, fraction) = match s.split_once('.') {
        Some((main, fraction)) => (main, fraction),
        None => (s, ""),
    };
    let base = PrimitiveDateTime::parse(
        main,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()?;
    let digits: String = fraction.chars().take(9).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos: i64 = format!("{digits:0<9}").parse().ok()?;
    Some(ms(base.assume_utc()) + nanos / 1_000_000)
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// An imported job's state here, and why it differs from the old one when it does.
///
/// Finished states are kept. Unfinished ones become Cancelled: the jobs were written by
/// another program, whose workers are gone, and their inputs name paths of the old
/// installation, so running them here unasked could build the wrong image. They can be
/// cloned to run again.
pub(crate) fn job_status(old: Option<&str>) -> (JobStatus, Option<String>) {
    let Some(old) = old.map(str::trim) else {
        return (
            JobStatus::Cancelled,
            Some("no status in the original database".to_string()),
        );
    };
    let lower = old.to_ascii_lowercase();
    let finished = match lower.as_str() {
        "completed" | "verified" | "success" | "succeeded" | "done" => Some(JobStatus::Completed),
        "failed_build" | "failed" | "error" => Some(JobStatus::FailedBuild),
        "failed_validation" => Some(JobStatus::FailedValidation),
        "cancelled" | "canceled" => Some(JobStatus::Cancelled),
        _ => None,
    };
    if let Some(status) = finished {
        return (status, None);
    }
    let unfinished = matches!(
        lower.as_str(),
        "queued" | "processing_build" | "pending_validation" | "processing_validation"
    );
    let note = if unfinished {
        format!("was {old} in the original database; not run again here (clone it to run it)")
    } else {
        format!("unknown status {old:?} in the original database")
    };
    (JobStatus::Cancelled, Some(note))
}

/// The old role text (or an is_admin flag) as one of ours. Anything unknown is a
/// builder: the original tool let every user submit jobs.
pub(crate) fn role(role: Option<&str>, is_admin: Option<&str>) -> Role {
    if is_admin.is_some_and(truthy) {
        return Role::Admin;
    }
    match role.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
        Some("admin" | "administrator" | "superuser") => Role::Admin,
        Some("viewer" | "readonly" | "read_only" | "read-only" | "guest") => Role::Viewer,
        _ => Role::Builder,
    }
}

/// SQLite booleans as stored by the usual libraries: 1/0, true/false, yes/no.
pub(crate) fn truthy(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "t" | "yes" | "y" | "on"
    )
}

/// Whether a stored hash can be kept: an argon2id PHC string that parses.
pub(crate) fn is_argon2id_phc(hash: &str) -> bool {
    hash.starts_with("$argon2id$") && PasswordHash::new(hash).is_ok()
}

/// A list column: a JSON array of strings, or text separated by commas, semicolons or
/// new lines. Empty entries are dropped.
pub(crate) fn list(text: Option<&str>) -> Vec<String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Vec::new();
    };
    if text.starts_with('[')
        && let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(text)
    {
        return items
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            })
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    text.split([',', ';', '\n'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Webhook event names, old spellings included (`job_completed`, `completed`,
/// `job.completed`); unknown names are returned separately. No list at all means every
/// event, as the original subscribed new webhooks to everything.
pub(crate) fn events(text: Option<&str>) -> (Vec<EventKind>, Vec<String>) {
    let names = list(text);
    if names.is_empty() {
        return (EventKind::ALL.to_vec(), Vec::new());
    }
    let mut kinds = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        let lower = name.to_ascii_lowercase();
        let bare = lower
            .strip_prefix("job.")
            .or_else(|| lower.strip_prefix("job_"))
            .unwrap_or(&lower);
        let kind = match bare {
            "*" | "all" => {
                kinds.extend(EventKind::ALL);
                continue;
            }
            "queued" | "created" | "submitted" => Some(EventKind::Queued),
            "started" | "processing" | "running" => Some(EventKind::Started),
            "build_succeeded" | "built" | "build_completed" => Some(EventKind::BuildSucceeded),
            "completed" | "verified" | "succeeded" | "success" => Some(EventKind::Completed),
            "failed" | "failed_build" | "failed_validation" | "failure" => Some(EventKind::Failed),
            "cancelled" | "canceled" => Some(EventKind::Cancelled),
            _ => None,
        };
        match kind {
            Some(k) => kinds.push(k),
            None => unknown.push(name),
        }
    }
    // The order and uniqueness the webhook API writes.
    kinds.sort_by_key(|k| EventKind::ALL.iter().position(|a| a == k));
    kinds.dedup();
    (kinds, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_the_usual_shapes() {
        let want = 1_714_566_896_123;
        assert_eq!(timestamp_ms("2024-05-01 12:34:56.123456"), Some(want));
        assert_eq!(timestamp_ms("2024-05-01T12:34:56.123Z"), Some(want));
        assert_eq!(timestamp_ms("1714566896"), Some(1_714_566_896_000));
        assert_eq!(timestamp_ms("1714566896123"), Some(want));
        assert_eq!(timestamp_ms("yesterday"), None);
    }

    #[test]
    fn lists_and_events() {
        assert_eq!(list(Some("[\"a\", \"b\"]")), ["a", "b"]);
        assert_eq!(list(Some("a; b,c")), ["a", "b", "c"]);
        let (kinds, unknown) = events(Some("job_completed, failed, bogus"));
        assert_eq!(kinds, [EventKind::Completed, EventKind::Failed]);
        assert_eq!(unknown, ["bogus"]);
    }
}
