//! Settings of the long-running processes, from four layers: built-in default < config
//! file (`--config`, `WAIT_CONFIG`) < environment `WAIT_*` < command-line flag.
//!
//! Each layer is read into a [`Partial`] (every setting optional, each value carrying
//! where it came from) and checked on its own, so an error names the file line, the
//! variable or the flag that holds the bad value. [`Settings`] is the merge.

pub mod apply;
pub mod check;
mod context;
mod env;
mod file;
pub mod inject;
pub mod logging;
mod redact;
pub mod reload;
mod validate;

use std::path::PathBuf;

pub use context::{Context, Loaded};
pub use redact::{redact_url, render_toml};

/// A setting could not be read or is not valid. Exit code 2, like a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    /// `key` is the one written in the file (e.g. `url_file` for a secret read from a file).
    File {
        path: PathBuf,
        line: usize,
        key: String,
    },
    Env(String),
    Flag(&'static str),
}

impl Source {
    /// How an error message names the value: the file line, variable or flag.
    pub fn describe(&self, key: &str) -> String {
        match self {
            Source::Default => format!("{key} (built-in default)"),
            Source::File { path, line, key } => format!("{} line {line}: {key}", path.display()),
            Source::Env(var) => var.clone(),
            Source::Flag(flag) => format!("--{flag}"),
        }
    }

    /// The short form printed next to each value by `config check`.
    pub fn label(&self) -> String {
        match self {
            Source::Default => "default".to_string(),
            Source::File { line, key, .. } if key.ends_with("_file") => {
                format!("file line {line} ({key})")
            }
            Source::File { line, .. } => format!("file line {line}"),
            Source::Env(var) => format!("env {var}"),
            Source::Flag(flag) => format!("flag --{flag}"),
        }
    }
}

/// A value and its origin.
#[derive(Clone, PartialEq)]
pub struct Value<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Value<T> {
    pub fn new(value: T, source: Source) -> Self {
        Value { value, source }
    }
}

/// `text` (human-readable lines) or `json` (one object per line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// How a value is printed by `config check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redact {
    None,
    /// The whole value is replaced.
    Full,
    /// Only the password of a URL is replaced (the host and database stay readable).
    UrlPassword,
}

/// One setting, ready for printing or comparing.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `section.key`, e.g. `server.login_limit.max_failures`.
    pub key: &'static str,
    /// None when the setting is not set.
    pub value: Option<toml::Value>,
    pub source: Source,
    pub redact: Redact,
}

/// Conversion to a TOML value for printing.
pub trait Render {
    fn render(&self) -> Option<toml::Value>;
}

impl Render for String {
    fn render(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.clone()))
    }
}
impl Render for PathBuf {
    fn render(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.to_string_lossy().into_owned()))
    }
}
impl Render for bool {
    fn render(&self) -> Option<toml::Value> {
        Some(toml::Value::Boolean(*self))
    }
}
impl Render for u32 {
    fn render(&self) -> Option<toml::Value> {
        Some(toml::Value::Integer(i64::from(*self)))
    }
}
impl Render for u64 {
    fn render(&self) -> Option<toml::Value> {
        Some(toml::Value::Integer(
            i64::try_from(*self).unwrap_or(i64::MAX),
        ))
    }
}
impl Render for Vec<String> {
    fn render(&self) -> Option<toml::Value> {
        Some(toml::Value::Array(
            self.iter().cloned().map(toml::Value::String).collect(),
        ))
    }
}
impl Render for LogFormat {
    fn render(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.as_str().to_string()))
    }
}
impl<T: Render> Render for Option<T> {
    fn render(&self) -> Option<toml::Value> {
        self.as_ref().and_then(Render::render)
    }
}

macro_rules! redact_kind {
    () => {
        Redact::None
    };
    (secret) => {
        Redact::Full
    };
    (url) => {
        Redact::UrlPassword
    };
}

