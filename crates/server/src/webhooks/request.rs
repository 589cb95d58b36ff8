//! Webhook request bodies, parsed into store values: the URL (http or https, not a
//! refused literal address), the event names, the format and the secret. Missing or
//! unacceptable values answer 422 naming the field; wrong JSON types answer 400.

use reqwest::Url;
use serde::Deserialize;
use wait_store::{
    EventKind, MAX_WEBHOOK_URL_LEN, NewWebhook, WebhookChanges, WebhookFormat, WebhookSecret,
};

use super::policy::OutboundPolicy;
use crate::error::ApiError;

/// `POST /api/webhooks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    #[schema(value_type = String, required = true)]
    pub url: Option<String>,
    #[schema(value_type = Vec<crate::openapi::mirrors::EventKind>, required = true)]
    pub events: Option<Vec<String>>,
    #[schema(value_type = Option<crate::openapi::mirrors::WebhookFormat>)]
    pub format: Option<String>,
    pub secret: Option<String>,
    pub active: Option<bool>,
}

/// `PATCH /api/webhooks/{id}`: absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<crate::openapi::mirrors::EventKind>>)]
    pub events: Option<Vec<String>>,
    #[schema(value_type = Option<crate::openapi::mirrors::WebhookFormat>)]
    pub format: Option<String>,
    pub active: Option<bool>,
    /// Replace the secret with this one.
    pub secret: Option<String>,
    /// Replace the secret with a new random one.
    #[serde(default)]
    pub rotate_secret: bool,
}

/// A new webhook; its secret is generated when none is given.
pub fn parse_create(body: CreateWebhook, policy: OutboundPolicy) -> Result<NewWebhook, ApiError> {
    let url = body
        .url
        .ok_or_else(|| ApiError::invalid("url", "missing_field", "url is required"))?;
    let events = body
        .events
        .ok_or_else(|| ApiError::invalid("events", "missing_field", "events is required"))?;
    Ok(NewWebhook {
        url: parse_url(&url, policy)?,
        events: parse_events(&events)?,
        format: body
            .format
            .as_deref()
            .map(parse_format)
            .transpose()?
            .unwrap_or_default(),
        secret: match body.secret {
            Some(secret) => parse_secret(secret)?,
            None => WebhookSecret::generate(),
        },
        active: body.active.unwrap_or(true),
    })
}

pub fn parse_update(
    body: UpdateWebhook,
    policy: OutboundPolicy,
) -> Result<WebhookChanges, ApiError> {
    let secret = match (body.secret, body.rotate_secret) {
        (Some(_), true) => {
            return Err(ApiError::invalid(
                "secret",
                "conflicting_fields",
                "give either secret or rotate_secret, not both",
            ));
        }
        (Some(secret), false) => Some(parse_secret(secret)?),
        (None, true) => Some(WebhookSecret::generate()),
        (None, false) => None,
    };
    Ok(WebhookChanges {
        url: body
            .url
            .as_deref()
            .map(|u| parse_url(u, policy))
            .transpose()?,
        events: body.events.as_deref().map(parse_events).transpose()?,
        format: body.format.as_deref().map(parse_format).transpose()?,
        active: body.active,
        secret,
    })
}

/// An absolute http(s) URL with a host, without a refused literal address; returned
/// in normalised form (what is stored is exactly what is called).
pub fn parse_url(raw: &str, policy: OutboundPolicy) -> Result<String, ApiError> {
    let invalid = |message: String| ApiError::invalid("url", "invalid_url", message);
    if raw.len() > MAX_WEBHOOK_URL_LEN {
        return Err(invalid(format!(
            "url is longer than {MAX_WEBHOOK_URL_LEN} bytes"
        )));
    }
    let url = Url::parse(raw.trim()).map_err(|e| invalid(format!("url is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "url scheme must be http or https, not {:?}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url has no host".to_string()));
    }
    policy
        .check_literal(&url)
        .map_err(|refused| ApiError::invalid("url", "private_address", refused.to_string()))?;
    Ok(url.to_string())
}

/// Known event names, at least one; repeats are dropped.
pub fn parse_events(raw: &[String]) -> Result<Vec<EventKind>, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::invalid(
            "events",
            "invalid_value",
            "events must name at least one event",
        ));
    }
    let mut events = Vec::new();
    for name in raw {
        let kind = EventKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::invalid(
                "events",
                "unknown_event",
                format!("unknown event {name:?}; known: {}", known.join(", ")),
            )
        })?;
        if !events.contains(&kind) {
            events.push(kind);
        }
    }
    Ok(events)
}

