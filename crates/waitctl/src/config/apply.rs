//! Settings turned into what the libraries take.

use std::time::Duration;

use super::Settings;
use crate::cli::Common;

/// The data directory, repository and database of the process.
pub fn common(s: &Settings) -> Common {
    Common {
        data_dir: s.data_dir.value.clone(),
        repository: s.repository.value.clone(),
        database_url: s.database_url.value.clone(),
    }
}

pub fn server_config(s: &Settings) -> wait_server::ServerConfig {
    let body_limit = s.body_limit_mb.value.saturating_mul(1 << 20);
    wait_server::ServerConfig {
        session_ttl: Duration::from_secs(s.session_ttl_hours.value.saturating_mul(3600)),
        secure_cookies: s.secure_cookies.value,
        body_limit: usize::try_from(body_limit).unwrap_or(usize::MAX),
        webhook_allow_private: s.webhook_allow_private.value,
        webhook_retry: wait_store::DeliveryRetry {
            max_attempts: i64::from(s.webhook_max_attempts.value),
            unit: Duration::from_secs(s.webhook_unit_seconds.value),
            cap: Duration::from_secs(s.webhook_cap_seconds.value),
        },
        allowed_origins: s.allowed_origins.value.clone(),
        login_limit: wait_server::ratelimit::LoginLimit {
            max_failures: s.login_max_failures.value,
            window: Duration::from_secs(s.login_window_seconds.value),
        },
        slack_signing_secret: s.slack_signing_secret.value.clone(),
        slack_default_user: s.slack_default_user.value.clone(),
        ..wait_server::ServerConfig::default()
    }
}
