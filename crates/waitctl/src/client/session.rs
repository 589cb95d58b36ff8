//! Which server to talk to and with what credential: `--server`/`WAIT_SERVER`,
//! `--token`/`WAIT_TOKEN`, else the session saved by `waitctl login` in
//! `$XDG_CONFIG_HOME/wait/session.json` (default `~/.config/wait/session.json`, mode 0600).
//! The file holds the server URL and the session token, never the password.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::http::Api;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Connection flags shared by every client command.
#[derive(Clone, clap::Args)]
pub struct ClientArgs {
    /// The WAIT server (default: the one of the saved login, else http://127.0.0.1:8080).
    #[arg(long, env = "WAIT_SERVER", global = true)]
    pub server: Option<String>,
    /// An API token (`wait_…`); without it the session saved by `waitctl login` is used.
    #[arg(long, env = "WAIT_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the server's JSON objects (one per line for streams) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

impl fmt::Debug for ClientArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientArgs")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("json", &self.json)
            .finish()
    }
}

/// What `waitctl login` keeps.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub server: String,
    pub username: String,
    pub token: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// `$XDG_CONFIG_HOME/wait/session.json`, or `$HOME/.config/wait/session.json`.
pub fn session_path() -> anyhow::Result<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        // the XDG rule: a relative value is ignored
        Some(dir) if dir.is_absolute() => dir,
        _ => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => bail!("neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep the session"),
        },
    };
    Ok(config.join("wait").join("session.json"))
}

pub fn load_session() -> anyhow::Result<Option<Session>> {
    let path = session_path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let session = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a saved session (run `waitctl login` again)",
            path.display()
        )
    })?;
    Ok(Some(session))
}

/// Write the session readable by its owner only; written beside and renamed so a
/// crash never leaves half a file.
pub fn save_session(session: &Session) -> anyhow::Result<PathBuf> {
    let path = session_path()?;
    let dir = path
        .parent()
        .with_context(|| format!("{} has no parent folder", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    // the mode above is filtered by the umask; 0600 is what we promise
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", tmp.display()))?;
    let text = serde_json::to_string_pretty(session).context("cannot encode the session")?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path)
        .with_context(|| format!("cannot move the session into {}", path.display()))?;
    Ok(path)
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The server and credential for one command. The saved session is only sent to the
/// server it was issued by.
pub fn connect(args: &ClientArgs) -> anyhow::Result<Api> {
    let session = if args.token.is_some() {
        None
    } else {
        load_session()?
    };
    let server = match (&args.server, &session) {
        (Some(s), _) => s.clone(),
        (None, Some(session)) => session.server.clone(),
        (None, None) => DEFAULT_SERVER.to_string(),
    };
    let bearer = match (&args.token, session) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(s)) if same_server(&s.server, &server) => Some(s.token),
        _ => None,
    };
    Ok(Api::new(&server, bearer)?)
}

/// The server for `login`: the flag, else the saved session's, else the default.
pub fn login_server(args: &ClientArgs) -> String {
    if let Some(s) = &args.server {
        return s.clone();
    }
    match load_session() {
        Ok(Some(s)) => s.server,
        _ => DEFAULT_SERVER.to_string(),
    }
}