pub fn parse_format(raw: &str) -> Result<WebhookFormat, ApiError> {
    WebhookFormat::parse(raw).ok_or_else(|| {
        ApiError::invalid(
            "format",
            "invalid_value",
            format!("format must be \"json\" or \"slack\", not {raw:?}"),
        )
    })
}

fn parse_secret(raw: String) -> Result<WebhookSecret, ApiError> {
    WebhookSecret::new(raw).map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> OutboundPolicy {
        OutboundPolicy::default()
    }

    #[test]
    fn malformed_urls_are_refused_with_the_field() {
        let long = format!("https://h.example/{}", "a".repeat(MAX_WEBHOOK_URL_LEN));
        let cases = [
            "",
            "not a url",
            "/relative/path",
            "ftp://files.example/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://",
            "http://10.0.0.5/hook",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            long.as_str(),
        ];
        for raw in cases {
            let err = parse_url(raw, strict()).expect_err(raw);
            assert_eq!(err.field(), Some("url"), "{raw}");
            assert_eq!(err.status().as_u16(), 422, "{raw}");
        }
        assert_eq!(
            parse_url("http://10.0.0.5/hook", strict())
                .expect_err("private")
                .code(),
            "private_address"
        );
        let open = OutboundPolicy {
            allow_private: true,
        };
        assert_eq!(
            parse_url("http://127.0.0.1:8080", open).expect("allowed"),
            "http://127.0.0.1:8080/"
        );
        assert!(parse_url("https://hooks.slack.com/services/T/B/X", strict()).is_ok());
    }

    #[test]
    fn event_lists_must_be_known_names() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_events(&names(&["job.completed", "job.failed", "job.completed"])).expect("valid"),
            vec![EventKind::Completed, EventKind::Failed]
        );
        for bad in [
            names(&[]),
            names(&["job.exploded"]),
            names(&["JOB.QUEUED"]),
            names(&["job.queued", ""]),
            names(&["ping"]),
        ] {
            let err = parse_events(&bad).expect_err("refused");
            assert_eq!(err.field(), Some("events"), "{bad:?}");
        }
    }

    #[test]
    fn formats_and_secrets_are_checked() {
        assert_eq!(parse_format("slack").expect("slack"), WebhookFormat::Slack);
        for bad in ["", "xml", "JSON"] {
            assert_eq!(parse_format(bad).expect_err(bad).field(), Some("format"));
        }
        let body = UpdateWebhook {
            url: None,
            events: None,
            format: None,
            active: None,
            secret: Some("x".to_string()),
            rotate_secret: true,
        };
        assert_eq!(
            parse_update(body, strict()).expect_err("both").field(),
            Some("secret")
        );
        let empty = CreateWebhook {
            url: Some("https://h.example".to_string()),
            events: Some(vec!["job.queued".to_string()]),
            format: None,
            secret: Some(String::new()),
            active: None,
        };
        assert_eq!(
            parse_create(empty, strict()).expect_err("empty").field(),
            Some("secret")
        );
    }

    #[test]
    fn a_generated_secret_is_32_random_bytes_in_hex() {
        let body = CreateWebhook {
            url: Some("https://h.example".to_string()),
            events: Some(vec!["job.queued".to_string()]),
            format: None,
            secret: None,
            active: None,
        };
        let one = parse_create(body, strict()).expect("valid");
        let secret = one.secret.expose();
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(one.format, WebhookFormat::Json);
        assert!(one.active);
        assert_ne!(WebhookSecret::generate(), WebhookSecret::generate());
    }
}
