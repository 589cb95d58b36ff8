//! Jobs: create, read the current or a given job, the queue, and the live stream.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use wait_store::JobStatus;

use crate::auth::{RequireBuilder, RequireViewer};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::views::JobView;
use crate::{AppState, job_request, sse};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/job", get(get_job).post(create_job))
        .route("/api/queue", get(queue))
        .route("/api/job/stream", get(stream))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = JobCreated)]
pub(crate) struct Created {
    #[schema(value_type = String, format = "uuid")]
    job_id: Uuid,
    #[schema(value_type = crate::openapi::mirrors::JobStatus)]
    status: JobStatus,
    queue_position: Option<u32>,
}

async fn create_job(
    State(state): State<AppState>,
    RequireBuilder(auth): RequireBuilder,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let parsed = job_request::parse(&body)?;
    let repo = state.repo.clone();
    let request = tokio::task::spawn_blocking(move || job_request::resolve_cached(&repo, parsed))
        .await
        .map_err(ApiError::internal)??;
    let job = state
        .store
        .create_job(&request, Some(&auth.user.username))
        .await?;
    let queue_position = state.store.queue_position(job.job_id).await?;
    tracing::info!(
        job_id = %job.job_id,
        user = %auth.user.username,
        board = %request.motherboard_model,
        base_image = %request.base_image,
        "job queued"
    );
    let body = Created {
        job_id: job.job_id,
        status: job.status,
        queue_position,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct JobQuery {
    job_id: Option<String>,
}

pub(crate) fn parse_job_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        ApiError::bad_request("invalid_job_id", "job_id must be a UUID").with_field("job_id")
    })
}

async fn get_job(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> Result<Json<JobView>, ApiError> {
    let job = match q.job_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => {
            let id = parse_job_id(raw)?;
            state
                .store
                .get_job(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))?
        }
        None => state
            .store
            .current_or_latest_job()
            .await?
            .ok_or_else(|| ApiError::not_found("no jobs yet"))?,
    };
    let position = if job.status == JobStatus::Queued {
        state.store.queue_position(job.job_id).await?
    } else {
        None
    };
    Ok(Json(JobView::new(job, position)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct QueueView {
    jobs: Vec<JobView>,
}

async fn queue(
    State(state): State<AppState>,
    _auth: RequireViewer,
) -> Result<Json<QueueView>, ApiError> {
    let jobs = state.store.queue().await?;
    let mut position = 0u32;
    let jobs = jobs
        .into_iter()
        .map(|job| {
            let pos = if job.status == JobStatus::Queued {
                position += 1;
                Some(position)
            } else {
                None
            };
            JobView::new(job, pos)
        })
        .collect();
    Ok(Json(QueueView { jobs }))
}

#[derive(Debug, Deserialize)]
struct StreamQuery {
    job_id: Option<String>,
    /// "normal" or "verbose"; default: the job's own log level.
    level: Option<String>,
    /// Resume after this log seq (for clients that cannot send Last-Event-ID).
    after: Option<i64>,
}

async fn stream(
    State(state): State<AppState>,
    _auth: RequireViewer,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> Result<Response, ApiError> {
    let job = match q.job_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => {
            let id = parse_job_id(raw)?;
            state
                .store
                .get_job(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))?
        }
        None => state
            .store
            .current_or_latest_job()
            .await?
            .ok_or_else(|| ApiError::not_found("no jobs yet"))?,
    };
    let verbose = match q.level.as_deref() {
        None => job.request.log_level == wait_store::LogLevel::Verbose,
        Some("verbose") => true,
        Some("normal") => false,
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_query", "level must be normal or verbose")
                    .with_field("level"),
            );
        }
    };
    let after = match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_last_event_id",
                    "Last-Event-ID must be a log sequence number",
                )
            })?,
        None => q.after.unwrap_or(0).max(0),
    };
    Ok(sse::job_stream(state, job, after, verbose).into_response())
}
