//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use wait_store::User;

use crate::AppState;
use crate::auth::{AuthUser, clear_cookie_header, session_cookie_header};
use crate::error::ApiError;
use crate::extract::ApiJson;

/// Longest user name or password looked up at all; longer ones fail like a wrong password.
const MAX_CREDENTIAL_LEN: usize = 1024;
const BAD_CREDENTIALS: &str = "invalid username or password";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

/// The public face of a user.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
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

#[derive(Debug, Serialize)]
struct UserEnvelope {
    user: UserView,
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        BAD_CREDENTIALS,
    )
}

async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    if body.username.len() > MAX_CREDENTIAL_LEN || body.password.len() > MAX_CREDENTIAL_LEN {
        return Err(bad_credentials());
    }
    let Some(user) = state
        .store
        .verify_login(&body.username, &body.password)
        .await?
    else {
        tracing::info!(username = %body.username, "login refused");
        return Err(bad_credentials());
    };
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

async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<Response, ApiError> {
    state.store.delete_session(&auth.token).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        clear_cookie_header(state.config.secure_cookies)
            .parse()
            .map_err(|e| ApiError::internal(format!("bad cookie header: {e}")))?,
    );
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

async fn me(auth: AuthUser) -> Json<UserEnvelope> {
    Json(UserEnvelope {
        user: auth.user.into(),
    })
}
