//! `waitctl user add`.

use std::io::Read;

use anyhow::{Context, bail};
use wait_store::Role;

use crate::cli::Common;
use crate::env::Env;

pub async fn add(common: &Common, name: &str, role: &str) -> anyhow::Result<()> {
    let role = Role::parse(role).with_context(|| format!("unknown role {role:?}"))?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    // One trailing newline is what `echo` and here-strings add; it is not part of the password.
    let password = input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&input);
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    let env = Env::open(common).await?;
    let user = env.store.create_user(name, role, password).await?;
    println!("added user {} ({})", user.username, user.role.as_str());
    Ok(())
}
