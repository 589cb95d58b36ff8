//! Shared helpers for the store tests: a fresh SQLite file per test, a raw pool for
//! poking at rows directly, and a valid job request.
#![allow(dead_code)]

use std::path::PathBuf;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;
use uuid::Uuid;
use wait_store::{JobRequest, LogLevel, Store};

pub struct TestDb {
    pub dir: TempDir,
    pub path: PathBuf,
    pub store: Store,
}

pub async fn open() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wait.db");
    let store = Store::open_sqlite(&path).await.expect("open store");
    TestDb { dir, path, store }
}

impl TestDb {
    /// A second, plain connection pool to the same file, for raw SQL.
    pub async fn raw(&self) -> SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(&self.path)
                    .busy_timeout(std::time::Duration::from_secs(10)),
            )
            .await
            .expect("raw pool")
    }

    /// Make a job's lease look expired (deterministic, no sleeping).
    pub async fn expire_lease(&self, job_id: Uuid) {
        let raw = self.raw().await;
        sqlx::query("UPDATE build_jobs SET lease_expires_at = 0 WHERE job_id = $1")
            .bind(job_id.to_string())
            .execute(&raw)
            .await
            .expect("expire lease");
        raw.close().await;
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
    }
}