/// Every setting once: field, type, built-in default, key in the file, and how it is
/// printed. The layer type, the merged type and the listing are generated from it so
/// they cannot drift apart.
macro_rules! settings {
    ($( $field:ident : $ty:ty = $default:expr, $key:literal $(, $kind:ident)? ;)*) => {
        /// One layer: only the settings it gives.
        #[derive(Clone, Default)]
        pub struct Partial {
            $( pub $field: Option<Value<$ty>>, )*
        }

        impl Partial {
            /// `self` wins over `lower`.
            pub fn over(self, lower: Partial) -> Partial {
                Partial { $( $field: self.$field.or(lower.$field), )* }
            }
        }

        /// The merged settings of one process.
        #[derive(Clone)]
        pub struct Settings {
            $( pub $field: Value<$ty>, )*
        }

        impl Settings {
            fn from_partial(p: Partial) -> Settings {
                Settings {
                    $( $field: p.$field.unwrap_or_else(|| Value::new($default, Source::Default)), )*
                }
            }

            /// Every setting in file order.
            pub fn entries(&self) -> Vec<Entry> {
                vec![ $( Entry {
                    key: $key,
                    value: Render::render(&self.$field.value),
                    source: self.$field.source.clone(),
                    redact: redact_kind!($($kind)?),
                }, )* ]
            }
        }
    };
}

settings! {
    data_dir: PathBuf = PathBuf::from("./wait-data"), "paths.data_dir";
    repository: Option<PathBuf> = None, "paths.repository";
    database_url: Option<String> = None, "database.url", url;
    bind: String = "127.0.0.1:8080".to_string(), "server.bind";
    no_worker: bool = false, "server.no_worker";
    allowed_origins: Vec<String> = Vec::new(), "server.allowed_origins";
    secure_cookies: bool = false, "server.secure_cookies";
    session_ttl_hours: u64 = defaults::session_ttl_hours(), "server.session_ttl_hours";
    body_limit_mb: u64 = defaults::body_limit_mb(), "server.body_limit_mb";
    login_max_failures: u32 = defaults::login().max_failures, "server.login_limit.max_failures";
    login_window_seconds: u64 = defaults::login().window.as_secs(), "server.login_limit.window_seconds";
    concurrency: u32 = 1, "worker.concurrency";
    lease_seconds: u64 = 60, "worker.lease_seconds";
    drain_seconds: u64 = 30, "worker.drain_seconds";
    hooks: Vec<String> = Vec::new(), "worker.hooks";
    download_allow_private: bool = false, "worker.download_allow_private";
    download_timeout_seconds: u64 = defaults::download().timeout.as_secs(), "worker.download_timeout_seconds";
    download_max_mb: u64 = defaults::download().max_bytes >> 20, "worker.download_max_mb";
    download_attempts: u32 = defaults::download().attempts, "worker.download_attempts";
    webhook_allow_private: bool = false, "webhooks.allow_private";
    webhook_max_attempts: u32 = defaults::retry_max_attempts(), "webhooks.retry.max_attempts";
    webhook_unit_seconds: u64 = defaults::retry().unit.as_secs(), "webhooks.retry.unit_seconds";
    webhook_cap_seconds: u64 = defaults::retry().cap.as_secs(), "webhooks.retry.cap_seconds";
    slack_signing_secret: Option<String> = None, "slack.signing_secret", secret;
    slack_default_user: Option<String> = None, "slack.default_user";
    log_level: String = logging::DEFAULT_FILTER.to_string(), "log.level";
    log_format: LogFormat = LogFormat::Text, "log.format";
}

/// Built-in defaults taken from the libraries, so the file and the code agree.
mod defaults {
    pub fn session_ttl_hours() -> u64 {
        wait_server::ServerConfig::default().session_ttl.as_secs() / 3600
    }
    pub fn body_limit_mb() -> u64 {
        (wait_server::ServerConfig::default().body_limit as u64) >> 20
    }
    pub fn login() -> wait_server::ratelimit::LoginLimit {
        wait_server::ServerConfig::default().login_limit
    }
    pub fn download() -> wait_pipeline::DownloadPolicy {
        wait_pipeline::DownloadPolicy::default()
    }
    pub fn retry() -> wait_store::DeliveryRetry {
        wait_store::DeliveryRetry::default()
    }
    pub fn retry_max_attempts() -> u32 {
        u32::try_from(retry().max_attempts).unwrap_or(8)
    }
}

impl std::fmt::Debug for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets; the layer is never printed whole.
        f.debug_struct("Partial").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Settings");
        for e in self.entries() {
            let shown = redact::display_value(&e);
            d.field(e.key, &shown);
        }
        d.finish()
    }
}
