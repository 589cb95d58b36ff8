//! SIGHUP: read the config file again and apply what a running process can change.
//! Today that is the log filter; every other changed setting is named in a warning as
//! needing a restart, so an operator is not left guessing whether an edit took effect.

use super::{Context, Settings, logging};

/// Keys applied without a restart.
const LIVE: [&str; 1] = ["log.level"];

/// Keys whose value differs between `old` and `new` (secrets compared, never printed).
pub fn changed_keys(old: &Settings, new: &Settings) -> Vec<&'static str> {
    old.entries()
        .into_iter()
        .zip(new.entries())
        .filter(|(a, b)| a.value != b.value)
        .map(|(a, _)| a.key)
        .collect()
}

/// Watch SIGHUP for the rest of the process (serve and worker). The handler is in place
/// when this returns (SIGHUP's default action would end the process).
pub fn on_sighup(ctx: Context) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGHUP; the config file is read at start only");
                return;
            }
        };
        tokio::spawn(async move {
            let mut current = ctx.settings.clone();
            while hup.recv().await.is_some() {
                if let Some(next) = reload_once(&ctx, &current) {
                    current = next;
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = ctx;
}

fn reload_once(ctx: &Context, current: &Settings) -> Option<Settings> {
    let Some(path) = ctx.config_file() else {
        tracing::warn!("SIGHUP: no config file in use (--config, WAIT_CONFIG); nothing to re-read");
        return None;
    };
    let next = match ctx.reload() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("SIGHUP: config file not applied, the running settings stay: {e}");
            return None;
        }
    };
    let changed = changed_keys(current, &next);
    let (live, restart): (Vec<&str>, Vec<&str>) = changed.iter().partition(|k| LIVE.contains(k));
    if live.contains(&"log.level") {
        if let Err(e) = logging::set_filter(&next.log_level.value) {
            tracing::error!("SIGHUP: log.level not applied: {e}");
        }
    }
    // Logged after the new filter is in place, so a raised level shows this line.
    let file = path.display().to_string();
    if restart.is_empty() {
        tracing::info!(
            file,
            applied = %live.join(", "),
            "SIGHUP: config file re-read; changed and applied: [{}]",
            live.join(", ")
        );
    } else {
        tracing::warn!(
            file,
            applied = %live.join(", "),
            restart_needed = %restart.join(", "),
            "SIGHUP: config file re-read; applied: [{}]; these need a restart: [{}]",
            live.join(", "),
            restart.join(", ")
        );
    }
    // Keep reporting the restart-only keys as pending until the process restarts: only
    // the live ones become current.
    let mut applied = current.clone();
    applied.log_level = next.log_level.clone();
    Some(applied)
}
