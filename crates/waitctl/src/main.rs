//! `waitctl`: the one WAIT binary. It parses the command line, sets up logging and hands
//! over to the libraries; nothing here builds images or speaks HTTP itself.

mod backup;
mod bench;
mod bench_build;
mod bench_repo;
mod cli;
mod client;
mod config;
mod demo;
mod env;
mod image;
mod import_seed;
mod iso;
mod migrate;
mod openapi_cmd;
mod repo;
mod run;
mod token;
mod user;
mod validate;

use clap::FromArgMatches;

/// Exit code of a configuration that cannot be used (as for a command-line error).
const CONFIG_ERROR: u8 = 2;

fn main() -> std::process::ExitCode {
    quiet_when_stdout_closes();
    // The config file is read before the flags are parsed: its values become the
    // flags' defaults. A broken file still lets `--help` through, then fails.
    let loaded = config::Loaded::from_process();
    let empty = config::Loaded::default();
    let matches = config::inject::command(loaded.as_ref().unwrap_or(&empty)).get_matches();
    let mut cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let context = loaded.and_then(|l| config::Context::new(l, &matches));
    let context = match context {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(CONFIG_ERROR);
        }
    };
    config::logging::init(&context.settings);
    cli.context = Some(context);
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

/// `waitctl … | head` closes stdout early, and the next `println!` panics with "failed
/// printing to stdout: Broken pipe". Like other Unix tools, end quietly instead, with
/// the status a process killed by SIGPIPE would have (128 + 13).
fn quiet_when_stdout_closes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
