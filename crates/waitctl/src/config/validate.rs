//! Checks of single values, run on each layer so the message names the file line,
//! variable or flag that holds the bad value (not the merged result).

use std::ops::RangeInclusive;

use super::{ConfigError, Partial, Value};

fn range<T>(v: &Option<Value<T>>, key: &str, ok: RangeInclusive<T>) -> Result<(), ConfigError>
where
    T: PartialOrd + std::fmt::Display,
{
    match v {
        Some(v) if !ok.contains(&v.value) => Err(ConfigError(format!(
            "{}: {} is out of range ({} to {})",
            v.source.describe(key),
            v.value,
            ok.start(),
            ok.end()
        ))),
        _ => Ok(()),
    }
}

/// `HOST:PORT` with a numeric port: what `TcpListener::bind` accepts.
pub fn bind_address(s: &str) -> Result<(), String> {
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let bad = || format!("{s:?} is not an address (expected HOST:PORT, e.g. 127.0.0.1:8080)");
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'));
    if !host_ok || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(())
}

fn origin(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.contains('/') && !r.contains(char::is_whitespace))
}

pub(super) fn layer(p: &Partial) -> Result<(), ConfigError> {
    range(&p.concurrency, "worker.concurrency", 1..=64)?;
    range(&p.lease_seconds, "worker.lease_seconds", 5..=86_400)?;
    range(&p.drain_seconds, "worker.drain_seconds", 0..=86_400)?;
    range(
        &p.download_timeout_seconds,
        "worker.download_timeout_seconds",
        1..=3_600,
    )?;
    range(&p.download_max_mb, "worker.download_max_mb", 1..=1_048_576)?;
    range(&p.download_attempts, "worker.download_attempts", 1..=10)?;
    range(&p.session_ttl_hours, "server.session_ttl_hours", 1..=8_760)?;
    range(&p.body_limit_mb, "server.body_limit_mb", 1..=4_096)?;
    range(
        &p.login_max_failures,
        "server.login_limit.max_failures",
        1..=10_000,
    )?;
    range(
        &p.login_window_seconds,
        "server.login_limit.window_seconds",
        1..=86_400,
    )?;
    range(
        &p.webhook_max_attempts,
        "webhooks.retry.max_attempts",
        1..=100,
    )?;
    range(
        &p.webhook_unit_seconds,
        "webhooks.retry.unit_seconds",
        1..=86_400,
    )?;
    range(
        &p.webhook_cap_seconds,
        "webhooks.retry.cap_seconds",
        1..=604_800,
    )?;
    if let Some(v) = &p.bind {
        bind_address(&v.value)
            .map_err(|e| ConfigError(format!("{}: {e}", v.source.describe("server.bind"))))?;
    }
    if let Some(v) = &p.allowed_origins {
        if let Some(bad) = v.value.iter().find(|o| !origin(o)) {
            return Err(ConfigError(format!(
                "{}: {bad:?} is not an origin (expected https://host or https://host:port, no path)",
                v.source.describe("server.allowed_origins")
            )));
        }
    }
    if let Some(v) = &p.hooks {
        for spec in &v.value {
            wait_pipeline::parse_hook(spec)
                .map_err(|e| ConfigError(format!("{}: {e}", v.source.describe("worker.hooks"))))?;
        }
    }
    if let Some(v) = &p.log_level {
        tracing_subscriber::EnvFilter::try_new(&v.value).map_err(|e| {
            ConfigError(format!(
                "{}: {:?} is not a log filter ({e}); e.g. info or info,wait_pipeline=debug",
                v.source.describe("log.level"),
                v.value
            ))
        })?;
    }
    if let Some(Value {
        value: Some(url),
        source,
    }) = &p.database_url
    {
        let known = ["sqlite:", "postgres:", "postgresql:"];
        if !known.iter().any(|k| url.starts_with(k)) {
            // The URL may hold a password: say what is wrong without echoing it.
            return Err(ConfigError(format!(
                "{}: the database URL must start with sqlite:, postgres: or postgresql:",
                source.describe("database.url")
            )));
        }
    }
    if let Some(Value {
        value: Some(user),
        source,
    }) = &p.slack_default_user
    {
        if user.trim().is_empty() {
            return Err(ConfigError(format!(
                "{}: the user name is empty",
                source.describe("slack.default_user")
            )));
        }
    }
    Ok(())
}
