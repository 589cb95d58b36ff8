//! The data directory, repository and database that every subcommand works on.

use std::path::PathBuf;

use anyhow::Context;
use wait_catalog::Repository;
use wait_store::Store;

use crate::cli::Common;

#[derive(Debug)]
pub struct Env {
    pub data_dir: PathBuf,
    pub repo: Repository,
    pub store: Store,
    database: String,
}

impl Env {
    /// Create what is missing (data dir, repository folders, database schema) and open it.
    pub async fn open(common: &Common) -> anyhow::Result<Self> {
        Self::open_with(common, true).await
    }

    /// For worker processes: an explicitly given repository (usually a shared mount) is
    /// opened, never created. On an empty mount point, creating the folders would put a
    /// local look-alike repository under it; opening leaves the worker to wait, with a
    /// warning each poll, until the share is there. The default repository inside the
    /// data directory is local and still created.
    pub async fn open_for_worker(common: &Common) -> anyhow::Result<Self> {
        Self::open_with(common, common.repository.is_none()).await
    }

    async fn open_with(common: &Common, create_repository: bool) -> anyhow::Result<Self> {
        let data_dir = common.data_dir.clone();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let repo_root = common
            .repository
            .clone()
            .unwrap_or_else(|| data_dir.join("WAIT_Repository"));
        let repo = if create_repository {
            Repository::init(&repo_root)?
        } else {
            Repository::open(&repo_root)?
        };
        let (store, database) = match &common.database_url {
            Some(url) => (Store::open_url(url).await?, url.clone()),
            None => {
                let file = data_dir.join("wait.db");
                (
                    Store::open_sqlite(&file).await?,
                    format!("sqlite://{}", file.display()),
                )
            }
        };
        Ok(Self {
            data_dir,
            repo,
            store,
            database,
        })
    }

    pub fn database_display(&self) -> &str {
        &self.database
    }

    pub fn work_dir(&self) -> PathBuf {
        self.data_dir.join("work")
    }
}

/// A worker name unique across hosts and processes: `<host>-<pid>-<n>`.
pub fn worker_name(n: u32) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_string());
    format!("{host}-{}-{n}", std::process::id())
}
