//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.
//!
//! Failed logins are throttled per client address and per user name (see `ratelimit`);
//! a throttled attempt is answered 429 with `Retry-After` without checking the password.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use wait_store::User;

use crate::AppState;
use crate::auth::{Credential, RequireViewer, clear_cookie_header, session_cookie_header};
use crate::csrf;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientIp};

/// Longest user name or password looked up at all; longer ones fail like a wrong password.
const MAX_CREDENTIAL_LEN: usize = 1024;
const BAD_CREDENTIALS: &str = "invalid username or password";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginBody {
    username: String,
    password: String,
}

/// The public face of a user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    #[schema(value_type = crate::openapi::mirrors::Role)]
    pub role: wait_store::Role,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            role: u.role,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserEnvelope {
    user: UserView,
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        BAD_CREDENTIALS,
    )
}

/// 429 with `Retry-After` in whole seconds (rounded up, at least 1).
fn throttled(retry_after: Duration) -> Response {
    let secs = retry_after
        .as_secs()
        .saturating_add(u64::from(retry_after.subsec_nanos() > 0))
        .max(1);
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed logins; try again in {secs} seconds"),
    );
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs));
    response
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    csrf::check_login(&uri, &headers, &state.config.allowed_origins)?;
    // over-long names cannot exist; they share one counter instead of each making one
    let name_key = if body.username.len() > MAX_CREDENTIAL_LEN {
        ""
    } else {
        body.username.as_str()
    };
    let limiter = &state.login_limiter;
    if let Err(retry_after) = limiter.check(ip, name_key, Instant::now()) {
        tracing::warn!(username = %name_key, client = ?ip, "login throttled");
        return Ok(throttled(retry_after));
    }
    let user =
        if body.username.len() > MAX_CREDENTIAL_LEN || body.password.len() > MAX_CREDENTIAL_LEN {
            None
        } else {
            state
                .store
                .verify_login(&body.username, &body.password)
                .await?
        };
    let Some(user) = user else {
        limiter.record_failure(ip, name_key, Instant::now());
        tracing::info!(username = %name_key, client = ?ip, "login refused");
        return Err(bad_credentials());
    };
    limiter.record_success(&user.username);
    let ttl = state.config.session_ttl;
    let token = state.store.create_session(user.id, ttl).await?;
    let cookie = session_cookie_header(&token, ttl.as_secs(), state.config.secure_cookies);
    tracing::info!(username = %user.username, "login");
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        cookie
            .parse()
            .map_err(|e| ApiError::internal(format!("bad cookie header: {e}")))?,
    );
    Ok((headers, Json(UserEnvelope { user: user.into() })).into_response())
}

async fn logout(
    State(state): State<AppState>,
    RequireViewer(auth): RequireViewer,
) -> Result<Response, ApiError> {
    // an API token is not a session: logging out with one leaves it valid
    if auth.credential != Credential::ApiToken {
        state.store.delete_session(&auth.token).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        clear_cookie_header(state.config.secure_cookies)
            .parse()
            .map_err(|e| ApiError::internal(format!("bad cookie header: {e}")))?,
    );
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

async fn me(RequireViewer(auth): RequireViewer) -> Json<UserEnvelope> {
    Json(UserEnvelope {
        user: auth.user.into(),
    })
}
