use std::path::PathBuf;

/// Why a build or validation failed.
///
/// `Permanent` errors come from the request or the repository content (retrying cannot
/// help); `Io`/`Wim` errors may be transient (a full disk, a vanished mount).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Permanent(String),
    #[error(transparent)]
    Catalog(#[from] wait_catalog::CatalogError),
    #[error("{context}: {source}")]
    Wim {
        context: String,
        #[source]
        source: wait_wim::WimError,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] wait_store::StoreError),
    #[error("validation failed: {0}")]
    Validation(String),
}

impl PipelineError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn wim(context: impl Into<String>, source: wait_wim::WimError) -> Self {
        if matches!(source, wait_wim::WimError::Aborted) {
            return Self::Cancelled;
        }
        Self::Wim {
            context: context.into(),
            source,
        }
    }
}
