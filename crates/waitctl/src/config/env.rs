//! The environment layer: `WAIT_*` variables, and `WAIT_<NAME>_FILE` for secrets so they
//! can come from a mounted secret file instead of the process environment.
//!
//! An empty variable counts as unset (the usual way to clear one in a unit file).

use std::path::{Path, PathBuf};

use super::{ConfigError, LogFormat, Partial, Source, Value};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn string(name: &'static str) -> Option<Value<String>> {
    var(name).map(|v| Value::new(v, Source::Env(name.to_string())))
}

fn some_string(name: &'static str) -> Option<Value<Option<String>>> {
    string(name).map(|v| Value::new(Some(v.value), v.source))
}

fn path(name: &'static str) -> Option<Value<PathBuf>> {
    var(name).map(|v| Value::new(PathBuf::from(v), Source::Env(name.to_string())))
}

fn number<T: std::str::FromStr>(name: &'static str) -> Result<Option<Value<T>>, ConfigError> {
    match var(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(|n| Some(Value::new(n, Source::Env(name.to_string()))))
            .map_err(|_| ConfigError(format!("{name}: {v:?} is not a whole number"))),
    }
}

fn flag(name: &'static str) -> Result<Option<Value<bool>>, ConfigError> {
    match var(name) {
        None => Ok(None),
        Some(v) => parse_bool(&v)
            .map(|b| Some(Value::new(b, Source::Env(name.to_string()))))
            .ok_or_else(|| {
                ConfigError(format!(
                    "{name}: {v:?} is not true or false (1/0, yes/no, on/off also work)"
                ))
            }),
    }
}

pub(super) fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "off" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// `NAME` or `NAME_FILE` (the file's contents, trailing newline removed); both is an error.
fn secret(name: &'static str) -> Result<Option<Value<Option<String>>>, ConfigError> {
    let file_var = format!("{name}_FILE");
    match (var(name), var(&file_var)) {
        (Some(_), Some(_)) => Err(ConfigError(format!(
            "{name} and {file_var} are both set; keep one"
        ))),
        (Some(v), None) => Ok(Some(Value::new(Some(v), Source::Env(name.to_string())))),
        (None, Some(p)) => {
            let secret = read_secret_file(Path::new(&p), &file_var)?;
            Ok(Some(Value::new(Some(secret), Source::Env(file_var))))
        }
        (None, None) => Ok(None),
    }
}

/// A secret file's contents without the trailing newline editors and `echo` add.
pub(super) fn read_secret_file(path: &Path, named_by: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "{named_by}: cannot read the secret file {}: {e}",
            path.display()
        ))
    })?;
    let secret = text.trim_end_matches(['\n', '\r']).to_string();
    if secret.is_empty() {
        return Err(ConfigError(format!(
            "{named_by}: the secret file {} is empty",
            path.display()
        )));
    }
    Ok(secret)
}

pub(super) fn read() -> Result<Partial, ConfigError> {
    let log_level = string("WAIT_LOG").or_else(|| string("RUST_LOG"));
    let log_format = match var("WAIT_LOG_FORMAT") {
        None => None,
        Some(v) => Some(Value::new(
            LogFormat::parse(&v).ok_or_else(|| {
                ConfigError(format!("WAIT_LOG_FORMAT: {v:?} is not text or json"))
            })?,
            Source::Env("WAIT_LOG_FORMAT".to_string()),
        )),
    };
    let allowed_origins = string("WAIT_ALLOWED_ORIGINS").map(|v| {
        let list = v
            .value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Value::new(list, v.source)
    });
    Ok(Partial {
        data_dir: path("WAIT_DATA_DIR"),
        repository: path("WAIT_REPOSITORY").map(|v| Value::new(Some(v.value), v.source)),
        database_url: secret("WAIT_DATABASE_URL")?,
        bind: string("WAIT_BIND"),
        no_worker: flag("WAIT_NO_WORKER")?,
        allowed_origins,
        secure_cookies: flag("WAIT_SECURE_COOKIES")?,
        session_ttl_hours: number("WAIT_SESSION_TTL_HOURS")?,
        body_limit_mb: number("WAIT_BODY_LIMIT_MB")?,
        login_max_failures: number("WAIT_LOGIN_MAX_FAILURES")?,
        login_window_seconds: number("WAIT_LOGIN_WINDOW_SECONDS")?,
        concurrency: number("WAIT_CONCURRENCY")?,
        lease_seconds: number("WAIT_LEASE_SECONDS")?,
        drain_seconds: number("WAIT_DRAIN_SECONDS")?,
        hooks: None,
        download_allow_private: flag("WAIT_DOWNLOAD_ALLOW_PRIVATE")?,
        download_timeout_seconds: number("WAIT_DOWNLOAD_TIMEOUT_SECONDS")?,
        download_max_mb: number("WAIT_DOWNLOAD_MAX_MB")?,
        download_attempts: number("WAIT_DOWNLOAD_ATTEMPTS")?,
        webhook_allow_private: flag("WAIT_WEBHOOK_ALLOW_PRIVATE")?,
        webhook_max_attempts: number("WAIT_WEBHOOK_RETRY_MAX_ATTEMPTS")?,
        webhook_unit_seconds: number("WAIT_WEBHOOK_RETRY_UNIT_SECONDS")?,
        webhook_cap_seconds: number("WAIT_WEBHOOK_RETRY_CAP_SECONDS")?,
        slack_signing_secret: secret("WAIT_SLACK_SIGNING_SECRET")?,
        slack_default_user: some_string("WAIT_SLACK_DEFAULT_USER"),
        log_level,
        log_format,
    })
}
