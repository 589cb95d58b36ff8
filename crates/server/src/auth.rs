//! Who is calling, and may they: a session cookie, or `Authorization: Bearer <token>`
//! carrying a session token or an API token; then the role a handler requires.
//!
//! Handlers state their role in their signature with [`RequireViewer`],
//! [`RequireBuilder`] or [`RequireAdmin`]; each answers 401 without valid credentials and
//! 403 with too little role before the handler runs. Requests authenticated by the
//! cookie also pass the CSRF check (see `csrf`) here, so no handler can forget it.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use wait_store::{Role, TOKEN_PREFIX, User};

use crate::AppState;
use crate::csrf;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "wait_session";

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The `wait_session` cookie a browser sends by itself (CSRF-checked).
    SessionCookie,
    /// A session token sent as `Authorization: Bearer`.
    BearerSession,
    /// An API token (`wait_…`) sent as `Authorization: Bearer`.
    ApiToken,
}

/// An authenticated caller of any role. Extracting it answers 401 when there are no valid
/// credentials; prefer the `Require…` extractors, which also state the role.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    /// The token the request authenticated with (cookie or bearer).
    pub token: String,
    pub credential: Credential,
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

/// A token as presented by the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    Bearer(String),
    Cookie(String),
}

/// The credentials of a request: the bearer token wins over the cookie.
/// `Err` (401) when an Authorization header is present but is not a bearer token.
pub fn presented_token(headers: &HeaderMap) -> Result<Option<Presented>, ApiError> {
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
        return Ok(Some(Presented::Bearer(token.to_string())));
    }
    Ok(session_cookie(headers).map(Presented::Cookie))
}

/// The token of a request (bearer or cookie), whichever kind it is.
pub fn request_token(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    Ok(presented_token(headers)?.map(|p| match p {
        Presented::Bearer(t) | Presented::Cookie(t) => t,
    }))
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

/// Look a presented token up. API tokens carry the `wait_` prefix and sessions are bare
/// hex, so the prefix says which table can hold it; the cookie only ever carries a
/// session.
async fn authenticate(
    state: &AppState,
    presented: Presented,
) -> Result<(User, String, Credential), ApiError> {
    let (token, credential) = match presented {
        Presented::Cookie(t) => (t, Credential::SessionCookie),
        Presented::Bearer(t) if t.starts_with(TOKEN_PREFIX) => (t, Credential::ApiToken),
        Presented::Bearer(t) => (t, Credential::BearerSession),
    };
    let user = match credential {
        Credential::ApiToken => state.store.token_user(&token).await?,
        Credential::SessionCookie | Credential::BearerSession => {
            state.store.session_user(&token).await?
        }
    };
    match user {
        Some(user) => Ok((user, token, credential)),
        None if credential == Credential::ApiToken => Err(ApiError::unauthorized(
            "API token unknown, revoked or expired",
        )),
        None => Err(ApiError::unauthorized("session expired or invalid")),
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(presented) = presented_token(&parts.headers)? else {
            return Err(ApiError::unauthorized("authentication required"));
        };
        let (user, token, credential) = authenticate(state, presented).await?;
        if credential == Credential::SessionCookie {
            csrf::check_cookie_request(
                &parts.method,
                &parts.uri,
                &parts.headers,
                &state.config.allowed_origins,
            )?;
        }
        Ok(AuthUser {
            user,
            token,
            credential,
        })
    }
}

/// A handler's minimum role, as a type.
pub trait RoleRequirement {
    const ROLE: Role;
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub AuthUser);

        impl RoleRequirement for $name {
            const ROLE: Role = $role;
        }

        impl std::ops::Deref for $name {
            type Target = AuthUser;

            fn deref(&self) -> &AuthUser {
                &self.0
            }
        }

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                let auth = AuthUser::from_request_parts(parts, state).await?;
                auth.require(<$name as RoleRequirement>::ROLE)?;
                Ok($name(auth))
            }
        }
    };
}

role_extractor!(
    /// Any signed-in user (viewer or higher): reading.
    RequireViewer,
    Role::Viewer
);
role_extractor!(
    /// A builder or admin: creating, cancelling and cloning jobs.
    RequireBuilder,
    Role::Builder
);
role_extractor!(
    /// An admin: users, tokens of others, webhooks.
    RequireAdmin,
    Role::Admin
);
