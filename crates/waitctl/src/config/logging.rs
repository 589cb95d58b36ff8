//! Log lines on stderr, as text or one JSON object per line. The filter sits behind a
//! reload layer so SIGHUP can change the level of a running process.

use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

use super::{LogFormat, Settings};

/// Info for WAIT itself; the database and HTTP libraries only when something is wrong.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Install the global subscriber. Called once, before anything logs.
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log_level.value)
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (filter, handle) = reload::Layer::new(filter);
    let output = match settings.log_format.value {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_target(false)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .boxed(),
    };
    if tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .try_init()
        .is_ok()
    {
        let _ = FILTER.set(handle);
    }
}

/// Replace the filter of the running process.
pub fn set_filter(directives: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
    let handle = FILTER
        .get()
        .ok_or_else(|| "logging was not set up by this process".to_string())?;
    handle.reload(filter).map_err(|e| e.to_string())
}
