//! `POST /api/integrations/slack/command`: the Slack slash command.
//!
//! Public: the Slack signature over the raw body is its authentication, so no session or
//! token is asked for. Without a configured signing secret the endpoint does not exist
//! (404, the same answer as any unknown path).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use time::OffsetDateTime;

use crate::AppState;
use crate::error::ApiError;
use crate::slack::actions;
use crate::slack::command::{self, Command};
use crate::slack::form::SlashCommand;
use crate::slack::reply::{self, SlackReply};
use crate::slack::verify::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER, VerifyError};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/integrations/slack/command", post(slash_command))
}

async fn slash_command(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(secret) = state
        .config
        .slack_signing_secret
        .as_deref()
        .filter(|s| !s.is_empty())
    else {
        return Err(ApiError::not_found("no such endpoint"));
    };
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large()
        } else {
            ApiError::bad_request("invalid_body", "the request body cannot be read")
        }
    })?;

    // The signature covers the bytes as sent, so it is checked before anything is read.
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = OffsetDateTime::now_utc().unix_timestamp();
    verify::verify(
        secret.as_bytes(),
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
        now,
    )
    .map_err(refusal)?;

    if !is_form(&headers) {
        return Err(ApiError::bad_request(
            "unsupported_content_type",
            "expected a form body with Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let cmd = SlashCommand::from_form(&body)
        .map_err(|e| ApiError::bad_request("invalid_form", e.to_string()))?;

    let parsed = command::parse(&cmd.text);
    tracing::info!(
        slack_user = %cmd.user_name,
        team = cmd.team_id.as_deref().unwrap_or(""),
        verb = verb(&parsed),
        "Slack command"
    );
    let answer = match parsed {
        Command::Build(args) => actions::build(&state, &cmd, &args).await?,
        Command::Status(job) => actions::status(&state, job.as_deref()).await?,
        Command::Queue => actions::queue(&state).await?,
        Command::Help => SlackReply::ephemeral(reply::usage(&cmd.command)),
    };
    Ok(answer.into_response())
}

fn refusal(e: VerifyError) -> ApiError {
    tracing::warn!(reason = %e, "Slack command refused");
    let code = match e {
        VerifyError::Stale { .. } | VerifyError::Future { .. } => "stale_timestamp",
        VerifyError::MissingTimestamp | VerifyError::BadTimestamp => "invalid_timestamp",
        VerifyError::MissingSignature | VerifyError::Mismatch => "invalid_signature",
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, e.to_string())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn verb(command: &Command) -> &'static str {
    match command {
        Command::Build(_) => "build",
        Command::Status(_) => "status",
        Command::Queue => "queue",
        Command::Help => "help",
    }
}
