//! Users and webhooks of the original database.

use std::collections::{HashMap, HashSet};

use super::TableSummary;
use super::convert;
use super::source::{Field, SeedDb, SeedRow, Text, field};
use super::write::{ImportTx, NewHook};
use crate::clock::now_ms;
use crate::{MAX_USERNAME_LEN, MAX_WEBHOOK_SECRET_LEN, MAX_WEBHOOK_URL_LEN, Result, WebhookSecret};

/// Old user id (as `Text::key`) → user name, for resolving `created_by` ids.
pub(crate) type Usernames = HashMap<String, String>;

const USER_FIELDS: &[Field] = &[
    field("id", &["id", "user_id"]),
    field("username", &["username", "user_name", "login", "name"]),
    field(
        "password_hash",
        &["password_hash", "hashed_password", "pwd_hash", "password"],
    ),
    field("role", &["role", "user_role"]),
    field("is_admin", &["is_admin", "admin", "is_superuser"]),
    field("is_active", &["is_active", "active", "enabled"]),
    field("created_at", &["created_at", "created", "date_created"]),
];

const HOOK_FIELDS: &[Field] = &[
    field("id", &["id", "webhook_id"]),
    field("url", &["url", "endpoint", "target_url"]),
    field("events", &["events", "event_types", "event"]),
    field("secret", &["secret", "signing_secret", "hmac_secret"]),
    field("is_active", &["is_active", "active", "enabled"]),
    field("created_by", &["created_by", "user_id", "owner"]),
    field("created_at", &["created_at", "created"]),
];

pub(crate) fn value(row: &SeedRow, i: usize) -> Option<&Text> {
    row.get(i).and_then(Option::as_ref)
}

pub(crate) fn str_of(row: &SeedRow, i: usize) -> Option<&str> {
    value(row, i)
        .map(|t| t.value.trim())
        .filter(|s| !s.is_empty())
}

/// A timestamp field, or None when absent or not a plausible time.
pub(crate) fn time_of(row: &SeedRow, i: usize) -> Option<i64> {
    // Year 1970 to 9999: what every reader of the store can turn back into a date.
    str_of(row, i)
        .and_then(convert::timestamp_ms)
        .filter(|ms| (0..253_402_300_800_000).contains(ms))
}

pub(crate) async fn import_users(
    seed: &SeedDb,
    columns: Option<&[String]>,
    tx: &mut ImportTx,
    locked_hash: &str,
) -> Result<(TableSummary, Usernames)> {
    let mut summary = TableSummary::new("users");
    let mut usernames = Usernames::new();
    let Some(columns) = columns else {
        return Ok((summary, usernames));
    };
    summary.found = true;
    let read = seed.read("users", columns, USER_FIELDS, Some("id")).await?;
    summary.missing_columns = read.missing;
    let now = now_ms();
    let mut seen: HashSet<String> = HashSet::new();
    for row in &read.rows {
        let Some(name) = value(row, 1).filter(|t| !t.value.trim().is_empty()) else {
            summary.skip("a user without a username".to_string());
            continue;
        };
        let old_id = value(row, 0).map(Text::key);
        if name.lossy {
            summary.skip(format!(
                "user {:?}: the username is not valid UTF-8",
                name.value
            ));
            continue;
        }
        let username = name.value.trim().to_string();
        if let Some(id) = &old_id {
            usernames
                .entry(id.clone())
                .or_insert_with(|| username.clone());
        }
        let key = old_id.unwrap_or_else(|| format!("name:{username}"));
        if tx.mapped("user", &key).await?.is_some() {
            summary.already_imported += 1;
            seen.insert(username);
            continue;
        }
        if !seen.insert(username.clone()) {
            summary.skip(format!(
                "user {username:?} (old id {key}): duplicate username, the first one was kept"
            ));
            continue;
        }
        if !valid_username(&username) {
            summary.skip(format!(
                "user {username:?}: not a valid name here (1 to {MAX_USERNAME_LEN} letters, digits, '_', '-', '.', '@')"
            ));
            continue;
        }
        if tx.user_exists(&username).await? {
            summary.skip(format!(
                "user {username:?}: a user of that name already exists here"
            ));
            continue;
        }
        let role = convert::role(str_of(row, 3), str_of(row, 4));
        let old_hash = str_of(row, 2);
        let keep_hash = old_hash.filter(|h| convert::is_argon2id_phc(h));
        let inactive = str_of(row, 5).is_some_and(|a| !convert::truthy(a));
        let disabled_at = (keep_hash.is_none() || inactive).then_some(now);
        let created_at = time_of(row, 6).unwrap_or(now);
        let id = tx
            .insert_user(
                &username,
                role,
                keep_hash.unwrap_or(locked_hash),
                created_at,
                disabled_at,
            )
            .await?;
        tx.record("user", &key, &id.to_string(), now).await?;
        summary.imported += 1;
        if keep_hash.is_none() {
            summary.notes.push(format!(
                "user {username:?}: imported disabled, its password hash is {} (not argon2id); \
                 an admin must set a new password to enable it",
                hash_scheme(old_hash)
            ));
        } else if inactive {
            summary.notes.push(format!(
                "user {username:?}: imported disabled (inactive in the old database)"
            ));
        }
    }
    Ok((summary, usernames))
}

