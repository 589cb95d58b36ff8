//! Finished builds under `8_Output/<customer>/<folder>/`, as the API serves them: the
//! listing, names from URLs that cannot leave `8_Output/`, single files with ranges and
//! validators, and the whole folder as one streamed ZIP.
//!
//! Everything here reads; nothing writes to the repository.

mod body;
pub mod bundle;
pub mod file;
pub mod listing;
pub mod manifest;
pub mod names;
pub mod range;
pub mod zip;

use std::path::PathBuf;

use axum::http::StatusCode;

use crate::error::ApiError;

pub use listing::{CustomerOutputs, FileEntry, OutputEntry, VariantEntry, list_outputs};
pub use names::{OutputFolder, PlainName, resolve_folder};

/// Why an output or one of its files cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A name from the request is not a single plain path component.
    #[error("{field}: {reason}")]
    BadName {
        field: &'static str,
        reason: &'static str,
    },
    /// The output, the file or the variant does not exist (or is not servable, such as
    /// a folder that is a link out of `8_Output/`).
    #[error("{message}")]
    NotFound {
        field: Option<&'static str>,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl OutputError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        OutputError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        OutputError::NotFound {
            field: None,
            message: message.into(),
        }
    }
}

impl From<OutputError> for ApiError {
    fn from(e: OutputError) -> Self {
        match e {
            OutputError::BadName { field, .. } => {
                let message = e.to_string();
                ApiError::bad_request("invalid_path", message).with_field(field)
            }
            OutputError::NotFound { field, message } => {
                let err = ApiError::new(StatusCode::NOT_FOUND, "not_found", message);
                match field {
                    Some(field) => err.with_field(field),
                    None => err,
                }
            }
            other @ OutputError::Io { .. } => ApiError::internal(other),
        }
    }
}
