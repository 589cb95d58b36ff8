//! One module per resource, merged here with the layers every route shares.

pub mod admin;
pub mod auth;
pub mod clone;
pub mod customers;
pub mod history;
pub mod job_actions;
pub mod jobs;
pub mod outputs;
mod params;
pub mod resources;
pub mod slack;
pub mod system;
pub mod table;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::{AppState, ServerConfig};

pub(crate) fn router(config: &ServerConfig) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(admin::router())
        .merge(jobs::router())
        .merge(history::router())
        .merge(job_actions::router())
        .merge(resources::router())
        .merge(outputs::router())
        .merge(clone::router())
        .merge(system::router())
        .merge(webhooks::router())
        .merge(customers::router())
        .merge(slack::router())
        .route("/metrics", axum::routing::get(crate::metrics::serve))
        .route(
            "/api/openapi.json",
            axum::routing::get(crate::openapi::serve),
        )
        // JSON 404 under /api/, the embedded web UI everywhere else
        .fallback(crate::ui::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(crate::metrics::layer())
        .layer(TraceLayer::new_for_http())
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
}
