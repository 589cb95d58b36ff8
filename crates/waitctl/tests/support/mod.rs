//! Shared helpers for tests that run `waitctl` as separate processes.
#![allow(dead_code)]

use std::process::{Child, Command};

/// A child process that is killed when the test ends, however it ends.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `waitctl` with no WAIT_* settings inherited from the environment.
pub fn waitctl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_waitctl"));
    for var in [
        "WAIT_DATABASE_URL",
        "WAIT_REPOSITORY",
        "WAIT_BIND",
        "WAIT_DATA_DIR",
        "WAIT_LEASE_SECONDS",
    ] {
        c.env_remove(var);
    }
    c
}

/// A fresh PostgreSQL schema for one test, dropped on `finish`. None (with a note)
/// when `WAIT_TEST_DATABASE_URL` is not set.
pub struct PgSchema {
    base: String,
    name: String,
    pub url: String,
}

impl PgSchema {
    pub async fn create(test: &str) -> Option<Self> {
        let base = match std::env::var("WAIT_TEST_DATABASE_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                eprintln!("note: {test}: skipped (WAIT_TEST_DATABASE_URL is not set)");
                return None;
            }
        };
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let pool = sqlx::PgPool::connect(&base)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&pool)
            .await
            .expect("create schema");
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        Some(Self { base, name, url })
    }

    pub async fn finish(self) {
        let pool = sqlx::PgPool::connect(&self.base)
            .await
            .expect("connect to PostgreSQL");
        let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}
