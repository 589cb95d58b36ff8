//! One module per resource, merged here with the layers every route shares.

pub mod auth;
pub mod jobs;
pub mod system;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::{AppState, ServerConfig};

pub(crate) fn router(config: &ServerConfig) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(jobs::router())
        .merge(system::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(TraceLayer::new_for_http())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
}
