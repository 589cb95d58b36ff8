//! Acting on one job: `GET /api/job/manifest`, `POST /api/job/cancel` and
//! `DELETE /api/job`. Each takes `?job_id=`; see the handlers for the default.

mod output_folder;

use std::io::Read;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;
use wait_catalog::Repository;
use wait_store::{CancelOutcome, Job, LogLevel, Role};

use super::jobs::parse_job_id;
use super::params;
use crate::AppState;
use crate::auth::{RequireBuilder, RequireViewer};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::views::{JobView, redact};

/// Largest manifest served; the pipeline writes a few tens of kilobytes.
const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/job/manifest", get(manifest))
        .route("/api/job/cancel", post(cancel))
        .route("/api/job", delete(remove))
}

async fn find(state: &AppState, id: Uuid) -> Result<Job, ApiError> {
    state
        .store
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))
}

#[derive(Debug, Deserialize)]
struct ManifestQuery {
    job_id: Option<String>,
    /// "json" (default) or "text".
    format: Option<String>,
}

/// `GET /api/job/manifest`: `8_Output/<output_dir>/manifest.json` (or `manifest.txt`
/// with `format=text`, as text/plain) of the given job, by default of the running job,
/// else the most recent one (like `GET /api/job`). 404 `no_output` while the job has
/// none.
async fn manifest(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ManifestQuery>,
) -> Result<Response, ApiError> {
    let (file, content_type) = match params::present(q.format.as_deref()) {
        None | Some("json") => ("manifest.json", "application/json"),
        Some("text") => ("manifest.txt", "text/plain; charset=utf-8"),
        Some(_) => return Err(params::invalid("format", "format must be json or text")),
    };
    let job = match params::present(q.job_id.as_deref()) {
        Some(raw) => find(&state, parse_job_id(raw)?).await?,
        None => state
            .store
            .current_or_latest_job()
            .await?
            .ok_or_else(|| ApiError::not_found("no jobs yet"))?,
    };
    let no_output = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_output",
            format!("job {} has no {file} (no output yet)", job.job_id),
        )
    };
    let Some(output_dir) = job.output_dir.clone() else {
        return Err(no_output());
    };
    let repo = state.repo.clone();
    let text = tokio::task::spawn_blocking(move || read_manifest(&repo, &output_dir, file))
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(no_output)?;
    // The pipeline masks the key already; this keeps an older or edited manifest from
    // showing it.
    let text = redact(&text, job.request.product_key.as_deref());
    Ok(([(CONTENT_TYPE, content_type)], text).into_response())
}

/// The manifest file's text; None when the folder or the file is missing. A manifest
/// that is a symlink is refused like a bad folder.
fn read_manifest(
    repo: &Repository,
    output_dir: &str,
    file: &str,
) -> Result<Option<String>, ApiError> {
    let Some(folder) = output_folder::resolve(repo, output_dir)? else {
        return Ok(None);
    };
    let path = folder.join(file);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ApiError::internal(e)),
    };
    if !meta.is_file() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_output_dir",
            format!("8_Output/{output_dir}/{file} is not a regular file"),
        ));
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(ApiError::internal(format!(
            "8_Output/{output_dir}/{file} is larger than {MAX_MANIFEST_BYTES} bytes"
        )));
    }
    let mut text = String::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_MANIFEST_BYTES).read_to_string(&mut text))
        .map_err(|e| ApiError::internal(format!("8_Output/{output_dir}/{file}: {e}")))?;
    Ok(Some(text))
}

#[derive(Debug, Deserialize)]
struct CancelQuery {
    job_id: Option<String>,
}

/// `POST /api/job/cancel` (builder): cancel the given job, by default the running one.
/// 200 when a queued job was cancelled at once, 202 when a running job was asked to
/// stop (its worker stops at the next safe point and the job ends `Cancelled`), 409 when
/// it already finished. The answer is the job as it is now.
async fn cancel(
    State(state): State<AppState>,
    auth: RequireBuilder,
    ApiQuery(q): ApiQuery<CancelQuery>,
) -> Result<Response, ApiError> {
    let id = match params::present(q.job_id.as_deref()) {
        Some(raw) => parse_job_id(raw)?,
        None => state
            .store
            .current_or_latest_job()
            .await?
            .filter(|job| job.status.is_running())
            .map(|job| job.job_id)
            .ok_or_else(|| ApiError::not_found("no job is running; name one with job_id"))?,
    };
    let outcome = state.store.request_cancel(id).await?;
    let (status, note) = match outcome {
        CancelOutcome::Cancelled => (StatusCode::OK, "cancelled"),
        CancelOutcome::Requested => (StatusCode::ACCEPTED, "cancellation requested"),
    };
    let user = &auth.user.username;
    // The cancel itself happened: a lost note must not turn it into an error.
    if let Err(e) = state
        .store
        .append_log(id, LogLevel::Normal, None, &format!("{note} by {user}"))
        .await
    {
        tracing::warn!(job_id = %id, error = %e, "cancel note not logged");
    }
    tracing::info!(job_id = %id, user = %user, outcome = note, "job cancel");
    let job = find(&state, id).await?;
    Ok((status, Json(JobView::new(job, None))).into_response())
}

#[derive(Debug, Deserialize)]
struct DeleteQuery {
    job_id: Option<String>,
    purge_output: Option<String>,
}

/// `DELETE /api/job?job_id=` (builder): delete a finished job's record and log; 409 while
/// it is queued or running. `job_id` is required: a default would make a bare DELETE
/// remove whichever job happens to be the latest.
///
/// `purge_output=true` also deletes its output folder (resolved strictly inside
/// `8_Output/`) and needs the admin role: the folder holds the delivered image, which
/// other people may still be downloading, while the record is only history. The folder
/// goes first, so a failure to delete it leaves the record to try again with.
async fn remove(
    State(state): State<AppState>,
    auth: RequireBuilder,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let purge = params::flag("purge_output", q.purge_output.as_deref())?;
    if purge {
        auth.require(Role::Admin)?;
    }
    let id = parse_job_id(params::required("job_id", q.job_id.as_deref())?)?;
    let job = find(&state, id).await?;
    if !job.status.is_final() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "job_not_finished",
            format!(
                "job {id} is {}; cancel it and let it stop before deleting it",
                job.status
            ),
        ));
    }
    let mut purged = None;
    if let (true, Some(output_dir)) = (purge, job.output_dir.clone()) {
        let repo = state.repo.clone();
        let removed = tokio::task::spawn_blocking(move || purge_folder(&repo, &output_dir))
            .await
            .map_err(ApiError::internal)??;
        purged = Some(removed);
    }
    state.store.delete_job(id).await?;
    tracing::info!(
        job_id = %id,
        user = %auth.user.username,
        output_dir = job.output_dir.as_deref().unwrap_or(""),
        output_removed = purged.unwrap_or(false),
        "job deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Delete the output folder; false when it was already gone.
fn purge_folder(repo: &Repository, output_dir: &str) -> Result<bool, ApiError> {
    let Some(folder) = output_folder::resolve(repo, output_dir)? else {
        return Ok(false);
    };
    match std::fs::remove_dir_all(&folder) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ApiError::internal(format!(
            "cannot delete 8_Output/{output_dir}: {e}"
        ))),
    }
}
