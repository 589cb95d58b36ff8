//! `waitctl token create | list | revoke`: API tokens for scripts and CI, managed on the
//! database directly (no running server needed).
//!
//! `create` prints the token and nothing else on standard output, so
//! `TOKEN=$(waitctl token create --user ci --name nightly)` captures exactly the secret.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wait_store::ApiToken;

use crate::cli::Common;
use crate::env::Env;

/// Longest token lifetime, in days (the API allows the same).
const MAX_DAYS: u32 = 3650;

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it (shown this once; only a hash is kept).
    Create {
        #[command(flatten)]
        common: Common,
        /// The user the token acts as (with that user's role).
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. "nightly build".
        #[arg(long)]
        name: String,
        /// Days until the token expires (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_DAYS)))]
        expires_days: Option<u32>,
    },
    /// List a user's tokens (never their secrets).
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        user: String,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        #[command(flatten)]
        common: Common,
        id: i64,
    },
}

pub async fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            common,
            user,
            name,
            expires_days,
        } => {
            let env = Env::open(&common).await?;
            let owner = find_user(&env, &user).await?;
            let ttl = expires_days.map(|d| Duration::from_secs(u64::from(d) * 86_400));
            let (_, secret) = env.store.issue_api_token(owner, &name, ttl).await?;
            println!("{secret}");
        }
        TokenCommand::List { common, user } => {
            let env = Env::open(&common).await?;
            let owner = find_user(&env, &user).await?;
            let tokens = env.store.list_api_tokens(owner).await?;
            if tokens.is_empty() {
                println!("no tokens for {user}");
            }
            let now = OffsetDateTime::now_utc();
            for token in &tokens {
                println!("{}", describe(token, now));
            }
        }
        TokenCommand::Revoke { common, id } => {
            let env = Env::open(&common).await?;
            let token = env.store.revoke_api_token(id).await?;
            println!("revoked token {} ({})", token.id, token.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn find_user(env: &Env, name: &str) -> anyhow::Result<i64> {
    match env.store.get_user(name).await? {
        Some(user) => Ok(user.id),
        None => bail!("no user named {name:?} (add one with `waitctl user add`)"),
    }
}

fn when(t: Option<OffsetDateTime>) -> String {
    match t {
        // RFC 3339 fails only outside years 0..=9999; the plain form still says when
        Some(t) => t.format(&Rfc3339).unwrap_or_else(|_| t.to_string()),
        None => "-".to_string(),
    }
}

/// One line per token: id, state, name, then its dates.
fn describe(t: &ApiToken, now: OffsetDateTime) -> String {
    let state = if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    };
    let created = when(Some(t.created_at));
    let expires = when(t.expires_at);
    let used = when(t.last_used_at);
    format!(
        "{:>5}  {state:<7}  {}  created {created}  expires {expires}  last used {used}",
        t.id, t.name
    )
}
