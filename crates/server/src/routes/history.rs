//! Job history: `GET /api/jobs` (filters and pages), `GET /api/jobs/search?q=`,
//! `GET /api/jobs/{id}` and `GET /api/jobs/{id}/logs`. Any signed-in user may read them.

use std::collections::HashMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;
use wait_store::{
    DEFAULT_LIST_LIMIT, Job, JobFilter, JobSearch, JobStatus, LogLevel, MAX_LIST_LIMIT,
    MAX_LOG_PAGE,
};

use super::jobs::parse_job_id;
use super::params;
use crate::AppState;
use crate::auth::RequireViewer;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::views::{JobPage, JobView, LogPage, LogView};

/// Log lines per page when the request does not say.
const DEFAULT_LOG_LIMIT: i64 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/jobs", get(list))
        .route("/api/jobs/search", get(search))
        .route("/api/jobs/{id}", get(one))
        .route("/api/jobs/{id}/logs", get(logs))
}

/// The filters of both listings. `q` is optional for `GET /api/jobs` and required for
/// `GET /api/jobs/search`.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    customer_name: Option<String>,
    motherboard_model: Option<String>,
    created_by: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    q: Option<String>,
}

impl ListQuery {
    /// The store search this query asks for.
    fn parse(&self) -> Result<JobSearch, ApiError> {
        let status = params::present(self.status.as_deref())
            .map(|s| {
                JobStatus::parse(s).ok_or_else(|| {
                    let known: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
                    params::invalid(
                        "status",
                        format!("status must be one of: {}", known.join(", ")),
                    )
                })
            })
            .transpose()?;
        let since = params::instant("since", self.since.as_deref())?;
        let until = params::instant("until", self.until.as_deref())?;
        if let (Some(since), Some(until)) = (since, until) {
            if since > until {
                return Err(params::invalid("until", "until is earlier than since"));
            }
        }
        let filter = JobFilter {
            status,
            customer_name: params::text("customer_name", self.customer_name.as_deref())?,
            motherboard_model: params::text(
                "motherboard_model",
                self.motherboard_model.as_deref(),
            )?,
            created_by: params::text("created_by", self.created_by.as_deref())?,
            limit: Some(params::int_in(
                "limit",
                self.limit.as_deref(),
                1..=MAX_LIST_LIMIT,
                DEFAULT_LIST_LIMIT,
            )?),
            offset: Some(params::int_in(
                "offset",
                self.offset.as_deref(),
                0..=i64::MAX,
                0,
            )?),
        };
        Ok(JobSearch {
            filter,
            since,
            until,
            text: params::text("q", self.q.as_deref())?,
        })
    }
}

async fn list(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let search = q.parse()?;
    page(&state, &search).await
}

async fn search(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<JobPage>, ApiError> {
    params::required("q", q.q.as_deref())?;
    page(&state, &q.parse()?).await
}

async fn page(state: &AppState, search: &JobSearch) -> Result<Json<JobPage>, ApiError> {
    let (jobs, total) = state.store.search_jobs(search).await?;
    let positions = queue_positions(state, &jobs).await?;
    let jobs = jobs
        .into_iter()
        .map(|job| {
            let position = positions.get(&job.job_id).copied();
            JobView::new(job, position)
        })
        .collect();
    Ok(Json(JobPage {
        jobs,
        total,
        limit: search.filter.limit.unwrap_or(DEFAULT_LIST_LIMIT),
        offset: search.filter.offset.unwrap_or(0),
    }))
}

/// Places in the queue of the queued jobs among `jobs`, from one read of the queue.
async fn queue_positions(state: &AppState, jobs: &[Job]) -> Result<HashMap<Uuid, u32>, ApiError> {
    if !jobs.iter().any(|j| j.status == JobStatus::Queued) {
        return Ok(HashMap::new());
    }
    let queued = state.store.queue().await?;
    Ok(queued
        .into_iter()
        .filter(|j| j.status == JobStatus::Queued)
        .zip(1u32..)
        .map(|(j, position)| (j.job_id, position))
        .collect())
}

/// The `{id}` of the path: 400 naming `job_id` unless it is a UUID.
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    let Path(raw) = id.map_err(|_| {
        ApiError::bad_request("invalid_job_id", "job id must be a UUID").with_field("job_id")
    })?;
    parse_job_id(&raw)
}

async fn find(state: &AppState, id: Uuid) -> Result<Job, ApiError> {
    state
        .store
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))
}

async fn one(
    State(state): State<AppState>,
    _auth: RequireViewer,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<JobView>, ApiError> {
    let job = find(&state, path_id(id)?).await?;
    let position = if job.status == JobStatus::Queued {
        state.store.queue_position(job.job_id).await?
    } else {
        None
    };
    Ok(Json(JobView::new(job, position)))
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    /// "normal" or "verbose"; default: the job's own log level.
    level: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

async fn logs(
    State(state): State<AppState>,
    _auth: RequireViewer,
    id: Result<Path<String>, PathRejection>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let id = path_id(id)?;
    let level = params::present(q.level.as_deref())
        .map(|l| {
            LogLevel::parse(l)
                .ok_or_else(|| params::invalid("level", "level must be normal or verbose"))
        })
        .transpose()?;
    let after = params::int_in("after", q.after.as_deref(), 0..=i64::MAX, 0)?;
    let limit = params::int_in(
        "limit",
        q.limit.as_deref(),
        1..=MAX_LOG_PAGE,
        DEFAULT_LOG_LIMIT,
    )?;
    let job = find(&state, id).await?;
    let verbose = level.unwrap_or(job.request.log_level) == LogLevel::Verbose;
    let lines = state.store.logs_after(id, after, verbose, limit).await?;
    let next_after = lines.last().map_or(after, |l| l.seq);
    let key = job.request.product_key.as_deref();
    Ok(Json(LogPage {
        job_id: id,
        status: job.status,
        lines: lines
            .into_iter()
            .map(|line| LogView::new(line, key))
            .collect(),
        next_after,
    }))
}
