//! API tokens for scripts: a random secret shown once; only its sha256 is stored, so a
//! leaked database does not leak usable tokens.

use rand::RngCore;
use serde::Serialize;
use time::OffsetDateTime;

use crate::backend::{ErrorClass, classify_error, on_pool};
use crate::clock::{from_ms, now_ms, opt_from_ms};
use crate::rows::UserRow;
use crate::users::token_hash;
use crate::{Result, Store, StoreError, User};

/// Marks WAIT API tokens so secret scanners and people recognise them.
const TOKEN_PREFIX: &str = "wait_";

/// A token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

#[derive(Debug, sqlx::FromRow)]
struct ApiTokenRow {
    id: i64,
    user_id: i64,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
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
        })
    }
}

impl Store {
    /// New token for `user_id`; returns `(id, secret)`. The secret is returned only
    /// here. Unknown user → NotFound.
    pub async fn create_api_token(&self, user_id: i64, name: &str) -> Result<(i64, String)> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "name",
                message: "must not be empty".to_string(),
            });
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let inserted: std::result::Result<(i64,), sqlx::Error> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "INSERT INTO api_tokens (user_id, name, token_sha256, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(user_id)
            .bind(name)
            .bind(token_hash(&secret))
            .bind(now_ms())
            .fetch_one(pool)
            .await
        });
        let (id,) = inserted.map_err(|e| match classify_error(&e) {
            ErrorClass::ForeignKeyViolation => StoreError::NotFound {
                what: format!("user {user_id}"),
            },
            _ => StoreError::Database(e),
        })?;
        Ok((id, secret))
    }

    /// The user a token belongs to (and note when it was used); None when unknown.
    pub async fn token_user(&self, secret: &str) -> Result<Option<User>> {
        let hash = token_hash(secret);
        let row: Option<UserRow> = on_pool!(self.pool(), |pool| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_sha256 = $2")
                .bind(now_ms())
                .bind(&hash)
                .execute(pool)
                .await?;
            sqlx::query_as(
                "SELECT u.id, u.username, u.role, u.created_at
                   FROM api_tokens t JOIN users u ON u.id = t.user_id
                  WHERE t.token_sha256 = $1",
            )
            .bind(&hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(User::try_from).transpose()
    }

    /// A user's tokens, oldest first.
    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let rows: Vec<ApiTokenRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT id, user_id, name, created_at, last_used_at FROM api_tokens
                  WHERE user_id = $1 ORDER BY id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// Revoke a token; NotFound when it does not exist.
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
