//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the API, built from the code.
//!
//! `operations.rs` describes each route (parameters, body, answers, the errors its
//! handler can return); the role each needs comes from `routes::table::ROUTES`, so the
//! document and the access checks cannot disagree; the schemas are derived from the
//! types the handlers serialise (`schemas.rs`). `tests/openapi.rs` fails when a route of
//! the table is missing here or one is documented that is not routed, and
//! `tests/openapi_answers.rs` checks real answers against the schemas.

mod build;
pub(crate) mod mirrors;
mod operations;
mod requests;
mod schemas;
mod table_jobs;
mod table_service;

use axum::Json;
use axum::http::Method;
use utoipa::openapi::path::{HttpMethod, PathsBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};

use crate::routes::table::{Access, ROUTES};

/// The document's own path.
pub const PATH: &str = "/api/openapi.json";

/// The handler of `GET /api/openapi.json` (routed in `routes/mod.rs`).
pub async fn serve() -> Json<OpenApi> {
    Json(document())
}

/// The access a documented route needs, from the routing table.
fn access(method: &Method, path: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|r| r.method == *method && r.path == path)
        .map(|r| r.access)
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new().build();
    for op in operations::all() {
        if let (Some(method), Some(access)) = (http_method(&op.method), access(&op.method, op.path))
        {
            paths.add_path_operation(op.path, vec![method], build::operation(op, access));
        }
    }
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas::components())
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::SESSION_COOKIE))),
        )
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("WAIT API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Errors answer `{\"error\": {\"code\", \"message\", \"field\"?}}`. \
                     Changes made with the session cookie need a same-origin `Origin`.",
                ))
                .build(),
        )
        .tags(Some(build::TAGS.iter().map(|(name, description)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*description))
                .build()
        })))
        .paths(paths)
        .components(Some(components))
        .build()
}

fn http_method(method: &Method) -> Option<HttpMethod> {
    Some(match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        _ => return None,
    })
}

/// Every (method, path) this document describes, for the test that compares it with
/// the routing table.
pub fn operations() -> impl Iterator<Item = (Method, &'static str)> {
    operations::all().map(|o| (o.method.clone(), o.path))
}
