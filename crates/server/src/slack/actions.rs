//! What each verb does once the request is known to come from Slack.
//!
//! `status` and `queue` are open to every verified caller. `build` runs as a WAIT user:
//! the one named like the Slack user when it is an enabled builder or admin, else the
//! configured default user under the same conditions; a caller with neither is refused.

use serde_json::Value;
use uuid::Uuid;
use wait_store::{Job, JobFilter, JobSearch, JobStatus, MAX_LIST_LIMIT, Role, Store};

use super::command::{self, ArgError};
use super::form::SlashCommand;
use super::reply::{self, SlackReply};
use crate::error::ApiError;
use crate::views::JobView;
use crate::{AppState, job_request};

/// Shortest job id prefix `status` accepts; shorter ones match too many jobs to be useful.
pub const MIN_PREFIX_LEN: usize = 8;

pub async fn build(
    state: &AppState,
    cmd: &SlashCommand,
    args: &str,
) -> Result<SlackReply, ApiError> {
    let Some(user) = build_user(state, &cmd.user_name).await? else {
        return Ok(SlackReply::ephemeral(not_mapped(state, &cmd.user_name)));
    };
    let body = match command::build_body(args) {
        Ok(body) => body,
        Err(e @ ArgError::Empty) => {
            return Ok(SlackReply::ephemeral(format!(
                "{}\n{}",
                reply::escape(&e.to_string()),
                reply::usage(&cmd.command)
            )));
        }
        Err(e) => {
            return Ok(SlackReply::ephemeral(reply::not_queued(
                None,
                &e.to_string(),
            )));
        }
    };
    let parsed = match job_request::parse(&Value::Object(body)) {
        Ok(parsed) => parsed,
        Err(e) => return refused(e),
    };
    let repo = state.repo.clone();
    let resolved = tokio::task::spawn_blocking(move || job_request::resolve(&repo, parsed))
        .await
        .map_err(ApiError::internal)?;
    let request = match resolved {
        Ok(request) => request,
        Err(e) => return refused(e),
    };
    let job = match state.store.create_job(&request, Some(&user)).await {
        Ok(job) => job,
        Err(e) => return refused(e.into()),
    };
    let position = state.store.queue_position(job.job_id).await?;
    tracing::info!(
        job_id = %job.job_id,
        user = %user,
        slack_user = %cmd.user_name,
        board = %request.motherboard_model,
        base_image = %request.base_image,
        "job queued from Slack"
    );
    Ok(SlackReply::in_channel(reply::queued(
        job.job_id,
        position,
        &request,
        &requester(cmd),
        &user,
    )))
}

/// A refusal the caller can act on becomes a reply; a failure of ours stays an error.
fn refused(e: ApiError) -> Result<SlackReply, ApiError> {
    if e.status().is_client_error() {
        Ok(SlackReply::ephemeral(reply::not_queued(
            e.field(),
            e.message(),
        )))
    } else {
        Err(e)
    }
}

/// A mention of the caller when Slack's user id looks like one, else the name as text.
fn requester(cmd: &SlashCommand) -> String {
    let id = cmd.user_id.as_str();
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        format!("<@{id}>")
    } else {
        reply::escape(&cmd.user_name)
    }
}

/// The WAIT user name a build by `slack_name` is queued as, if any.
async fn build_user(state: &AppState, slack_name: &str) -> Result<Option<String>, ApiError> {
    if usable_builder(&state.store, slack_name).await? {
        return Ok(Some(slack_name.to_string()));
    }
    let Some(default) = state.config.slack_default_user.as_deref() else {
        return Ok(None);
    };
    if usable_builder(&state.store, default).await? {
        Ok(Some(default.to_string()))
    } else {
        // the administrator's mistake, not the caller's: say so in the log
        tracing::warn!(
            user = %default,
            "the Slack default user does not exist, is disabled, or is not a builder or admin"
        );
        Ok(None)
    }
}

