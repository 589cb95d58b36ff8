//! The TOML config file. Unknown keys are refused (a misspelt key would otherwise be
//! silently ignored and the built-in default used); errors carry the line.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, LogFormat, Partial, Source, Value};

type S<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileConfig {
    paths: Paths,
    database: Database,
    server: Server,
    worker: Worker,
    webhooks: Webhooks,
    slack: Slack,
    log: Log,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Paths {
    data_dir: S<PathBuf>,
    repository: S<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Database {
    url: S<String>,
    url_file: S<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Server {
    bind: S<String>,
    no_worker: S<bool>,
    allowed_origins: S<Vec<String>>,
    secure_cookies: S<bool>,
    session_ttl_hours: S<u64>,
    body_limit_mb: S<u64>,
    login_limit: LoginLimit,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LoginLimit {
    max_failures: S<u32>,
    window_seconds: S<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Worker {
    concurrency: S<u32>,
    lease_seconds: S<u64>,
    drain_seconds: S<u64>,
    hooks: S<Vec<String>>,
    download_allow_private: S<bool>,
    download_timeout_seconds: S<u64>,
    download_max_mb: S<u64>,
    download_attempts: S<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Webhooks {
    allow_private: S<bool>,
    retry: Retry,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Retry {
    max_attempts: S<u32>,
    unit_seconds: S<u64>,
    cap_seconds: S<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Slack {
    signing_secret: S<String>,
    signing_secret_file: S<PathBuf>,
    default_user: S<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Log {
    level: S<String>,
    format: S<LogFormat>,
}

/// Read and parse `path` into a layer. Relative paths in the file are taken from the
/// file's own folder, so a service unit's working directory does not change them.
pub(super) fn read(path: &Path) -> Result<Partial, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let parsed: FileConfig = toml::from_str(&text)
        .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
    Layer { path, text: &text }.partial(parsed)
}

struct Layer<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Layer<'_> {
    fn source(&self, span: std::ops::Range<usize>, key: &str) -> Source {
        let before = self.text.get(..span.start).unwrap_or(self.text);
        Source::File {
            path: self.path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            key: key.to_string(),
        }
    }

    fn value<T>(&self, v: S<T>, key: &str) -> Option<Value<T>> {
        v.map(|s| {
            let source = self.source(s.span(), key);
            Value::new(s.into_inner(), source)
        })
    }

    fn some<T>(&self, v: S<T>, key: &str) -> Option<Value<Option<T>>> {
        self.value(v, key)
            .map(|v| Value::new(Some(v.value), v.source))
    }

    fn path(&self, v: S<PathBuf>, key: &str) -> Option<Value<PathBuf>> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        self.value(v, key)
            .map(|v| Value::new(dir.join(&v.value), v.source))
    }

    /// A secret given inline or as `<name>_file`; both at once is refused.
    fn secret(
        &self,
        inline: S<String>,
        from_file: S<PathBuf>,
        key: &str,
    ) -> Result<Option<Value<Option<String>>>, ConfigError> {
        let file_key = format!("{key}_file");
        match (self.some(inline, key), self.path(from_file, &file_key)) {
            (Some(a), Some(b)) => Err(ConfigError(format!(
                "{} and {} are both set; keep one",
                a.source.describe(key),
                b.source.describe(&file_key)
            ))),
            (Some(a), None) => Ok(Some(a)),
            (None, Some(f)) => {
                let secret = super::env::read_secret_file(&f.value, &f.source.describe(&file_key))?;
                Ok(Some(Value::new(Some(secret), f.source)))
            }
            (None, None) => Ok(None),
        }
    }

    fn partial(&self, f: FileConfig) -> Result<Partial, ConfigError> {
        Ok(Partial {
            data_dir: self.path(f.paths.data_dir, "paths.data_dir"),
            repository: self
                .path(f.paths.repository, "paths.repository")
                .map(|v| Value::new(Some(v.value), v.source)),
            database_url: self.secret(f.database.url, f.database.url_file, "database.url")?,
            bind: self.value(f.server.bind, "server.bind"),
            no_worker: self.value(f.server.no_worker, "server.no_worker"),
            allowed_origins: self.value(f.server.allowed_origins, "server.allowed_origins"),
            secure_cookies: self.value(f.server.secure_cookies, "server.secure_cookies"),
            session_ttl_hours: self.value(f.server.session_ttl_hours, "server.session_ttl_hours"),
            body_limit_mb: self.value(f.server.body_limit_mb, "server.body_limit_mb"),
            login_max_failures: self.value(
                f.server.login_limit.max_failures,
                "server.login_limit.max_failures",
            ),
            login_window_seconds: self.value(
                f.server.login_limit.window_seconds,
                "server.login_limit.window_seconds",
            ),
            concurrency: self.value(f.worker.concurrency, "worker.concurrency"),
            lease_seconds: self.value(f.worker.lease_seconds, "worker.lease_seconds"),
            drain_seconds: self.value(f.worker.drain_seconds, "worker.drain_seconds"),
            hooks: self.value(f.worker.hooks, "worker.hooks"),
            download_allow_private: self.value(
                f.worker.download_allow_private,
                "worker.download_allow_private",
            ),
            download_timeout_seconds: self.value(
                f.worker.download_timeout_seconds,
                "worker.download_timeout_seconds",
            ),
            download_max_mb: self.value(f.worker.download_max_mb, "worker.download_max_mb"),
            download_attempts: self.value(f.worker.download_attempts, "worker.download_attempts"),
            webhook_allow_private: self.value(f.webhooks.allow_private, "webhooks.allow_private"),
            webhook_max_attempts: self
                .value(f.webhooks.retry.max_attempts, "webhooks.retry.max_attempts"),
            webhook_unit_seconds: self
                .value(f.webhooks.retry.unit_seconds, "webhooks.retry.unit_seconds"),
            webhook_cap_seconds: self
                .value(f.webhooks.retry.cap_seconds, "webhooks.retry.cap_seconds"),
            slack_signing_secret: self.secret(
                f.slack.signing_secret,
                f.slack.signing_secret_file,
                "slack.signing_secret",
            )?,
            slack_default_user: self.some(f.slack.default_user, "slack.default_user"),
            log_level: self.value(f.log.level, "log.level"),
            log_format: self.value(f.log.format, "log.format"),
        })
    }
}
