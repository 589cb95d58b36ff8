//! `GET /api/health`: liveness of the API and its database, and live worker count.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/health", get(health))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    status: &'static str,
    database: &'static str,
    workers: i64,
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let checked = async {
        state.store.ping().await?;
        state.store.live_workers(state.config.worker_window).await
    }
    .await;
    match checked {
        Ok(workers) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "ok",
                workers,
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "error",
                    database: "error",
                    workers: 0,
                }),
            )
        }
    }
}
