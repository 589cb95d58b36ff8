//! Test databases for both backends: a fresh SQLite file, or a fresh schema in the
//! PostgreSQL database named by `WAIT_TEST_DATABASE_URL` (skipped with a note when the
//! variable is unset). Also a raw pool on the same database for poking at rows.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;
use uuid::Uuid;
use wait_store::{JobRequest, LogLevel, Store, StoreError};

pub const DATABASE_URL_VAR: &str = "WAIT_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub struct TestDb {
    pub store: Store,
    pub backend: Backend,
    /// What `Store::open_url` takes to open this same database again.
    pub url: String,
    pub raw: Raw,
    dir: Option<TempDir>,
    /// PostgreSQL: the per-test schema and the URL of its database.
    schema: Option<(String, String)>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wait.db");
    let store = Store::open_sqlite(&path).await.expect("open store");
    let raw = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .busy_timeout(Duration::from_secs(10)),
        )
        .await
        .expect("raw pool");
    TestDb {
        store,
        backend: Backend::Sqlite,
        url: format!("sqlite://{}", path.display()),
        raw: Raw::Sqlite(raw),
        dir: Some(dir),
        schema: None,
    }
}

/// The base URL, or None (after printing why) when PostgreSQL tests are not configured.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("note: {test}: PostgreSQL half skipped ({DATABASE_URL_VAR} is not set)");
            None
        }
    }
}

/// A store on a new, empty schema; None when PostgreSQL tests are not configured.
pub async fn postgres(test: &str) -> Option<TestDb> {
    let base = postgres_url(test)?;
    let schema = format!("t_{}", Uuid::now_v7().simple());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await
        .expect("connect to WAIT_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create test schema");
    admin.close().await;
    let url = with_search_path(&base, &schema);
    let store = Store::open_url(&url).await.expect("open store");
    let raw = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("raw pool");
    Some(TestDb {
        store,
        backend: Backend::Postgres,
        url,
        raw: Raw::Postgres(raw),
        dir: None,
        schema: Some((schema, base)),
    })
}

/// Every connection of a pool opened with this URL uses `schema` (libpq `options`).
pub fn with_search_path(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

impl TestDb {
    /// Close everything and drop the PostgreSQL schema. (A test that panics leaves its
    /// schema behind; they are named `t_<uuid>` and harmless.)
    pub async fn finish(self) {
        self.store.close().await;
        match &self.raw {
            Raw::Sqlite(p) => p.close().await,
            Raw::Postgres(p) => p.close().await,
        }
        if let Some((schema, base)) = &self.schema {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect(base)
                .await
                .expect("connect for cleanup");
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&admin)
                .await
                .expect("drop test schema");
            admin.close().await;
        }
        drop(self.dir);
    }

    pub async fn reopen(&self) -> Result<Store, StoreError> {
        Store::open_url(&self.url).await
    }

    /// Run a statement with up to one text bind.
    pub async fn exec(&self, sql: &str, bind: Option<&str>) -> Result<u64, sqlx::Error> {
        match &self.raw {
            Raw::Sqlite(p) => {
                let mut q = sqlx::query(sql);
                if let Some(b) = bind {
                    q = q.bind(b.to_string());
                }
                Ok(q.execute(p).await?.rows_affected())
            }
            Raw::Postgres(p) => {
                let mut q = sqlx::query(sql);
                if let Some(b) = bind {
                    q = q.bind(b.to_string());
                }
                Ok(q.execute(p).await?.rows_affected())
            }
        }
    }

    /// One BIGINT value.
    pub async fn scalar_i64(&self, sql: &str, bind: Option<&str>) -> i64 {
        match &self.raw {
            Raw::Sqlite(p) => {
                let mut q = sqlx::query_as::<_, (i64,)>(sql);
                if let Some(b) = bind {
                    q = q.bind(b.to_string());
                }
                q.fetch_one(p).await.expect("scalar").0
            }
            Raw::Postgres(p) => {
                let mut q = sqlx::query_as::<_, (i64,)>(sql);
                if let Some(b) = bind {
                    q = q.bind(b.to_string());
                }
                q.fetch_one(p).await.expect("scalar").0
            }
        }
    }

    /// One TEXT value.
    pub async fn scalar_text(&self, sql: &str, bind: Option<&str>) -> String {
        match &self.raw {
            Raw::Sqlite(p) => {
                let mut q = sqlx::query_as::<_, (String,)>(sql);
                if let Some(b) = bind {
                    q = q.bind(b.to_string());
                }
                q.fetch_one(p).await.expect("scalar").0
            }
            Raw::Postgres(p) => {
                let mut q = sqlx::query_as::<_, (String,)>(sql);
                if let Some(b) = bind {
                    q = q.bind(b.to_string());
                }
                q.fetch_one(p).await.expect("scalar").0
            }
        }
    }

    /// Make a job's lease look expired (deterministic, no sleeping).
    pub async fn expire_lease(&self, job_id: Uuid) {
        self.exec(
            "UPDATE build_jobs SET lease_expires_at = 0 WHERE job_id = $1",
            Some(&job_id.to_string()),
        )
        .await
        .expect("expire lease");
    }

    /// Make a waiting job runnable now, whatever its backoff says.
    pub async fn skip_backoff(&self, job_id: Uuid) {
        self.exec(
            "UPDATE build_jobs SET run_after = 0 WHERE job_id = $1",
            Some(&job_id.to_string()),
        )
        .await
        .expect("skip backoff");
    }

    pub async fn run_after(&self, job_id: Uuid) -> i64 {
        self.scalar_i64(
            "SELECT run_after FROM build_jobs WHERE job_id = $1",
            Some(&job_id.to_string()),
        )
        .await
    }
}

pub fn request(board: &str) -> JobRequest {
    JobRequest {
        motherboard_model: board.to_string(),
        base_image: "WINDOWS11_IOT_LTSC_24H2_EN_US_X64.wim".to_string(),
        customer_name: "default".to_string(),
        image_index: "1".to_string(),
        driver_set: None,
        langpacks: vec![],
        updates: vec![],
        software: vec![],
        answer_file: None,
        product_key: None,
        key_variants: "nokey".to_string(),
        create_iso: false,
        compression: "lzx".to_string(),
        log_level: LogLevel::Normal,
        options: Default::default(),
    }
}
