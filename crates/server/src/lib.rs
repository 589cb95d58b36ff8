//! The WAIT HTTP API (axum): authentication, jobs, the live job stream and health.
//!
//! The server never builds images: it validates requests against the catalog, writes
//! them to the store, and reads the store back for the API. Workers (in this process or
//! others) find their work in the store.

pub mod auth;
pub mod error;
pub mod extract;
pub mod job_request;
pub mod routes;
mod sse;
pub mod views;

use std::future::Future;
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
#[derive(Debug, Clone)]
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
        }
    }
}

/// Shared state of every handler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub repo: Repository,
    pub config: Arc<ServerConfig>,
    /// Flips to true when the server shuts down, so long-lived streams end.
    shutdown: Arc<watch::Sender<bool>>,
}

impl AppState {
    pub fn new(store: Store, repo: Repository) -> Self {
        Self::with_config(store, repo, ServerConfig::default())
    }

    pub fn with_config(store: Store, repo: Repository, config: ServerConfig) -> Self {
        let (shutdown, _) = watch::channel(false);
        AppState {
            store,
            repo,
            config: Arc::new(config),
            shutdown: Arc::new(shutdown),
        }
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

/// Serve the API on `listener` until `shutdown` completes, then stop accepting
/// connections, end open job streams and wait for in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let flag = state.shutdown.clone();
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            flag.send_replace(true);
        })
        .await
}
