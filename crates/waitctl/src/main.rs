//! `waitctl`: the one WAIT binary. It parses the command line, sets up logging and hands
//! over to the libraries; nothing here builds images or speaks HTTP itself.

mod bench;
mod bench_build;
mod bench_repo;
mod cli;
mod client;
mod demo;
mod env;
mod image;
mod iso;
mod repo;
mod run;
mod token;
mod user;
mod validate;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Structured lines on stderr; `WAIT_LOG` (or `RUST_LOG`) sets the filter.
fn init_logging() {
    let filter = std::env::var("WAIT_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
