//! The writing half of the import: one transaction on either backend, so an import
//! either lands whole or not at all, and a dry run is the same work rolled back.

use crate::backend::{self, Pool};
use crate::{JobStatus, Result, Role};

pub(crate) enum ImportTx {
    Sqlite(backend::sqlite::Tx),
    Postgres(backend::postgres::Tx),
}

/// Run `$body` with `$tx` bound to the concrete transaction and `b` to its backend.
macro_rules! on_tx {
    ($self:expr, |$tx:ident| $body:expr) => {
        match $self {
            ImportTx::Sqlite($tx) => {
                #[allow(unused_imports)]
                use crate::backend::sqlite as b;
                $body
            }
            ImportTx::Postgres($tx) => {
                #[allow(unused_imports)]
                use crate::backend::postgres as b;
                $body
            }
        }
    };
}

/// A job as it is written here.
pub(crate) struct NewJob {
    pub job_id: String,
    pub status: JobStatus,
    pub progress: i64,
    pub motherboard_model: String,
    pub base_image: String,
    pub customer_name: String,
    pub image_index: String,
    pub driver_set: Option<String>,
    pub langpacks: String,
    pub updates: String,
    pub software: String,
    pub answer_file: Option<String>,
    pub product_key: Option<String>,
    pub create_iso: bool,
    pub log_level: &'static str,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub warnings: String,
}

/// A webhook as it is written here.
pub(crate) struct NewHook {
    pub url: String,
    pub events: String,
    pub secret: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub active: bool,
}

impl ImportTx {
    pub async fn begin(pool: &Pool) -> Result<Self> {
        Ok(match pool {
            Pool::Sqlite(p) => ImportTx::Sqlite(backend::sqlite::begin_write(p).await?),
            Pool::Postgres(p) => ImportTx::Postgres(backend::postgres::begin_write(p).await?),
        })
    }

    pub async fn finish(self, commit: bool) -> Result<()> {
        on_tx!(self, |tx| if commit {
            tx.commit().await?
        } else {
            tx.rollback().await?
        });
        Ok(())
    }

    /// The id given here to an old row imported before, if any.
    pub async fn mapped(&mut self, kind: &str, old_id: &str) -> Result<Option<String>> {
        Ok(on_tx!(self, |tx| sqlx::query_scalar(
            "SELECT new_id FROM seed_import WHERE kind = $1 AND old_id = $2"
        )
        .bind(kind)
        .bind(old_id)
        .fetch_optional(&mut **tx)
        .await?))
    }

    pub async fn record(&mut self, kind: &str, old_id: &str, new_id: &str, now: i64) -> Result<()> {
        on_tx!(self, |tx| sqlx::query(
            "INSERT INTO seed_import (kind, old_id, new_id, imported_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(kind)
        .bind(old_id)
        .bind(new_id)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map(|_| ())?);
        Ok(())
    }

    pub async fn user_exists(&mut self, username: &str) -> Result<bool> {
        let n: i64 = on_tx!(self, |tx| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE username = $1"
        )
        .bind(username)
        .fetch_one(&mut **tx)
        .await?);
        Ok(n > 0)
    }

    pub async fn insert_user(
        &mut self,
        username: &str,
        role: Role,
        hash: &str,
        created_at: i64,
        disabled_at: Option<i64>,
    ) -> Result<i64> {
        Ok(on_tx!(self, |tx| sqlx::query_scalar(
            "INSERT INTO users (username, role, password_hash, created_at, disabled_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id"
        )
        .bind(username)
        .bind(role.as_str())
        .bind(hash)
        .bind(created_at)
        .bind(disabled_at)
        .fetch_one(&mut **tx)
        .await?))
    }

    pub async fn job_exists(&mut self, job_id: &str) -> Result<bool> {
        let n: i64 = on_tx!(self, |tx| sqlx::query_scalar(
            "SELECT COUNT(*) FROM build_jobs WHERE job_id = $1"
        )
        .bind(job_id)
        .fetch_one(&mut **tx)
        .await?);
        Ok(n > 0)
    }

    /// Insert a finished job. No outbox event is written: these state changes happened
    /// long ago elsewhere and must not reach today's webhooks.
    pub async fn insert_job(&mut self, job: &NewJob) -> Result<()> {
        on_tx!(self, |tx| sqlx::query(&format!(
            "INSERT INTO build_jobs (
                job_id, seq, status, progress, motherboard_model, base_image, customer_name,
                image_index, driver_set, langpacks, updates, software, answer_file,
                product_key, key_variants, create_iso, compression, log_level, created_by,
                created_at, started_at, finished_at, attempt, run_after, error, warnings)
             VALUES ($1, {seq}, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'key',
                     $14, 'lzx', $15, $16, $17, $18, $19, $20, $17, $21, $22)",
            seq = b::NEXT_JOB_SEQ
        ))
        .bind(&job.job_id)
        .bind(job.status.as_str())
        .bind(job.progress)
        .bind(&job.motherboard_model)
        .bind(&job.base_image)
        .bind(&job.customer_name)
        .bind(&job.image_index)
        .bind(&job.driver_set)
        .bind(&job.langpacks)
        .bind(&job.updates)
        .bind(&job.software)
        .bind(&job.answer_file)
        .bind(&job.product_key)
        .bind(job.create_iso)
        .bind(job.log_level)
        .bind(&job.created_by)
        .bind(job.created_at)
        .bind(job.started_at)
        .bind(job.finished_at)
        .bind(i64::from(job.started_at.is_some()))
        .bind(&job.error)
        .bind(&job.warnings)
        .execute(&mut **tx)
        .await
        .map(|_| ())?);
        Ok(())
    }

    pub async fn insert_log(
        &mut self,
        job_id: &str,
        seq: i64,
        ts: i64,
        level: &str,
        stage: Option<&str>,
        message: &str,
    ) -> Result<()> {
        on_tx!(self, |tx| sqlx::query(
            "INSERT INTO job_logs (job_id, seq, ts, level, stage, message)
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(job_id)
        .bind(seq)
        .bind(ts)
        .bind(level)
        .bind(stage)
        .bind(message)
        .execute(&mut **tx)
        .await
        .map(|_| ())?);
        Ok(())
    }

    pub async fn insert_webhook(&mut self, hook: &NewHook) -> Result<i64> {
        Ok(on_tx!(self, |tx| sqlx::query_scalar(
            "INSERT INTO webhooks (url, events, secret, format, created_by, created_at, active)
             VALUES ($1, $2, $3, 'json', $4, $5, $6) RETURNING id"
        )
        .bind(&hook.url)
        .bind(&hook.events)
        .bind(&hook.secret)
        .bind(&hook.created_by)
        .bind(hook.created_at)
        .bind(hook.active)
        .fetch_one(&mut **tx)
        .await?))
    }
}
