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
    /// A failure that may go away (a download, reading a medium): retried.
    #[error("{0}")]
    Transient(String),
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
    /// Whether trying again later may succeed. Bad requests and bad repository content
    /// fail the same way every time; I/O on the output side (a full disk, a vanished
    /// mount) and the database may recover.
    pub fn is_transient(&self) -> bool {
        use std::io::ErrorKind;
        use wait_wim::WimError;
        match self {
            Self::Cancelled | Self::Permanent(_) | Self::Catalog(_) | Self::Validation(_) => false,
            Self::Store(_) | Self::Transient(_) => true,
            Self::Io { source, .. } => !matches!(
                source.kind(),
                ErrorKind::NotFound
                    | ErrorKind::PermissionDenied
                    | ErrorKind::InvalidData
                    | ErrorKind::InvalidInput
            ),
            Self::Wim { source, .. } => matches!(source, WimError::Library { .. }),
        }
    }

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
