//! `waitctl login`: trade a user name and password for a session token and save it.

use std::io::{BufRead, Read, Write};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use reqwest::Method;
use reqwest::header::SET_COOKIE;
use serde_json::json;

use super::http::{Api, json_of};
use super::session::{ClientArgs, Session, login_server, save_session};

/// The cookie the server sets on login; its value is the session token.
const SESSION_COOKIE: &str = "wait_session";

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The user name.
    #[arg(long)]
    pub user: String,
    /// Read the password from standard input instead of the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

pub async fn run(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let password = if args.password_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the password from standard input")?;
        strip_newline(&input).to_string()
    } else {
        read_from_terminal()?
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    let server = login_server(&args.client);
    // no credential: login is the one call that needs none
    let api = Api::new(&server, None)?;
    let url = api.url(&["api", "auth", "login"], &[]);
    let resp = api
        .send(
            api.request(Method::POST, url)
                .json(&json!({"username": args.user, "password": password})),
            "login",
        )
        .await?;
    let token = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session_token)
        .with_context(|| format!("the server at {server} answered the login without a session"))?;
    let body = json_of(resp, "login").await?;
    let session = Session {
        server: api.server().to_string(),
        username: args.user.clone(),
        token,
    };
    let path = save_session(&session)?;
    if args.client.json {
        println!("{body}");
    } else {
        let role = body["user"]["role"].as_str().unwrap_or("?");
        println!(
            "logged in to {} as {} ({role}); session saved in {}",
            session.server,
            args.user,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The session token out of a `Set-Cookie` value, when it is the session cookie.
fn session_token(header: &str) -> Option<String> {
    let first = header.split(';').next()?.trim();
    let (name, value) = first.split_once('=')?;
    (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_string())
}

/// One trailing newline is what `echo` adds; it is not part of the password.
fn strip_newline(input: &str) -> &str {
    input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(input)
}

/// Prompt on the terminal with echo off (`stty`, so no terminal code of our own).
fn read_from_terminal() -> anyhow::Result<String> {
    let tty = || {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .context("no terminal to read the password from (use --password-stdin)")
    };
    let mut out = tty()?;
    let stty = |arg: &str| -> anyhow::Result<bool> {
        Ok(Command::new("stty")
            .arg(arg)
            .stdin(Stdio::from(tty()?))
            .status()
            .map(|s| s.success())
            .unwrap_or(false))
    };
    write!(out, "Password: ").context("cannot write to the terminal")?;
    out.flush().ok();
    let echo_off = stty("-echo")?;
    let mut line = String::new();
    let read = std::io::BufReader::new(tty()?).read_line(&mut line);
    if echo_off {
        stty("echo")?;
    }
    writeln!(out).ok();
    read.context("cannot read the password from the terminal")?;
    Ok(strip_newline(&line).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_found_among_set_cookie_values() {
        let cases = [
            (
                "wait_session=abc; HttpOnly; SameSite=Lax; Path=/",
                Some("abc"),
            ),
            ("other=1; Path=/", None),
            ("wait_session=; Max-Age=0", None),
            ("wait_sessionx=abc", None),
            ("garbage", None),
        ];
        for (header, want) in cases {
            assert_eq!(session_token(header).as_deref(), want, "{header}");
        }
    }

    #[test]
    fn one_trailing_newline_is_dropped() {
        assert_eq!(strip_newline("pw\n"), "pw");
        assert_eq!(strip_newline("pw\r\n"), "pw");
        assert_eq!(strip_newline("pw\n\n"), "pw\n");
        assert_eq!(strip_newline("pw"), "pw");
    }
}
