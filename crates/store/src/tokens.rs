//! API tokens for scripts: a random secret shown once; only its sha256 is stored, so a
//! leaked database does not leak usable tokens. A token may expire; revoking keeps the
//! row (listings still show it) but the token never authenticates again.

use std::time::Duration;

use rand::RngCore;
use serde::Serialize;
use time::OffsetDateTime;

use crate::backend::{ErrorClass, classify_error, on_pool};
use crate::clock::{after_ms, from_ms, now_ms, opt_from_ms};
use crate::rows::UserRow;
use crate::users::token_hash;
use crate::{Result, Store, StoreError, User};

/// Marks WAIT API tokens so secret scanners and people recognise them.
pub const TOKEN_PREFIX: &str = "wait_";

/// Longest accepted token name.
pub const MAX_TOKEN_NAME_LEN: usize = 100;

/// `last_used_at` is written at most this often per token, so a busy script does not
/// turn every request into a write.
const LAST_USED_EVERY_MS: i64 = 60_000;

/// A token as listed (never with its secret or hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Within a minute of the latest use.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// None: never expires.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

const TOKEN_COLUMNS: &str = "id, user_id, name, created_at, last_used_at, expires_at, revoked_at";

#[derive(Debug, sqlx::FromRow)]
struct ApiTokenRow {
    id: i64,
    user_id: i64,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<ApiTokenRow> for ApiToken {
    type Error = StoreError;

    fn try_from(r: ApiTokenRow) -> Result<ApiToken> {
        Ok(ApiToken {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            created_at: from_ms("created_at", r.created_at)?,
            last_used_at: opt_from_ms("last_used_at", r.last_used_at)?,
            expires_at: opt_from_ms("expires_at", r.expires_at)?,
            revoked_at: opt_from_ms("revoked_at", r.revoked_at)?,
        })
    }
}

/// The row a presented secret matched, with its owner.
#[derive(Debug, sqlx::FromRow)]
struct TokenUserRow {
    token_id: i64,
    last_used_at: Option<i64>,
    id: i64,
    username: String,
    role: String,
    created_at: i64,
}

fn validate_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid {
            field: "name",
            message: "must not be empty".to_string(),
        });
    }
    if name.chars().count() > MAX_TOKEN_NAME_LEN || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid {
            field: "name",
            message: format!("at most {MAX_TOKEN_NAME_LEN} characters, no control characters"),
        });
    }
    Ok(())
}

impl Store {
    /// New token for `user_id` that never expires; returns `(id, secret)`. The secret is
    /// returned only here. Unknown user → NotFound.
    pub async fn create_api_token(&self, user_id: i64, name: &str) -> Result<(i64, String)> {
        let (token, secret) = self.issue_api_token(user_id, name, None).await?;
        Ok((token.id, secret))
    }

    /// New token for `user_id`, valid for `ttl` when given; returns the token as listed
    /// and its secret, which is returned only here. Unknown user → NotFound.
    pub async fn issue_api_token(
        &self,
        user_id: i64,
        name: &str,
        ttl: Option<Duration>,
    ) -> Result<(ApiToken, String)> {
        validate_name(name)?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let now = now_ms();
        let expires_at = ttl.map(|ttl| after_ms(now, ttl));
        let inserted: std::result::Result<ApiTokenRow, sqlx::Error> =
            on_pool!(self.pool(), |pool| {
                sqlx::query_as(&format!(
                    "INSERT INTO api_tokens (user_id, name, token_sha256, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
                ))
                .bind(user_id)
                .bind(name)
                .bind(token_hash(&secret))
                .bind(now)
                .bind(expires_at)
                .fetch_one(pool)
                .await
            });
        let row = inserted.map_err(|e| match classify_error(&e) {
            ErrorClass::ForeignKeyViolation => StoreError::NotFound {
                what: format!("user {user_id}"),
            },
            _ => StoreError::Database(e),
        })?;
        Ok((ApiToken::try_from(row)?, secret))
    }

    /// The user a token belongs to; None when the token is unknown, revoked, expired or
    /// its user is disabled. Notes the use (at most once a minute per token).
    pub async fn token_user(&self, secret: &str) -> Result<Option<User>> {
        let hash = token_hash(secret);
        let now = now_ms();
        let row: Option<TokenUserRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT t.id AS token_id, t.last_used_at,
                        u.id, u.username, u.role, u.created_at
                   FROM api_tokens t JOIN users u ON u.id = t.user_id
                  WHERE t.token_sha256 = $1
                    AND t.revoked_at IS NULL
                    AND (t.expires_at IS NULL OR t.expires_at > $2)
                    AND u.disabled_at IS NULL",
            )
            .bind(&hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        let stale = now - LAST_USED_EVERY_MS;
        if row.last_used_at.is_none_or(|t| t < stale) {
            // the condition is repeated so concurrent requests write once between them
            on_pool!(self.pool(), |pool| {
                sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $1
                      WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(now)
                .bind(row.token_id)
                .bind(stale)
                .execute(pool)
                .await?;
            });
        }
        User::try_from(UserRow {
            id: row.id,
            username: row.username,
            role: row.role,
            created_at: row.created_at,
        })
        .map(Some)
    }

    /// A user's tokens (revoked and expired ones too), oldest first.
    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let rows: Vec<ApiTokenRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// One token by id; None when it does not exist.
    pub async fn get_api_token(&self, id: i64) -> Result<Option<ApiToken>> {
        let row: Option<ApiTokenRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ApiToken::try_from).transpose()
    }

    /// Revoke a token, keeping its row; revoking again keeps the first time. Returns the
    /// token as listed. NotFound when it does not exist.
    pub async fn revoke_api_token(&self, id: i64) -> Result<ApiToken> {
        let row: Option<ApiTokenRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1)
                  WHERE id = $2 RETURNING {TOKEN_COLUMNS}"
            ))
            .bind(now_ms())
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let row = row.ok_or_else(|| StoreError::NotFound {
            what: format!("API token {id}"),
        })?;
        ApiToken::try_from(row)
    }

    /// Remove a token's row altogether; NotFound when it does not exist.
    pub async fn delete_api_token(&self, id: i64) -> Result<()> {
        let removed = on_pool!(self.pool(), |pool| {
            sqlx::query("DELETE FROM api_tokens WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if removed == 0 {
            return Err(StoreError::NotFound {
                what: format!("API token {id}"),
            });
        }
        Ok(())
    }
}
