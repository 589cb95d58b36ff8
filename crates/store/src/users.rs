//! Users (argon2id password hashes) and login sessions (only a sha256 of the token is kept).
//!
//! A disabled user keeps its row (jobs name it) but cannot log in, and its sessions and
//! API tokens are refused until it is enabled again.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::Serialize;
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

    /// Some(user) when the password matches; None for unknown user, wrong password or a
    /// disabled user (same cost either way).
    pub async fn verify_login(&self, username: &str, password: &str) -> Result<Option<User>> {
        type Found = (i64, String, String, i64, String, Option<i64>);
        let found: Option<Found> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT id, username, role, created_at, password_hash, disabled_at
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
            Some((id, username, role, created_at, phc, disabled_at)) => {
                // a disabled user pays the same hashing cost, so timing does not tell
                let ok = blocking(move || verify_password_blocking(&password, &phc)).await?;
                if !ok || disabled_at.is_some() {
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

    /// The user of a live session; None when the token is unknown, expired, or its user
    /// is disabled.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT u.id, u.username, u.role, u.created_at
                   FROM sessions s JOIN users u ON u.id = s.user_id
                  WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
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

/// A user as administrators see it: the public user and whether the account is disabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserAccount {
    #[serde(flatten)]
    pub user: User,
    pub disabled: bool,
}

/// What an administrator changes about a user; `None` leaves a value as it is.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub role: Option<Role>,
    /// The new password in clear; stored as an argon2id hash.
    pub password: Option<String>,
    pub disabled: Option<bool>,
}

impl std::fmt::Debug for UserChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserChanges")
            .field("role", &self.role)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("disabled", &self.disabled)
            .finish()
    }
}

#[derive(Debug, sqlx::FromRow)]
struct AccountRow {
    id: i64,
    username: String,
    role: String,
    created_at: i64,
    disabled_at: Option<i64>,
}

impl TryFrom<AccountRow> for UserAccount {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> Result<UserAccount> {
        let user = User::try_from(UserRow {
            id: r.id,
            username: r.username,
            role: r.role,
            created_at: r.created_at,
        })?;
        Ok(UserAccount {
            user,
            disabled: r.disabled_at.is_some(),
        })
    }
}

const ACCOUNT_COLUMNS: &str = "id, username, role, created_at, disabled_at";

impl Store {
    /// Every user with its disabled flag, by name.
    pub async fn list_accounts(&self) -> Result<Vec<UserAccount>> {
        let rows: Vec<AccountRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM users ORDER BY username"
            ))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(UserAccount::try_from).collect()
    }

    /// One user by id, disabled or not.
    pub async fn get_account(&self, id: i64) -> Result<Option<UserAccount>> {
        let row: Option<AccountRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(UserAccount::try_from).transpose()
    }

    /// Change a user's role, password or disabled flag. A new password or disabling ends
    /// the user's sessions in the same transaction, so a stolen cookie stops working at
    /// once. Unknown id → NotFound; empty password → Invalid.
    pub async fn update_user(&self, id: i64, changes: &UserChanges) -> Result<UserAccount> {
        let hash = match changes.password.as_deref() {
            Some("") => {
                return Err(StoreError::Invalid {
                    field: "password",
                    message: "must not be empty".to_string(),
                });
            }
            Some(password) => Some(hash_password(password).await?),
            None => None,
        };
        // 1 = disable (keeping the first time it was disabled), 0 = enable, NULL = keep
        let disable: Option<i64> = changes.disabled.map(i64::from);
        let end_sessions = hash.is_some() || changes.disabled == Some(true);
        let role = changes.role.map(Role::as_str);
        let row: Option<AccountRow> = on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            let row: Option<AccountRow> = sqlx::query_as(&format!(
                "UPDATE users SET
                        role = COALESCE($1, role),
                        password_hash = COALESCE($2, password_hash),
                        disabled_at = CASE $3 WHEN 1 THEN COALESCE(disabled_at, $4)
                                              WHEN 0 THEN NULL
                                              ELSE disabled_at END
                  WHERE id = $5
              RETURNING {ACCOUNT_COLUMNS}"
            ))
            .bind(role)
            .bind(hash.as_deref())
            .bind(disable)
            .bind(now_ms())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if row.is_some() && end_sessions {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            row
        });
        let row = row.ok_or_else(|| StoreError::NotFound {
            what: format!("user {id}"),
        })?;
        UserAccount::try_from(row)
    }

    /// Remove a user with its sessions and API tokens. Jobs keep the name they were
    /// created by. Unknown id → NotFound.
    pub async fn delete_user(&self, id: i64) -> Result<()> {
        let removed = on_pool!(self.pool(), |pool| {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if removed == 0 {
            return Err(StoreError::NotFound {
                what: format!("user {id}"),
            });
        }
        Ok(())
    }
}
