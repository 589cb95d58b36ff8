//! The config file reaches every subcommand through clap: its values become the
//! defaults of the matching flags, so clap's own order (flag > `env` > default) gives
//! file < environment < flag for `init`, `user`, `token`, `repo`, `demo` … too, without
//! each of them knowing about the file.

use clap::{Arg, Command, CommandFactory};

use super::{Loaded, Partial, Render};

/// The `waitctl` command with the file's values as flag defaults.
pub fn command(loaded: &Loaded) -> Command {
    // `WAIT_<NAME>_FILE` secrets are not clap's own variables: they ride along as
    // defaults too (above the file, which they override).
    let defaults = loaded.env_layer.clone().over(loaded.file_layer.clone());
    with_defaults(crate::cli::Cli::command(), &defaults)
}

fn with_defaults(cmd: Command, d: &Partial) -> Command {
    cmd.mut_args(|a| default_for(a, d))
        .mut_subcommands(|s| with_defaults(s, d))
}

fn text<T: Render>(v: &T) -> Option<&'static str> {
    match v.render()? {
        toml::Value::String(s) => Some(leak(s)),
        other => Some(leak(other.to_string())),
    }
}

// clap keeps default values as `&'static str` (without its `string` feature); the few
// strings leaked here live as long as the process anyway.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn default_for(a: Arg, d: &Partial) -> Arg {
    let one = match a.get_id().as_str() {
        "data_dir" => d.data_dir.as_ref().and_then(|v| text(&v.value)),
        "repository" => d.repository.as_ref().and_then(|v| text(&v.value)),
        // Hidden: `--help` must not print a password.
        "database_url" => {
            let v = d.database_url.as_ref().and_then(|v| text(&v.value));
            return match v {
                Some(v) => a.default_value(v).hide_default_value(true),
                None => a,
            };
        }
        "bind" => d.bind.as_ref().and_then(|v| text(&v.value)),
        "no_worker" => d.no_worker.as_ref().and_then(|v| text(&v.value)),
        "concurrency" => d.concurrency.as_ref().and_then(|v| text(&v.value)),
        "lease_seconds" => d.lease_seconds.as_ref().and_then(|v| text(&v.value)),
        "drain_seconds" => d.drain_seconds.as_ref().and_then(|v| text(&v.value)),
        "download_allow_private" => d
            .download_allow_private
            .as_ref()
            .and_then(|v| text(&v.value)),
        "hooks" => {
            let specs: Vec<&'static str> = d
                .hooks
                .as_ref()
                .map(|v| v.value.iter().map(|s| leak(s.clone())).collect())
                .unwrap_or_default();
            return if specs.is_empty() {
                a
            } else {
                a.default_values(specs)
            };
        }
        _ => None,
    };
    match one {
        Some(v) => a.default_value(v),
        None => a,
    }
}
