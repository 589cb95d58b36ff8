//! Import of the original WAIT database (SQLite: users, build_jobs, job_logs,
//! webhooks) into this store.
//!
//! The original's documentation names its tables but few of its columns, so each field
//! accepts the documented name and the usual variants (`source::Field`); a field with no
//! column is reported, not guessed. Every imported row is recorded in `seed_import` by
//! its old id, which makes a second run skip it: the import is idempotent. All writes
//! happen in one transaction; a dry run does the same work and rolls it back, so its
//! summary is exactly what a real run would do.

mod convert;
mod jobs;
mod source;
mod tables;
mod write;

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::{Result, Store};
use source::SeedDb;
use write::ImportTx;

/// The tables read, in import order (jobs name users; logs belong to jobs).
pub const SEED_TABLES: [&str; 4] = ["users", "build_jobs", "job_logs", "webhooks"];

/// What happened to one table of the old database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableSummary {
    pub table: &'static str,
    /// False when the old database has no such table.
    pub found: bool,
    pub imported: u64,
    /// Rows imported by an earlier run, left alone.
    pub already_imported: u64,
    pub skipped: u64,
    /// Fields for which no accepted column name exists in the old table.
    pub missing_columns: Vec<&'static str>,
    /// One line per skipped or altered row, saying why.
    pub notes: Vec<String>,
}

impl TableSummary {
    fn new(table: &'static str) -> Self {
        TableSummary {
            table,
            ..TableSummary::default()
        }
    }

    fn skip(&mut self, why: String) {
        self.skipped += 1;
        self.notes.push(format!("skipped: {why}"));
    }
}

/// The result of `Store::import_seed_db`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Nothing was written.
    pub dry_run: bool,
    pub tables: Vec<TableSummary>,
}

impl ImportSummary {
    pub fn table(&self, name: &str) -> Option<&TableSummary> {
        self.tables.iter().find(|t| t.table == name)
    }
}

/// Notes printed per table before the rest is counted, so a huge old database does not
/// flood the terminal.
const MAX_NOTES_SHOWN: usize = 50;

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(f, "dry run: nothing was written")?;
        }
        for t in &self.tables {
            if !t.found {
                writeln!(f, "{}: not in the old database", t.table)?;
                continue;
            }
            writeln!(
                f,
                "{}: imported {}, already imported {}, skipped {}",
                t.table, t.imported, t.already_imported, t.skipped
            )?;
            if !t.missing_columns.is_empty() {
                writeln!(f, "  no column for: {}", t.missing_columns.join(", "))?;
            }
            for note in t.notes.iter().take(MAX_NOTES_SHOWN) {
                writeln!(f, "  - {note}")?;
            }
            if t.notes.len() > MAX_NOTES_SHOWN {
                writeln!(f, "  … and {} more", t.notes.len() - MAX_NOTES_SHOWN)?;
            }
        }
        Ok(())
    }
}

impl Store {
    /// Import the original WAIT SQLite database at `path`. `dry_run` computes the same
    /// summary and writes nothing. A file that is missing, not SQLite, or has none of
    /// the four tables is refused with `Invalid` naming it; anything wrong inside a row
    /// skips or adjusts that row and says so in the summary.
    pub async fn import_seed_db(&self, path: &Path, dry_run: bool) -> Result<ImportSummary> {
        let seed = SeedDb::open(path).await?;
        let result = self.import_from(&seed, path, dry_run).await;
        seed.close().await;
        result
    }

    async fn import_from(
        &self,
        seed: &SeedDb,
        path: &Path,
        dry_run: bool,
    ) -> Result<ImportSummary> {
        let users = seed.columns("users").await?;
        let jobs = seed.columns("build_jobs").await?;
        let logs = seed.columns("job_logs").await?;
        let hooks = seed.columns("webhooks").await?;
        if [&users, &jobs, &logs, &hooks].iter().all(|c| c.is_none()) {
            return Err(crate::StoreError::Invalid {
                field: "seed database",
                message: format!(
                    "{}: none of the tables {} exists; is this the original WAIT database?",
                    path.display(),
                    SEED_TABLES.join(", ")
                ),
            });
        }
        // Computed before the write lock is taken: hashing takes a while.
        let locked_hash = crate::hash_password(&random_secret()).await?;
        let mut tx = ImportTx::begin(self.pool()).await?;
        let run = async {
            let (user_summary, usernames) =
                tables::import_users(seed, users.as_deref(), &mut tx, &locked_hash).await?;
            let (job_summary, log_summary) =
                jobs::import_jobs(seed, jobs.as_deref(), logs.as_deref(), &mut tx, &usernames)
                    .await?;
            let hook_summary =
                tables::import_webhooks(seed, hooks.as_deref(), &mut tx, &usernames).await?;
            Ok::<_, crate::StoreError>(vec![user_summary, job_summary, log_summary, hook_summary])
        }
        .await;
        match run {
            Ok(tables) => {
                tx.finish(!dry_run).await?;
                Ok(ImportSummary { dry_run, tables })
            }
            Err(e) => {
                // The error is what the caller needs; a failed rollback adds nothing.
                let _ = tx.finish(false).await;
                Err(e)
            }
        }
    }
}

/// A secret nobody knows, for accounts that must not log in until an admin sets a
/// password.
fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}
