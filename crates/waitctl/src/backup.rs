//! `waitctl backup --output FILE`: a consistent copy of the SQLite database, safe to take
//! while `serve` and workers write. The copy is written next to FILE under a temporary
//! name, checked, and only then renamed into place, so FILE is never a half-written or
//! unchecked database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;

use crate::cli::Common;
use crate::migrate::{database_url, open_unmigrated, strip_password};

/// Exit code when the database is not one this command can copy (PostgreSQL).
const NOT_SQLITE: u8 = 2;

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub common: Common,
    /// The backup file to write.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let (url, default_file) = database_url(&args.common);
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        eprintln!(
            "error: the database is PostgreSQL; back it up with pg_dump, e.g.\n  {}\n\
             (pg_dump asks for the password, or reads PGPASSWORD or ~/.pgpass)",
            pg_dump_command(&url, &args.output)
        );
        return Ok(ExitCode::from(NOT_SQLITE));
    }
    let source = default_file.clone().or_else(|| sqlite_path(&url));
    if let Some(file) = &source
        && !file.is_file()
    {
        bail!("no database at {} (nothing to back up)", file.display());
    }
    let output = &args.output;
    if output.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to replace it",
            output.display()
        );
    }
    if let Some(file) = &source
        && same_file(file, output)
    {
        bail!("--output {} is the database itself", output.display());
    }
    let partial = partial_name(output)?;
    // A leftover of an interrupted run of this same command (the name carries our pid).
    let _ = std::fs::remove_file(&partial);
    // Opened without migrating: a backup must capture the database as it is, which is
    // what makes it useful before an upgrade.
    let store = open_unmigrated(&url, default_file.as_deref())
        .await
        .with_context(|| format!("cannot open the database {}", strip_password(&url)))?;
    let result = store.backup_sqlite(&partial).await;
    store.close().await;
    let info = match result {
        Ok(info) => info,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(
                anyhow::Error::new(e).context(format!("backup to {} failed", output.display()))
            );
        }
    };
    if output.exists() && !args.force {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "{} appeared while the backup ran; pass --force to replace it",
            output.display()
        );
    }
    std::fs::rename(&partial, output)
        .with_context(|| format!("cannot move the backup into place at {}", output.display()))?;
    println!(
        "backup: {} ({} bytes, {} job(s)); integrity check: ok",
        output.display(),
        info.bytes,
        info.jobs
    );
    Ok(ExitCode::SUCCESS)
}

/// The shell command that dumps `url` into `output` (password removed: pg_dump must not
/// get it on the command line, where other users can read it).
pub fn pg_dump_command(url: &str, output: &Path) -> String {
    format!(
        "pg_dump --format=custom --file={} {}",
        shell_quote(&output.display().to_string()),
        shell_quote(&strip_password(url))
    )
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:@=,+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The file of a `sqlite:` URL (`sqlite://path`, `sqlite:path`, with or without options).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `DIR/.NAME.partial-PID` next to the output, so the final rename stays on one file
/// system.
fn partial_name(output: &Path) -> anyhow::Result<PathBuf> {
    let name = output
        .file_name()
        .with_context(|| format!("--output {} names no file", output.display()))?;
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!("the folder {} of --output does not exist", dir.display());
    }
    Ok(dir.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_dump_command_has_no_password() {
        let cmd = pg_dump_command(
            "postgres://wait:s3cret@db.example:5432/wait",
            Path::new("/backups/wait.dump"),
        );
        assert_eq!(
            cmd,
            "pg_dump --format=custom --file=/backups/wait.dump postgres://wait@db.example:5432/wait"
        );
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite:///srv/w.db?mode=rwc"),
            Some(PathBuf::from("/srv/w.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}
