//! `POST /api/jobs/{id}/clone`: queue a job's request again, optionally with some fields
//! overridden, and say whether the inputs it recorded are still the files on disk.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;
use wait_store::LogLevel;

use super::jobs::parse_job_id;
use crate::auth::RequireBuilder;
use crate::clone::{InputChange, InputComparison, compare_inputs};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::{AppState, job_request};

/// How many changed paths a strict refusal names before it only counts the rest.
const NAMED_IN_REFUSAL: usize = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/jobs/{id}/clone", post(clone_job))
}

#[derive(Debug, Deserialize)]
struct CloneQuery {
    /// Refuse (409) instead of cloning when an input changed.
    strict: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Cloned {
    #[schema(value_type = String, format = "uuid")]
    job_id: Uuid,
    inputs: &'static str,
    changed: Vec<InputChange>,
}

async fn clone_job(
    State(state): State<AppState>,
    RequireBuilder(auth): RequireBuilder,
    id: Result<Path<String>, PathRejection>,
    ApiQuery(q): ApiQuery<CloneQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path(raw_id) = id.map_err(|_| {
        ApiError::bad_request("invalid_job_id", "job id must be a UUID").with_field("job_id")
    })?;
    let source_id = parse_job_id(&raw_id)?;
    let overrides = overrides(&headers, body)?;

    let source = state
        .store
        .get_job(source_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("job {source_id} not found")))?;
    if source.resources.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_recorded_inputs",
            format!(
                "job {source_id} has no recorded inputs (it never got past resolving them), \
                 so there is nothing to compare; create a new job instead"
            ),
        ));
    }

    // The original request as JSON with the overrides on top, through the same parser
    // as POST /api/job, so a clone obeys exactly the rules of a new job.
    let mut merged = serde_json::to_value(&source.request).map_err(ApiError::internal)?;
    if let Some(fields) = merged.as_object_mut() {
        fields.extend(overrides);
    }
    let parsed = job_request::parse(&merged)?;

    let repo = state.repo.clone();
    let cache = state.hash_cache.clone();
    let resources = source.resources;
    let (request, comparison) = tokio::task::spawn_blocking(move || {
        let request = job_request::resolve(&repo, parsed)?;
        let comparison = compare_inputs(&repo, &resources, cache.as_deref());
        Ok::<_, ApiError>((request, comparison))
    })
    .await
    .map_err(ApiError::internal)??;

    if q.strict == Some(true) && !comparison.is_unchanged() {
        return Err(strict_refusal(source_id, &comparison));
    }

    let job = state
        .store
        .create_job(&request, Some(&auth.user.username))
        .await?;
    let note = match comparison.changed.len() {
        0 => format!("cloned from {source_id}: inputs unchanged"),
        n => format!("cloned from {source_id}: inputs changed ({n})"),
    };
    // The job is already queued: a lost note must not turn into an error that
    // invites the caller to clone again.
    if let Err(e) = state
        .store
        .append_log(job.job_id, LogLevel::Normal, None, &note)
        .await
    {
        tracing::warn!(job_id = %job.job_id, error = %e, "clone note not logged");
    }
    tracing::info!(
        job_id = %job.job_id,
        cloned_from = %source_id,
        user = %auth.user.username,
        changed = comparison.changed.len(),
        "job cloned"
    );
    let body = Cloned {
        job_id: job.job_id,
        inputs: comparison.verdict(),
        changed: comparison.changed,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The optional body: nothing, or a JSON object of request fields to override.
fn overrides(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large()
        } else {
            ApiError::bad_request("invalid_body", "the request body cannot be read")
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    // Same rule as every JSON endpoint: a body must say it is JSON.
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    if !is_json {
        return Err(ApiError::bad_request(
            "unsupported_content_type",
            "expected a JSON body with Content-Type: application/json",
        ));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(ApiError::bad_request(
            "invalid_body",
            "the request body must be a JSON object of fields to override",
        )),
        Err(e) => Err(ApiError::bad_request(
            "malformed_json",
            format!("malformed JSON: {e}"),
        )),
    }
}

fn strict_refusal(source_id: Uuid, comparison: &InputComparison) -> ApiError {
    let named: Vec<&str> = comparison
        .changed
        .iter()
        .take(NAMED_IN_REFUSAL)
        .map(|c| c.path.as_str())
        .collect();
    let more = comparison.changed.len().saturating_sub(NAMED_IN_REFUSAL);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    ApiError::new(
        StatusCode::CONFLICT,
        "inputs_changed",
        format!(
            "strict clone refused: inputs of job {source_id} changed since it ran: {}{more}",
            named.join(", ")
        ),
    )
}
