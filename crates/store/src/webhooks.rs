//! Webhooks: HTTP endpoints that receive job events. This module keeps the endpoints
//! themselves; `deliveries` turns the event outbox into signed deliveries and logs every
//! attempt.
//!
//! The secret is stored as given, because the dispatcher needs it to sign each body.
//! It never appears in `Webhook` (which the API shows); it travels only inside a claimed
//! delivery, wrapped so that `Debug` does not print it.

mod deliveries;

pub use deliveries::{
    AttemptResult, ClaimedDelivery, DeliveryEvent, DeliveryRetry, DeliveryState, MAX_DELIVERY_PAGE,
    WebhookDelivery,
};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::backend::on_pool;
use crate::clock::{from_ms, now_ms};
use crate::rows::to_json;
use crate::{EventKind, Result, Store, StoreError};

/// Longest accepted webhook URL, in bytes.
pub const MAX_WEBHOOK_URL_LEN: usize = 2048;
/// Longest accepted secret, in bytes.
pub const MAX_WEBHOOK_SECRET_LEN: usize = 256;

/// How a delivery body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{event, delivery_id, job, sent_at}`.
    #[default]
    Json,
    /// `{"text": "…"}`, what a Slack incoming webhook takes.
    Slack,
}

impl WebhookFormat {
    pub const ALL: [WebhookFormat; 2] = [WebhookFormat::Json, WebhookFormat::Slack];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl std::fmt::Display for WebhookFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The key deliveries are signed with. `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// A secret chosen by the caller: not empty, at most `MAX_WEBHOOK_SECRET_LEN` bytes.
    pub fn new(secret: impl Into<String>) -> Result<Self> {
        let secret = secret.into();
        if secret.is_empty() || secret.len() > MAX_WEBHOOK_SECRET_LEN {
            return Err(StoreError::Invalid {
                field: "secret",
                message: format!("must be 1 to {MAX_WEBHOOK_SECRET_LEN} bytes long"),
            });
        }
        Ok(WebhookSecret(secret))
    }

    /// 32 random bytes from the OS, as 64 hex digits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        WebhookSecret(hex::encode(bytes))
    }

    /// The secret itself, for signing or for showing once to its creator.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// A webhook as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// The events it receives.
    pub events: Vec<EventKind>,
    pub format: WebhookFormat,
    /// An inactive webhook receives nothing; events that happen meanwhile are not kept
    /// for it.
    pub active: bool,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Webhook {
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.contains(&kind)
    }
}

/// What `create_webhook` stores.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<EventKind>,
    pub format: WebhookFormat,
    pub secret: WebhookSecret,
    pub active: bool,
}

/// Fields `update_webhook` changes; None keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<EventKind>>,
    pub format: Option<WebhookFormat>,
    pub active: Option<bool>,
    pub secret: Option<WebhookSecret>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WebhookRow {
    id: i64,
    url: String,
    events: String,
    format: String,
    active: bool,
    created_by: Option<String>,
    created_at: i64,
}

/// The columns `WebhookRow` reads.
const COLUMNS: &str = "id, url, events, format, active, created_by, created_at";

pub(crate) fn parse_events(stored: &str) -> Result<Vec<EventKind>> {
    let names: Vec<String> = serde_json::from_str(stored).map_err(|e| StoreError::Invalid {
        field: "events",
        message: format!("stored webhook events are not a JSON list of names: {e}"),
    })?;
    names
        .iter()
        .map(|name| {
            EventKind::parse(name).ok_or_else(|| StoreError::Invalid {
                field: "events",
                message: format!("unknown event {name:?}"),
            })
        })
        .collect()
}

pub(crate) fn parse_format(stored: &str) -> Result<WebhookFormat> {
    WebhookFormat::parse(stored).ok_or_else(|| StoreError::Invalid {
        field: "format",
        message: format!("unknown webhook format {stored:?}"),
    })
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;

    fn try_from(r: WebhookRow) -> Result<Webhook> {
        Ok(Webhook {
            id: r.id,
            events: parse_events(&r.events)?,
            format: parse_format(&r.format)?,
            url: r.url,
            active: r.active,
            created_by: r.created_by,
            created_at: from_ms("created_at", r.created_at)?,
        })
    }
}

fn check_url(url: &str) -> Result<()> {
    if url.trim().is_empty() || url.len() > MAX_WEBHOOK_URL_LEN {
        return Err(StoreError::Invalid {
            field: "url",
            message: format!("must be 1 to {MAX_WEBHOOK_URL_LEN} bytes long"),
        });
    }
    Ok(())
}

/// The event list as stored: names, each once, in the canonical order.
fn events_json(events: &[EventKind]) -> Result<String> {
    if events.is_empty() {
        return Err(StoreError::Invalid {
            field: "events",
            message: "name at least one event".to_string(),
        });
    }
    let names: Vec<&str> = EventKind::ALL
        .into_iter()
        .filter(|k| events.contains(k))
        .map(EventKind::as_str)
        .collect();
    to_json("events", &names)
}

fn webhook_not_found(id: i64) -> StoreError {
    StoreError::NotFound {
        what: format!("webhook {id}"),
    }
}

impl Store {
    pub async fn create_webhook(
        &self,
        new: &NewWebhook,
        created_by: Option<&str>,
    ) -> Result<Webhook> {
        check_url(&new.url)?;
        let events = events_json(&new.events)?;
        let row: WebhookRow = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "INSERT INTO webhooks (url, events, secret, format, created_by, created_at,
                                       active)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
            ))
            .bind(&new.url)
            .bind(&events)
            .bind(new.secret.expose())
            .bind(new.format.as_str())
            .bind(created_by)
            .bind(now_ms())
            .bind(new.active)
            .fetch_one(pool)
            .await
            .map_err(crate::classify)?
        });
        Webhook::try_from(row)
    }

    /// Every webhook, oldest first.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        let rows: Vec<WebhookRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Webhook::try_from).collect()
    }

    pub async fn get_webhook(&self, id: i64) -> Result<Option<Webhook>> {
        let row: Option<WebhookRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Webhook::try_from).transpose()
    }

    /// Apply `changes` in one statement; NotFound when the webhook does not exist.
    pub async fn update_webhook(&self, id: i64, changes: &WebhookChanges) -> Result<Webhook> {
        if let Some(url) = &changes.url {
            check_url(url)?;
        }
        let events = changes.events.as_deref().map(events_json).transpose()?;
        let row: Option<WebhookRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "UPDATE webhooks
                    SET url = COALESCE($2, url), events = COALESCE($3, events),
                        format = COALESCE($4, format), active = COALESCE($5, active),
                        secret = COALESCE($6, secret)
                  WHERE id = $1
                 RETURNING {COLUMNS}"
            ))
            .bind(id)
            .bind(changes.url.as_deref())
            .bind(events.as_deref())
            .bind(changes.format.map(WebhookFormat::as_str))
            .bind(changes.active)
            .bind(changes.secret.as_ref().map(WebhookSecret::expose))
            .fetch_optional(pool)
            .await
            .map_err(crate::classify)?
        });
        Webhook::try_from(row.ok_or_else(|| webhook_not_found(id))?)
    }

    /// Delete a webhook and its delivery log; NotFound when it does not exist.
    pub async fn delete_webhook(&self, id: i64) -> Result<()> {
        let removed = on_pool!(self.pool(), |pool| {
            sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if removed == 0 {
            return Err(webhook_not_found(id));
        }
        Ok(())
    }
}
