//! `waitctl import-seed-db OLD.db [--dry-run]`: bring users, jobs with their logs, and
//! webhooks over from the original WAIT database. Safe to run again: rows imported
//! before are recognised and left alone.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::cli::Common;
use crate::env::Env;

#[derive(Debug, Clone, Args)]
pub struct ImportSeedArgs {
    #[command(flatten)]
    pub common: Common,
    /// The original WAIT SQLite database (read only; never changed).
    #[arg(value_name = "OLD.db")]
    pub old_db: PathBuf,
    /// Print what would be imported and skipped, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(args: ImportSeedArgs) -> anyhow::Result<ExitCode> {
    let env = Env::open(&args.common).await?;
    let summary = env
        .store
        .import_seed_db(&args.old_db, args.dry_run)
        .await
        .with_context(|| format!("cannot import {}", args.old_db.display()));
    env.store.close().await;
    print!("{}", summary?);
    Ok(ExitCode::SUCCESS)
}
