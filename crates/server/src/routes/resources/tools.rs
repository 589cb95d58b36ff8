//! `GET /api/resources/tools`: the files in `7_Tools/`.

use serde::Serialize;
use wait_catalog::Repository;

use super::tree;
use crate::error::ApiError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Tools {
    pub tools: Vec<ToolEntry>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ToolEntry {
    /// Repository-relative path.
    pub path: String,
    /// File name.
    pub name: String,
    pub size: u64,
}

pub(super) fn tools(repo: &Repository) -> Result<Tools, ApiError> {
    let dir = repo.root().join("7_Tools");
    let tools = tree::files_below(&dir)?
        .into_iter()
        .map(|(rel, size)| ToolEntry {
            name: rel.rsplit('/').next().unwrap_or(&rel).to_string(),
            path: format!("7_Tools/{rel}"),
            size,
        })
        .collect();
    Ok(Tools { tools })
}