fn valid_username(name: &str) -> bool {
    name.chars().count() <= MAX_USERNAME_LEN
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

/// What kind of hash the old row holds, without printing it.
fn hash_scheme(hash: Option<&str>) -> &'static str {
    match hash {
        None => "missing",
        Some(h) if h.starts_with("$2") => "bcrypt",
        Some(h) if h.starts_with("pbkdf2") || h.starts_with("$pbkdf2") => "pbkdf2",
        Some(h) if h.starts_with("scrypt") || h.starts_with("$scrypt") => "scrypt",
        Some(h) if h.starts_with("$argon2") => "another argon2 variant or malformed",
        Some(_) => "of an unknown kind",
    }
}

/// Who created a row: an old user id resolves to that user's name; text is kept.
pub(crate) fn creator(row: &SeedRow, i: usize, usernames: &Usernames) -> Option<String> {
    let t = value(row, i)?;
    usernames
        .get(&t.key())
        .cloned()
        .or_else(|| str_of(row, i).map(str::to_string))
}

pub(crate) async fn import_webhooks(
    seed: &SeedDb,
    columns: Option<&[String]>,
    tx: &mut ImportTx,
    usernames: &Usernames,
) -> Result<TableSummary> {
    let mut summary = TableSummary::new("webhooks");
    let Some(columns) = columns else {
        return Ok(summary);
    };
    summary.found = true;
    let read = seed
        .read("webhooks", columns, HOOK_FIELDS, Some("id"))
        .await?;
    summary.missing_columns = read.missing;
    let now = now_ms();
    for row in &read.rows {
        let url = str_of(row, 1).unwrap_or_default().to_string();
        let label = value(row, 0).map(Text::key).unwrap_or_else(|| url.clone());
        if !valid_url(&url) || value(row, 1).is_some_and(|t| t.lossy) {
            summary.skip(format!(
                "webhook {label}: the url {url:?} is not an http(s) URL"
            ));
            continue;
        }
        let key = value(row, 0)
            .map(Text::key)
            .unwrap_or_else(|| format!("url:{url}"));
        if tx.mapped("webhook", &key).await?.is_some() {
            summary.already_imported += 1;
            continue;
        }
        let (events, unknown) = convert::events(str_of(row, 2));
        if !unknown.is_empty() {
            summary.notes.push(format!(
                "webhook {label}: events dropped (unknown here): {}",
                unknown.join(", ")
            ));
        }
        if events.is_empty() {
            summary.skip(format!("webhook {label}: none of its events exists here"));
            continue;
        }
        // The secret is kept as given, so receivers keep verifying signatures with the
        // key they already have; only a missing or unusable one is replaced.
        let given = value(row, 3).filter(|t| !t.lossy).map(|t| t.value.clone());
        let secret = match given.map(WebhookSecret::new) {
            Some(Ok(secret)) => secret,
            _ => {
                summary.notes.push(format!(
                    "webhook {label}: no usable secret (1 to {MAX_WEBHOOK_SECRET_LEN} bytes of text); \
                     a new one was generated, set the receiver's through the webhook API"
                ));
                WebhookSecret::generate()
            }
        };
        let events_json = crate::rows::to_json("events", &events)?;
        let hook = NewHook {
            url,
            events: events_json,
            secret: secret.expose().to_string(),
            created_by: creator(row, 5, usernames),
            created_at: time_of(row, 6).unwrap_or(now),
            active: str_of(row, 4).is_none_or(convert::truthy),
        };
        let id = tx.insert_webhook(&hook).await?;
        tx.record("webhook", &key, &id.to_string(), now).await?;
        summary.imported += 1;
    }
    Ok(summary)
}

fn valid_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && url.len() <= MAX_WEBHOOK_URL_LEN
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}
