//! Administration of the database itself: opening it without touching the schema,
//! migrating on request with a report of what was done, and consistent SQLite backups.
//!
//! `Store::open_sqlite` and `Store::open_url` keep migrating implicitly (what `serve` and
//! `worker` rely on); these calls are for `waitctl migrate` and `waitctl backup`, which
//! must be able to look before they change anything.

use std::path::Path;

use serde::Serialize;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::backend::{self, Pool};
use crate::{Result, Store, StoreError};

// The same folders the backends migrate from at open, embedded once more here so the
// versions can be listed without running them.
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// One migration compiled into this binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
}

/// Where a database's schema stands against this binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// Highest version applied; 0 for an empty database.
    pub current: i64,
    /// Highest version this binary knows.
    pub supported: i64,
    /// Known migrations not applied yet, in the order they would run.
    pub pending: Vec<MigrationInfo>,
}

impl SchemaStatus {
    /// The database was migrated by a newer WAIT.
    pub fn too_new(&self) -> bool {
        self.current > self.supported
    }
}

/// What `Store::migrate` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    pub before: i64,
    pub after: i64,
    pub applied: Vec<MigrationInfo>,
}

/// A checked SQLite snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupInfo {
    pub bytes: u64,
    pub jobs: i64,
}

impl Store {
    /// Open a `sqlite:` or `postgres:` URL WITHOUT running migrations (a SQLite file is
    /// still created when missing). Everything but the calls of this module expects a
    /// current schema: use `Store::migrate` before anything else.
    pub async fn open_url_unmigrated(url: &str) -> Result<Self> {
        let pool = if url.starts_with("sqlite:") {
            let options = backend::sqlite::url_options(url)?;
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options: sqlx::postgres::PgConnectOptions =
                url.parse().map_err(|e: sqlx::Error| StoreError::Invalid {
                    field: "database_url",
                    message: e.to_string(),
                })?;
            Pool::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect_with(options)
                    .await?,
            )
        } else {
            return Err(StoreError::Invalid {
                field: "database_url",
                message: "expected a sqlite:// or postgres:// URL".to_string(),
            });
        };
        Ok(Store::from_pool(pool))
    }

    /// A SQLite file (created when missing) opened WITHOUT running migrations; see
    /// `open_url_unmigrated`.
    pub async fn open_sqlite_unmigrated(path: &Path) -> Result<Self> {
        let options = backend::sqlite::file_options(path);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await?;
        Ok(Store::from_pool(Pool::Sqlite(pool)))
    }

    /// The applied version and the migrations still to run. Reads only.
    pub async fn schema_status(&self) -> Result<SchemaStatus> {
        let applied = self.applied_versions().await?;
        let migrator = self.migrator();
        let supported = crate::schema::latest_version(migrator);
        let pending = migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| MigrationInfo {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect();
        Ok(SchemaStatus {
            current: applied.iter().copied().max().unwrap_or(0),
            supported,
            pending,
        })
    }

    /// Apply every pending migration and say which. A schema newer than this binary is
    /// refused with `SchemaTooNew` before anything runs.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let status = self.schema_status().await?;
        if status.too_new() {
            return Err(StoreError::SchemaTooNew {
                found: status.current,
                supported: status.supported,
            });
        }
        match self.pool() {
            Pool::Sqlite(pool) => crate::schema::migrate(&SQLITE_MIGRATOR, pool).await?,
            Pool::Postgres(pool) => crate::schema::migrate(&POSTGRES_MIGRATOR, pool).await?,
        }
        let after = self.schema_status().await?;
        Ok(MigrationReport {
            before: status.current,
            after: after.current,
            applied: status.pending,
        })
    }

    /// Versions recorded as successfully applied; none when the bookkeeping table does
    /// not exist yet.
    async fn applied_versions(&self) -> Result<Vec<i64>> {
        // `ensure_migrations_table` would create the table; a status query must not.
        let exists_sql = match self.pool() {
            Pool::Sqlite(_) => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Pool::Postgres(_) => {
                "SELECT COUNT(*) FROM information_schema.tables
                  WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
            }
        };
        let versions: Vec<i64> = backend::on_pool!(self.pool(), |pool| {
            let exists: i64 = sqlx::query_scalar(exists_sql).fetch_one(pool).await?;
            if exists == 0 {
                Vec::new()
            } else {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                    .fetch_all(pool)
                    .await?
            }
        });
        Ok(versions)
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pool() {
            Pool::Sqlite(_) => &SQLITE_MIGRATOR,
            Pool::Postgres(_) => &POSTGRES_MIGRATOR,
        }
    }

    /// Write a consistent snapshot of this SQLite database to `dest` with `VACUUM INTO`
    /// (one read transaction, so writers carry on and the copy is a single point in
    /// time), then open the copy and check it. `dest` must not exist: the caller decides
    /// about replacing files. PostgreSQL gives `Invalid` (use pg_dump).
    pub async fn backup_sqlite(&self, dest: &Path) -> Result<BackupInfo> {
        let Pool::Sqlite(pool) = self.pool() else {
            return Err(StoreError::Invalid {
                field: "database_url",
                message: "a backup file can only be written for SQLite; use pg_dump".to_string(),
            });
        };
        let dest_text = dest.to_str().ok_or_else(|| StoreError::Invalid {
            field: "output",
            message: format!("{} is not valid UTF-8", dest.display()),
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest_text)
            .execute(pool)
            .await?;
        restrict_permissions(dest);
        check_backup(dest).await
    }

    /// The migrations compiled into this binary (both backends ship the same versions).
    pub fn known_migrations() -> Vec<MigrationInfo> {
        SQLITE_MIGRATOR
            .iter()
            .map(|m| MigrationInfo {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect()
    }
}

/// Open a backup copy on its own, run `PRAGMA integrity_check` and count its jobs.
pub async fn check_backup(path: &Path) -> Result<BackupInfo> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        // A backup is one self-contained file: no -wal/-shm next to it.
        .journal_mode(SqliteJournalMode::Delete);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let checks: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await?;
    if checks != ["ok"] {
        pool.close().await;
        return Err(StoreError::Invalid {
            field: "backup",
            message: format!("integrity check failed: {}", checks.join("; ")),
        });
    }
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM build_jobs")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(BackupInfo { bytes, jobs })
}

/// The copy holds password hashes and webhook secrets: owner-only, like the database.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(path = %path.display(), error = %e, "cannot restrict the backup's permissions");
        }
    }
}
