//! Accounts: users (admin only) and API tokens (each user their own; admins anyone's).
//!
//! `GET/POST /api/users`, `PATCH/DELETE /api/users/{id}`, `GET/POST /api/tokens`,
//! `DELETE /api/tokens/{id}`. A token's secret appears once, in the answer that created
//! it; no answer ever carries a password hash or a token hash.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use wait_store::{ApiToken, Role, User, UserAccount, UserChanges};

use crate::AppState;
use crate::auth::{AuthUser, RequireAdmin, RequireViewer};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// Shortest password accepted from the API (the command line asks the same).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted; longer ones only cost hashing time.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest token lifetime, in days.
pub const MAX_TOKEN_DAYS: u32 = 3650;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{id}", patch(update_user).delete(delete_user))
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
}

/// A user as administrators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AccountView {
    id: i64,
    username: String,
    #[schema(value_type = crate::openapi::mirrors::Role)]
    role: Role,
    disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
}

impl From<UserAccount> for AccountView {
    fn from(a: UserAccount) -> Self {
        AccountView {
            id: a.user.id,
            username: a.user.username,
            role: a.user.role,
            disabled: a.disabled,
            created_at: a.user.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AccountEnvelope {
    user: AccountView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AccountList {
    users: Vec<AccountView>,
}

fn parse_id(raw: &str, what: &'static str) -> Result<i64, ApiError> {
    raw.trim().parse::<i64>().map_err(|_| {
        ApiError::bad_request("invalid_id", format!("the {what} id must be a number"))
            .with_field("id")
    })
}

fn parse_role(raw: &str) -> Result<Role, ApiError> {
    Role::parse(raw).ok_or_else(|| {
        ApiError::invalid(
            "role",
            "invalid_value",
            "role must be admin, builder or viewer",
        )
    })
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid(
            "password",
            "invalid_value",
            format!("password must have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} characters"),
        ));
    }
    Ok(())
}

async fn list_users(
    State(state): State<AppState>,
    _admin: RequireAdmin,
) -> Result<Json<AccountList>, ApiError> {
    let users = state.store.list_accounts().await?;
    Ok(Json(AccountList {
        users: users.into_iter().map(AccountView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    username: String,
    password: String,
    #[schema(value_type = crate::openapi::mirrors::Role)]
    role: String,
}

async fn create_user(
    State(state): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<Response, ApiError> {
    let role = parse_role(&body.role)?;
    check_password(&body.password)?;
    let user = state
        .store
        .create_user(&body.username, role, &body.password)
        .await?;
    tracing::info!(user = %user.username, role = %role, by = %admin.user.username, "user created");
    let user = AccountView::from(UserAccount {
        user,
        disabled: false,
    });
    Ok((StatusCode::CREATED, Json(AccountEnvelope { user })).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUser {
    #[schema(value_type = Option<crate::openapi::mirrors::Role>)]
    role: Option<String>,
    password: Option<String>,
    disabled: Option<bool>,
}

async fn update_user(
    State(state): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    ApiPath(raw_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<Json<AccountEnvelope>, ApiError> {
    let id = parse_id(&raw_id, "user")?;
    let changes = UserChanges {
        role: body.role.as_deref().map(parse_role).transpose()?,
        password: body.password,
        disabled: body.disabled,
    };
    if let Some(password) = &changes.password {
        check_password(password)?;
    }
    if changes.role.is_none() && changes.password.is_none() && changes.disabled.is_none() {
        return Err(ApiError::bad_request(
            "empty_change",
            "give at least one of role, password, disabled",
        ));
    }
    // an admin who could demote or disable themselves could leave nobody to undo it
    if id == admin.user.id
        && (changes.role.is_some_and(|r| r != admin.user.role) || changes.disabled == Some(true))
    {
        return Err(ApiError::conflict(
            "you cannot change your own role or disable yourself; ask another admin",
        ));
    }
    let account = state.store.update_user(id, &changes).await?;
    tracing::info!(
        user = %account.user.username,
        role = %account.user.role,
        disabled = account.disabled,
        password_changed = changes.password.is_some(),
        by = %admin.user.username,
        "user changed"
    );
    Ok(Json(AccountEnvelope {
        user: account.into(),
    }))
}

async fn delete_user(
    State(state): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    ApiPath(raw_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&raw_id, "user")?;
    if id == admin.user.id {
        return Err(ApiError::conflict("you cannot delete yourself"));
    }
    state.store.delete_user(id).await?;
    tracing::info!(user_id = id, by = %admin.user.username, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A token as listed: never its secret or hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct TokenView {
    id: i64,
    name: String,
    user: String,
    /// `active`, `expired` or `revoked`.
    #[schema(value_type = String)]
    state: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    revoked_at: Option<OffsetDateTime>,
}

impl TokenView {
    fn new(t: ApiToken, user: &str) -> Self {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t
            .expires_at
            .is_some_and(|at| at <= OffsetDateTime::now_utc())
        {
            "expired"
        } else {
            "active"
        };
        TokenView {
            id: t.id,
            name: t.name,
            user: user.to_string(),
            state,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TokenList {
    tokens: Vec<TokenView>,
}

/// The answer to a create: the listed fields and, this once, the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedToken {
    #[serde(flatten)]
    view: TokenView,
    token: String,
}

/// The user whose tokens a request is about: the caller, or — for admins only — the
/// user it names. `field` names where the name came from, for errors.
async fn token_owner(
    state: &AppState,
    caller: &AuthUser,
    named: Option<&str>,
    field: &'static str,
) -> Result<User, ApiError> {
    let Some(name) = named.filter(|n| !n.is_empty() && *n != caller.user.username) else {
        return Ok(caller.user.clone());
    };
    caller.require(Role::Admin).map_err(|_| {
        ApiError::forbidden("only an admin may manage another user's tokens").with_field(field)
    })?;
    state
        .store
        .get_user(name)
        .await?
        .ok_or_else(|| ApiError::invalid(field, "unknown_user", format!("no user named {name:?}")))
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    user: Option<String>,
}

async fn list_tokens(
    State(state): State<AppState>,
    RequireViewer(caller): RequireViewer,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Json<TokenList>, ApiError> {
    let owner = token_owner(&state, &caller, q.user.as_deref(), "user").await?;
    let tokens = state.store.list_api_tokens(owner.id).await?;
    Ok(Json(TokenList {
        tokens: tokens
            .into_iter()
            .map(|t| TokenView::new(t, &owner.username))
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    name: String,
    user: Option<String>,
    expires_in_days: Option<u32>,
}

async fn create_token(
    State(state): State<AppState>,
    RequireViewer(caller): RequireViewer,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<Response, ApiError> {
    let ttl = match body.expires_in_days {
        None => None,
        Some(days @ 1..=MAX_TOKEN_DAYS) => {
            Some(std::time::Duration::from_secs(u64::from(days) * 86_400))
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "expires_in_days",
                "invalid_value",
                format!("expires_in_days must be 1 to {MAX_TOKEN_DAYS}"),
            ));
        }
    };
    let owner = token_owner(&state, &caller, body.user.as_deref(), "user").await?;
    let (token, secret) = state
        .store
        .issue_api_token(owner.id, &body.name, ttl)
        .await?;
    tracing::info!(
        token = token.id,
        user = %owner.username,
        by = %caller.user.username,
        "API token created"
    );
    let created = CreatedToken {
        view: TokenView::new(token, &owner.username),
        token: secret,
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Revoke a token. Someone else's token is "not found" unless the caller is an admin, so
/// token ids do not reveal which exist.
async fn revoke_token(
    State(state): State<AppState>,
    RequireViewer(caller): RequireViewer,
    ApiPath(raw_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&raw_id, "token")?;
    let not_found = || ApiError::not_found(format!("API token {id} not found"));
    let token = state.store.get_api_token(id).await?.ok_or_else(not_found)?;
    if token.user_id != caller.user.id && caller.user.role != Role::Admin {
        return Err(not_found());
    }
    state.store.revoke_api_token(id).await?;
    tracing::info!(token = id, by = %caller.user.username, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}