/// Whether `name` is an enabled WAIT user with role builder or admin.
async fn usable_builder(store: &Store, name: &str) -> Result<bool, ApiError> {
    if name.is_empty() {
        return Ok(false);
    }
    let Some(user) = store.get_user(name).await? else {
        return Ok(false);
    };
    if !matches!(user.role, Role::Builder | Role::Admin) {
        return Ok(false);
    }
    let account = store.get_account(user.id).await?;
    Ok(account.is_some_and(|a| !a.disabled))
}

fn not_mapped(state: &AppState, slack_name: &str) -> String {
    match state.config.slack_default_user {
        Some(_) => format!(
            "Not queued: `{}` is not a WAIT builder or admin, and the default Slack user cannot \
             build either; ask a WAIT administrator.",
            reply::escape(slack_name)
        ),
        None => format!(
            "Not queued: `{}` is not a WAIT builder or admin; ask a WAIT administrator for an \
             account of that name.",
            reply::escape(slack_name)
        ),
    }
}

pub async fn status(state: &AppState, job: Option<&str>) -> Result<SlackReply, ApiError> {
    let found = match job {
        Some(raw) => match find_job(&state.store, raw).await? {
            Ok(job) => job,
            Err(message) => return Ok(SlackReply::ephemeral(message)),
        },
        None => match state.store.current_or_latest_job().await? {
            Some(job) => job,
            None => return Ok(SlackReply::ephemeral("No jobs yet.")),
        },
    };
    let position = if found.status == JobStatus::Queued {
        state.store.queue_position(found.job_id).await?
    } else {
        None
    };
    Ok(SlackReply::ephemeral(reply::job_status(&JobView::new(
        found, position,
    ))))
}

/// The job `raw` names (a whole id or a unique prefix), or what to tell the caller.
async fn find_job(store: &Store, raw: &str) -> Result<Result<Job, String>, ApiError> {
    let raw = raw.trim();
    let shown = reply::escape(raw);
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(store
            .get_job(id)
            .await?
            .ok_or_else(|| format!("No job `{id}`.")));
    }
    if !raw.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Ok(Err(format!("`{shown}` is not a job id.")));
    }
    if raw.len() < MIN_PREFIX_LEN {
        return Ok(Err(format!(
            "Give the job id or at least its first {MIN_PREFIX_LEN} characters."
        )));
    }
    let prefix = raw.to_ascii_lowercase();
    let mut matches = jobs_with_prefix(store, &prefix).await?;
    match matches.len() {
        0 => Ok(Err(format!("No job id starts with `{shown}`."))),
        1 => Ok(matches.pop().ok_or_else(|| "No job.".to_string())),
        _ => Ok(Err(format!(
            "More than one job id starts with `{shown}`; give more characters."
        ))),
    }
}

/// Up to two jobs whose id starts with `prefix` (two already make it ambiguous). The
/// search also matches the text inside other columns, so its hits are filtered, page by
/// page.
async fn jobs_with_prefix(store: &Store, prefix: &str) -> Result<Vec<Job>, ApiError> {
    let mut found = Vec::new();
    let mut offset = 0i64;
    loop {
        let search = JobSearch {
            filter: JobFilter {
                limit: Some(MAX_LIST_LIMIT),
                offset: Some(offset),
                ..JobFilter::default()
            },
            text: Some(prefix.to_string()),
            ..JobSearch::default()
        };
        let (page, total) = store.search_jobs(&search).await?;
        let fetched = i64::try_from(page.len()).unwrap_or(i64::MAX);
        found.extend(
            page.into_iter()
                .filter(|job| job.job_id.to_string().starts_with(prefix)),
        );
        offset = offset.saturating_add(fetched);
        if found.len() >= 2 || fetched == 0 || offset >= total {
            found.truncate(2);
            return Ok(found);
        }
    }
}

pub async fn queue(state: &AppState) -> Result<SlackReply, ApiError> {
    let jobs = state.store.queue().await?;
    let mut position = 0u32;
    let views: Vec<JobView> = jobs
        .into_iter()
        .map(|job| {
            let pos = (job.status == JobStatus::Queued).then(|| {
                position += 1;
                position
            });
            JobView::new(job, pos)
        })
        .collect();
    Ok(SlackReply::ephemeral(reply::queue(&views)))
}
