//! Users (argon2id password hashes) and login sessions (only a sha256 of the token is kept).

use std::sync::OnceLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::backend::{ErrorClass, classify_error, on_pool};
use crate::clock::{after_ms, now_ms};
use crate::rows::UserRow;
use crate::{Result, Role, Store, StoreError, User};

/// Longest accepted user name.
pub const MAX_USERNAME_LEN: usize = 64;

fn hash_password_blocking(password: &str) -> Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| StoreError::Hash(e.to_string()))?;
    // Argon2::default() is argon2id, version 0x13, with the recommended cost parameters.
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Hash(e.to_string()))
}

fn verify_password_blocking(password: &str, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| StoreError::Hash(e.to_string()))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(StoreError::Hash(e.to_string())),
    }
}

/// A hash of a random secret nobody knows. Logins for unknown users are checked against
/// it so they cost as much as logins for real users.
fn dummy_hash() -> Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let mut secret = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let hash = hash_password_blocking(&hex::encode(secret))?;
    Ok(DUMMY.get_or_init(|| hash))
}

/// Prepare the dummy hash in the background (no-op when already done).
pub(crate) fn warm_up() {
    if tokio::runtime::Handle::try_current().is_ok() {
        drop(tokio::task::spawn_blocking(|| {
            if let Err(e) = dummy_hash() {
                tracing::warn!(error = %e, "cannot prepare the dummy password hash");
            }
        }));
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Hash(format!("hashing task failed: {e}")))?
}

/// Hash a password with argon2id and a random salt (PHC string).
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    blocking(move || hash_password_blocking(&password)).await
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn validate_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.chars().count() <= MAX_USERNAME_LEN
        && username
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "username",
            message: format!(
                "1 to {MAX_USERNAME_LEN} characters: letters, digits, '_', '-', '.', '@'"
            ),
        })
    }
}

const USER_COLUMNS: &str = "id, username, role, created_at";

impl Store {
    /// Password hashed with argon2id. Duplicate name → Conflict.
    pub async fn create_user(&self, username: &str, role: Role, password: &str) -> Result<User> {
        validate_username(username)?;
        if password.is_empty() {
            return Err(StoreError::Invalid {
                field: "password",
                message: "must not be empty".to_string(),
            });
        }
        let hash = hash_password(password).await?;
        let inserted: std::result::Result<UserRow, sqlx::Error> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "INSERT INTO users (username, role, password_hash, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
            ))
            .bind(username)
            .bind(role.as_str())
            .bind(&hash)
            .bind(now_ms())
            .fetch_one(pool)
            .await
        });
        let row = inserted.map_err(|e| match classify_error(&e) {
            ErrorClass::UniqueViolation => {
                StoreError::Conflict(format!("user {username:?} already exists"))
            }
            _ => StoreError::Database(e),
        })?;
        User::try_from(row)
    }

    /// Some(user) when the password matches; None for unknown user or wrong password
    /// (same cost either way).
    pub async fn verify_login(&self, username: &str, password: &str) -> Result<Option<User>> {
        let found: Option<(i64, String, String, i64, String)> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT id, username, role, created_at, password_hash
                   FROM users WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(pool)
            .await?
        });
        let password = password.to_owned();
        match found {
            None => {
                blocking(move || {
                    let dummy = dummy_hash()?;
                    verify_password_blocking(&password, dummy)
                })
                .await?;
                Ok(None)
            }
            Some((id, username, role, created_at, phc)) => {
                let ok = blocking(move || verify_password_blocking(&password, &phc)).await?;
                if !ok {
                    return Ok(None);
                }
                let user = User::try_from(UserRow {
                    id,
                    username,
                    role,
                    created_at,
                })?;
                Ok(Some(user))
            }
        }
    }

    pub async fn get_user(&self, username: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
            ))
            .bind(username)
            .fetch_optional(pool)
            .await?
        });
        row.map(User::try_from).transpose()
    }

    /// All users, by name.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY username"
            ))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(User::try_from).collect()
    }

    /// New session; returns the secret token (stored hashed).
    pub async fn create_session(&self, user_id: i64, ttl: Duration) -> Result<String> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = hex::encode(secret);
        let now = now_ms();
        let inserted = on_pool!(self.pool(), |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash(&token))
            .bind(user_id)
            .bind(now)
            .bind(after_ms(now, ttl))
            .execute(pool)
            .await
            .map(drop)
        });
        inserted.map_err(|e| match classify_error(&e) {
            ErrorClass::ForeignKeyViolation => StoreError::NotFound {
                what: format!("user {user_id}"),
            },
            _ => StoreError::Database(e),
        })?;
        Ok(token)
    }

    pub async fn session_user(&self, token: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT u.id, u.username, u.role, u.created_at
                   FROM sessions s JOIN users u ON u.id = s.user_id
                  WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(token_hash(token))
            .bind(now_ms())
            .fetch_optional(pool)
            .await?
        });
        row.map(User::try_from).transpose()
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        on_pool!(self.pool(), |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash(token))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Remove expired sessions; returns how many were removed.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let removed = on_pool!(self.pool(), |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed)
    }
}
