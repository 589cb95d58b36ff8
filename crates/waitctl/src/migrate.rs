//! `waitctl migrate [--dry-run]`: bring the database schema up to date on request and
//! say what was done. (`serve` and `worker` still migrate by themselves at start.)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use wait_store::{MigrationInfo, Store, StoreError};

use crate::cli::Common;

/// Exit code when the database belongs to a newer WAIT.
pub const SCHEMA_TOO_NEW: u8 = 2;

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub common: Common,
    /// List the migrations that would run, without running them.
    #[arg(long)]
    pub dry_run: bool,
}

/// The database a command works on: `--database-url`, else DATA_DIR/wait.db. The
/// second value is the SQLite file when it is the default one.
pub fn database_url(common: &Common) -> (String, Option<PathBuf>) {
    match &common.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let file = common.data_dir.join("wait.db");
            (format!("sqlite://{}", file.display()), Some(file))
        }
    }
}

/// Open without migrating: the default file by path (any characters allowed), else
/// the URL.
pub async fn open_unmigrated(url: &str, file: Option<&Path>) -> wait_store::Result<Store> {
    match file {
        Some(file) => Store::open_sqlite_unmigrated(file).await,
        None => Store::open_url_unmigrated(url).await,
    }
}

/// The URL without its password (user info or `password=` parameter), for messages
/// and for commands the operator copies.
pub fn strip_password(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let start = scheme_end + 3;
        let end = out[start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@')
            && let Some(colon) = out[start..start + at].find(':')
        {
            out.replace_range(start + colon..start + at, "");
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q);
        let kept: Vec<&str> = query[1..]
            .split('&')
            .filter(|pair| {
                let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
                !key.eq_ignore_ascii_case("password") && !pair.is_empty()
            })
            .collect();
        out = if kept.is_empty() {
            head.to_string()
        } else {
            format!("{head}?{}", kept.join("&"))
        };
    }
    out
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let (url, default_file) = database_url(&args.common);
    let shown = strip_password(&url);
    if let Some(file) = &default_file {
        if args.dry_run && !file.exists() {
            println!("database: {shown} (does not exist yet)");
            print_list("would apply", &Store::known_migrations());
            return Ok(ExitCode::SUCCESS);
        }
        std::fs::create_dir_all(&args.common.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                args.common.data_dir.display()
            )
        })?;
    }
    let store = open_unmigrated(&url, default_file.as_deref())
        .await
        .with_context(|| format!("cannot open the database {shown}"))?;
    let code = migrate_store(&store, &shown, args.dry_run).await;
    store.close().await;
    code
}

async fn migrate_store(store: &Store, shown: &str, dry_run: bool) -> anyhow::Result<ExitCode> {
    let status = store.schema_status().await?;
    println!("database: {shown}");
    if status.too_new() {
        return Ok(too_new(status.current, status.supported));
    }
    if dry_run {
        println!(
            "schema version: {} (this waitctl supports up to {})",
            status.current, status.supported
        );
        if status.pending.is_empty() {
            println!("up to date: nothing to apply");
        } else {
            print_list("would apply", &status.pending);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = match store.migrate().await {
        Ok(report) => report,
        Err(StoreError::SchemaTooNew { found, supported }) => return Ok(too_new(found, supported)),
        Err(e) => return Err(e.into()),
    };
    println!("schema version before: {}", report.before);
    if report.applied.is_empty() {
        println!("up to date: nothing to apply");
    } else {
        print_list("applied", &report.applied);
    }
    println!("schema version after: {}", report.after);
    Ok(ExitCode::SUCCESS)
}

fn print_list(verb: &str, migrations: &[MigrationInfo]) {
    println!("{verb} {} migration(s):", migrations.len());
    for m in migrations {
        println!("  {:04} {}", m.version, m.description);
    }
}

fn too_new(found: i64, supported: i64) -> ExitCode {
    eprintln!(
        "error: the database schema is at version {found}, newer than this waitctl \
         supports (up to version {supported}); it was migrated by a newer WAIT. Use that \
         version, or restore a backup taken before the upgrade. Nothing was changed."
    );
    ExitCode::from(SCHEMA_TOO_NEW)
}

#[cfg(test)]
mod tests {
    use super::strip_password;

    #[test]
    fn passwords_are_removed_not_masked() {
        assert_eq!(
            strip_password("postgres://wait:s3cret@db:5432/wait?sslmode=require&password=x"),
            "postgres://wait@db:5432/wait?sslmode=require"
        );
        assert_eq!(strip_password("postgres://db/wait"), "postgres://db/wait");
        assert_eq!(
            strip_password("postgres://u:p@db/w?password=p"),
            "postgres://u@db/w"
        );
    }
}
