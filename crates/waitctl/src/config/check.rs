//! `waitctl config check`: is this configuration usable? Prints the effective settings
//! (secrets redacted, each with its source), then what the database and repository say.
//! Exit 0 when usable, 2 otherwise (like a usage error: the fix is in the settings).

use std::process::ExitCode;

use clap::Subcommand;
use wait_store::Store;

use super::{Context, Settings, redact_url, render_toml};
use crate::cli::{Common, WorkerArgs};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the settings serve and worker would run with (exit 0 valid, 2 not):
    /// print them as TOML with secrets redacted and each value's source, the database
    /// schema version against this binary's, and whether the repository exists.
    Check {
        // The flags of `serve`, so `config check` sees exactly what `serve` would.
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        worker: WorkerArgs,
        /// HTTP listen address.
        #[arg(long, env = "WAIT_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Serve the API only.
        #[arg(long)]
        no_worker: bool,
    },
}

pub async fn run(ctx: &Context, command: ConfigCommand) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Check { .. } = command;
    let settings = &ctx.settings;
    match &ctx.loaded.file {
        Some(f) => println!("# config file: {} (from {})", f.path.display(), f.named_by),
        None => {
            println!("# no config file (--config, WAIT_CONFIG): defaults, environment and flags")
        }
    }
    print!("{}", render_toml(settings));
    println!();
    let mut problems = Vec::new();
    match repository(settings) {
        Ok(line) => println!("# {line}"),
        Err(p) => problems.push(p),
    }
    match database(settings).await {
        Ok(line) => println!("# {line}"),
        Err(p) => problems.push(p),
    }
    if problems.is_empty() {
        println!("# configuration is valid");
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        eprintln!("error: {p}");
    }
    Ok(ExitCode::from(2))
}

fn repository(s: &Settings) -> Result<String, String> {
    let path = s
        .repository
        .value
        .clone()
        .unwrap_or_else(|| s.data_dir.value.join("WAIT_Repository"));
    if path.is_dir() {
        Ok(format!("repository: {} exists", path.display()))
    } else if path.exists() {
        Err(format!("repository {} is not a folder", path.display()))
    } else {
        Err(format!(
            "repository {} does not exist (create it with `waitctl init`, or mount it)",
            path.display()
        ))
    }
}

async fn database(s: &Settings) -> Result<String, String> {
    let url = match &s.database_url.value {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", s.data_dir.value.join("wait.db").display()),
    };
    let shown = redact_url(&url);
    // Opening a SQLite URL creates a missing file: look first, a check must not
    // leave files behind.
    if let Some(file) = sqlite_file(&url) {
        if !std::path::Path::new(file).exists() {
            return Ok(format!(
                "database: {shown} does not exist yet (created by `waitctl init` or at first start)"
            ));
        }
    }
    let store = Store::open_url_unmigrated(&url)
        .await
        .map_err(|e| format!("database {shown} cannot be opened: {e}"))?;
    let status = store.schema_status().await;
    store.close().await;
    let status =
        status.map_err(|e| format!("database {shown}: cannot read the schema version: {e}"))?;
    if status.too_new() {
        return Err(format!(
            "database {shown} has schema version {} but this waitctl knows only up to {}: \
             upgrade waitctl before running it against this database",
            status.current, status.supported
        ));
    }
    let pending = if status.pending.is_empty() {
        "up to date".to_string()
    } else {
        format!(
            "{} migration(s) pending, applied at start or by `waitctl migrate`",
            status.pending.len()
        )
    };
    Ok(format!(
        "database: {shown} schema version {} of {} ({pending})",
        status.current, status.supported
    ))
}

/// The file of a `sqlite:` URL, None for other databases and in-memory SQLite.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && !file.contains(":memory:")).then_some(file)
}
