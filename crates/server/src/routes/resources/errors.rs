//! Catalog errors as answers of the resource endpoints, naming the query parameter the
//! request used (`motherboard`, `base_image`, `index`) rather than the catalog's field.

use axum::http::StatusCode;
use wait_catalog::CatalogError;

use crate::error::ApiError;

/// 404 for a name that resolves to nothing, 422 for a malformed or unusable one, 500 for
/// a repository that cannot be read (logged, not shown).
pub(super) fn catalog_error(param: &'static str, e: CatalogError) -> ApiError {
    match e {
        CatalogError::NotFound { name, .. } => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{param}: {name:?} not found in the repository"),
        )
        .with_field(param),
        CatalogError::Invalid { message, .. } => {
            ApiError::invalid(param, "invalid_value", format!("{param}: {message}"))
        }
        CatalogError::Escapes { .. } => ApiError::invalid(
            param,
            "invalid_path",
            format!("{param}: path leaves the repository"),
        ),
        CatalogError::Incompatible { reason, .. } => {
            ApiError::invalid(param, "incompatible", format!("{param}: {reason}"))
        }
        e @ CatalogError::Wim { .. } => {
            tracing::warn!(error = %e, param, "repository file cannot be read");
            ApiError::invalid(
                param,
                "unreadable",
                format!("{param}: the file cannot be read as an image"),
            )
        }
        other => ApiError::internal(other),
    }
}

/// The repository itself could not be read (a listing, not one named entry).
pub(super) fn unreadable(e: CatalogError) -> ApiError {
    ApiError::internal(e)
}
