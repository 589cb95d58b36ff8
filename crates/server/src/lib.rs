//! The WAIT HTTP API (axum): authentication, jobs, the live job stream and health.
//!
//! The server never builds images: it validates requests against the catalog, writes
//! them to the store, and reads the store back for the API. Workers (in this process or
//! others) find their work in the store.

pub mod auth;
pub mod clone;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod job_request;
pub mod metrics;
pub mod openapi;
pub mod outputs;
pub mod ratelimit;
mod resolve_cache;
pub mod routes;
pub mod slack;
mod sse;
pub mod ui;
pub mod views;
pub mod webhooks;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;
use wait_catalog::Repository;
use wait_store::Store;

pub use auth::{AuthUser, SESSION_COOKIE};
pub use error::ApiError;
pub use extract::{ApiJson, ApiQuery};

/// Tunables of the HTTP layer; `ServerConfig::default()` is what `waitctl serve` uses.
/// Its `Debug` output never shows the Slack signing secret.
#[derive(Clone)]
pub struct ServerConfig {
    /// How long a login session lives.
    pub session_ttl: Duration,
    /// Add `Secure` to the session cookie (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How often the job stream looks for new log lines and state changes.
    pub stream_poll: Duration,
    /// Interval of the job stream's heartbeat comments.
    pub stream_heartbeat: Duration,
    /// A worker counts as live when it was seen within this window.
    pub worker_window: Duration,
    /// Let webhooks target loopback, private and link-local addresses
    /// (`WAIT_WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_allow_private: bool,
    /// How often the webhook dispatcher looks for new events and due retries.
    pub webhook_poll: Duration,
    /// When failed webhook deliveries are tried again, and how often.
    pub webhook_retry: wait_store::DeliveryRetry,
    /// Origins (`https://wait.example.com`) besides the server's own `Host` that may send
    /// cookie-authenticated changes, e.g. the public name of a reverse proxy that
    /// rewrites `Host`.
    pub allowed_origins: Vec<String>,
    /// Failed logins allowed per client address and per user name within a window.
    pub login_limit: ratelimit::LoginLimit,
    /// Slack signing secret (`WAIT_SLACK_SIGNING_SECRET`); None turns the Slack command
    /// endpoint off (404).
    pub slack_signing_secret: Option<String>,
    /// WAIT user that Slack builds run as when the caller's Slack name is not a WAIT
    /// builder or admin (`WAIT_SLACK_DEFAULT_USER`); it must itself be one.
    pub slack_default_user: Option<String>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("session_ttl", &self.session_ttl)
            .field("secure_cookies", &self.secure_cookies)
            .field("body_limit", &self.body_limit)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .field("allowed_origins", &self.allowed_origins)
            .field(
                "slack_signing_secret",
                &self.slack_signing_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("slack_default_user", &self.slack_default_user)
            .finish_non_exhaustive()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            body_limit: 1024 * 1024,
            stream_poll: Duration::from_millis(250),
            stream_heartbeat: Duration::from_secs(15),
            worker_window: Duration::from_secs(30),
            webhook_allow_private: false,
            webhook_poll: Duration::from_secs(1),
            webhook_retry: wait_store::DeliveryRetry::default(),
            allowed_origins: Vec::new(),
            login_limit: ratelimit::LoginLimit::default(),
            slack_signing_secret: None,
            slack_default_user: None,
        }
    }
}

/// Shared state of every handler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub repo: Repository,
    pub config: Arc<ServerConfig>,
    /// The content-hash cache file shared with the workers; None hashes every file a
    /// clone compares.
    pub hash_cache: Option<PathBuf>,
    /// Flips to true when the server shuts down, so long-lived streams end.
    shutdown: Arc<watch::Sender<bool>>,
    /// Failed-login counters of this API instance.
    pub(crate) login_limiter: Arc<ratelimit::LoginLimiter>,
}

impl AppState {
    pub fn new(store: Store, repo: Repository) -> Self {
        Self::with_config(store, repo, ServerConfig::default())
    }

    pub fn with_config(store: Store, repo: Repository, config: ServerConfig) -> Self {
        let (shutdown, _) = watch::channel(false);
        let login_limiter = Arc::new(ratelimit::LoginLimiter::new(config.login_limit));
        AppState {
            store,
            repo,
            config: Arc::new(config),
            hash_cache: None,
            shutdown: Arc::new(shutdown),
            login_limiter,
        }
    }

    /// Hash repository files through the cache kept in `file` (the workers' cache), so
    /// comparing a job's inputs does not re-read unchanged large files.
    pub fn with_hash_cache(mut self, file: impl Into<PathBuf>) -> Self {
        self.hash_cache = Some(file.into());
        self
    }

    /// A receiver that turns true when `serve` begins its graceful shutdown.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    routes::router(&state.config).with_state(state)
}

/// Serve the API on `listener`, and deliver webhooks, until `shutdown` completes; then
/// stop accepting connections, end open job streams and the webhook dispatcher, and wait
/// for in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let flag = state.shutdown.clone();
    let stop = state.shutdown.clone();
    let dispatcher = webhooks::spawn(&state)?;
    let app = router(state);
    // the peer address is what login throttling counts per client (never a header)
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            flag.send_replace(true);
        })
        .await;
    // also when serving failed: the dispatcher ends on this flag
    stop.send_replace(true);
    let _ = dispatcher.await;
    served
}
