//! ISO 9660/UDF reading and bootable ISO authoring.
//!
//! Not built yet: the pipeline refuses ISO input and output with a clear
//! "not supported yet" error until this crate can do both.

/// Errors of the media crate.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("not supported yet: {0}")]
    NotSupported(&'static str),
}
