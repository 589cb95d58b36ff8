//! Opening and creating the repository root with its eight folders.

use std::io;
use std::path::{Path, PathBuf};

use crate::{CatalogError, FOLDERS, Result};

/// The canonical root of an existing repository.
pub(crate) fn open(root: &Path) -> Result<PathBuf> {
    let meta = std::fs::metadata(root).map_err(|e| {
        let message = if e.kind() == io::ErrorKind::NotFound {
            "repository root does not exist (run `waitctl init` to create it)".to_string()
        } else {
            format!("cannot open the repository root: {e}")
        };
        CatalogError::io(root, io::Error::new(e.kind(), message))
    })?;
    if !meta.is_dir() {
        return Err(CatalogError::io(
            root,
            io::Error::new(
                io::ErrorKind::NotADirectory,
                "repository root is not a directory",
            ),
        ));
    }
    std::fs::canonicalize(root).map_err(|e| CatalogError::io(root, e))
}

/// Create the root and every folder that is missing; existing content is left alone.
pub(crate) fn init(root: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(root).map_err(|e| CatalogError::io(root, e))?;
    let root = open(root)?;
    for folder in FOLDERS {
        let dir = root.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| CatalogError::io(&dir, e))?;
    }
    Ok(root)
}
