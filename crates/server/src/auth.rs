//! Who is calling: a session cookie or `Authorization: Bearer <token>`, and role checks.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use wait_store::{Role, User};

use crate::AppState;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "wait_session";

/// An authenticated caller. Extracting it answers 401 when there is no valid session.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    /// The token the request authenticated with (cookie or bearer).
    pub token: String,
}

impl AuthUser {
    /// 403 unless the caller has at least `role` (viewer < builder < admin).
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role or higher"
            )))
        }
    }
}

/// The session token of a request: the bearer token wins over the cookie.
/// `Err` when an Authorization header is present but is not a bearer token.
pub fn request_token(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(ApiError::unauthorized(
                "expected Authorization: Bearer <token>",
            ));
        }
        return Ok(Some(token.to_string()));
    }
    Ok(session_cookie(headers))
}

/// The value of the `wait_session` cookie, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"').to_string())
}

/// `Set-Cookie` value carrying a new session.
pub fn session_cookie_header(token: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
    )
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie_header(secure: bool) -> String {
    session_cookie_header("", 0, secure)
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = request_token(&parts.headers)? else {
            return Err(ApiError::unauthorized("authentication required"));
        };
        match state.store.session_user(&token).await? {
            Some(user) => Ok(AuthUser { user, token }),
            None => Err(ApiError::unauthorized("session expired or invalid")),
        }
    }
}
