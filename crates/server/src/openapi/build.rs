//! Turns one `operations::Operation` and the access its route needs into an OpenAPI
//! operation: parameters, body, answers (success by component reference, errors as the
//! shared `Error` shape) and security.

use axum::http::Method;
use utoipa::openapi::path::{self, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, KnownFormat, Ref, RefOr, Required, ResponseBuilder, SchemaFormat,
};
use wait_store::Role;

use super::operations::{Body, JSON, Kind, Operation, Success};
use crate::routes::table::Access;

/// The role sentence every operation's description starts with.
pub(crate) fn role_name(access: Access) -> &'static str {
    match access {
        Access::Public => "none (public)",
        Access::Role(Role::Viewer) => "viewer",
        Access::Role(Role::Builder) => "builder",
        Access::Role(Role::Admin) => "admin",
    }
}

/// The groups, in the order of `routes::table`, with what each covers.
pub(crate) const TAGS: &[(&str, &str)] = &[
    ("auth", "Signing in and out"),
    (
        "jobs",
        "Build jobs: create, read, follow, cancel, delete, clone",
    ),
    (
        "resources",
        "Read-only views of the repository, for request forms",
    ),
    ("outputs", "Finished outputs and their downloads"),
    (
        "webhooks",
        "Signed job-event deliveries to other services (admin)",
    ),
    (
        "customers",
        "Per-customer naming templates and request defaults",
    ),
    ("users and tokens", "Accounts (admin) and API tokens"),
    ("integrations", "Chat integrations"),
    ("system", "Health, metrics and this document"),
];

/// The group an operation is listed under (one of `TAGS`).
pub(crate) fn tag(path: &str) -> &'static str {
    let rest = path.trim_start_matches("/api/");
    match rest.split('/').next().unwrap_or_default() {
        "auth" => "auth",
        "job" | "jobs" | "queue" => "jobs",
        "resources" => "resources",
        "outputs" => "outputs",
        "webhooks" => "webhooks",
        "users" | "tokens" => "users and tokens",
        "customers" => "customers",
        "integrations" => "integrations",
        _ => "system",
    }
}

pub(crate) fn operation(op: &Operation, access: Access) -> path::Operation {
    let mut b = OperationBuilder::new()
        .tag(tag(op.path))
        .summary(Some(op.summary))
        .description(Some(format!("Role needed: {}.", role_name(access))))
        .operation_id(Some(operation_id(&op.method, op.path)));
    for name in path_params(op.path) {
        b = b.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(scalar(Kind::Text))),
        );
    }
    for query in op.query {
        b = b.parameter(
            ParameterBuilder::new()
                .name(query.0)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(query.2))
                .schema(Some(scalar(query.1))),
        );
    }
    if let Some(body) = request_body(op.body) {
        b = b.request_body(Some(body));
    }
    b = match op.ok {
        Success::Json(statuses, schema) => {
            for status in statuses {
                let description = if *status < 300 {
                    "Success"
                } else {
                    error_description(*status)
                };
                b = b.response(
                    status.to_string(),
                    ResponseBuilder::new().description(description).content(
                        JSON,
                        ContentBuilder::new()
                            .schema(Some(component(schema)))
                            .build(),
                    ),
                );
            }
            b
        }
        Success::Empty(status) => b.response(
            status.to_string(),
            ResponseBuilder::new().description("Success, no body"),
        ),
        Success::Files(status, types) => {
            let mut response = ResponseBuilder::new().description("Success");
            for content_type in types {
                // the one JSON file served is a build's manifest
                let schema = if *content_type == JSON {
                    component("Manifest")
                } else {
                    RefOr::T(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                            .into(),
                    )
                };
                response = response.content(
                    *content_type,
                    ContentBuilder::new().schema(Some(schema)).build(),
                );
            }
            b.response(status.to_string(), response)
        }
    };
    if matches!(access, Access::Role(_)) {
        b = b
            .security(SecurityRequirement::new("session", Vec::<String>::new()))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    }
    for status in error_statuses(op, access) {
        b = b.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(error_description(status))
                .content(
                    JSON,
                    ContentBuilder::new()
                        .schema(Some(component("Error")))
                        .build(),
                ),
        );
    }
    b.build()
}

/// `get_jobs_id_logs` for `GET /api/jobs/{id}/logs`.
fn operation_id(method: &Method, path: &str) -> String {
    format!(
        "{}{}",
        method.as_str().to_lowercase(),
        path.trim_start_matches("/api")
            .replace(['/', '-', '.'], "_")
            .replace(['{', '}'], "")
    )
}

/// The error statuses of an operation: its own, and those that follow from its access,
/// its body and the router.
pub(crate) fn error_statuses(op: &Operation, access: Access) -> Vec<u16> {
    let mut errors: Vec<u16> = op.errors.to_vec();
    if let Access::Role(role) = access {
        errors.push(401);
        // viewers can be refused too: a viewer naming another user's tokens; and any
        // change made with the session cookie from another origin
        if role != Role::Viewer || op.path.starts_with("/api/tokens") || op.method != Method::GET {
            errors.push(403);
        }
    }
    if !matches!(op.body, Body::None) {
        errors.push(413);
    }
    errors.extend([404, 405]);
    errors.sort_unstable();
    errors.dedup();
    errors
}

pub(crate) fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed request",
        401 => "Not signed in",
        403 => "Role too low, or a cross-origin change",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflicts with the current state",
        413 => "Body too large",
        415 => "Wrong content type",
        422 => "A field is invalid; `field` names it",
        429 => "Too many failed logins; see Retry-After",
        503 => "Not ready",
        _ => "Error",
    }
}

/// Names of the `{param}` placeholders of a path.
pub(crate) fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
}

fn component(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn scalar(kind: Kind) -> Schema {
    match kind {
        Kind::Text => ObjectBuilder::new().schema_type(Type::String).into(),
        Kind::Integer => ObjectBuilder::new().schema_type(Type::Integer).into(),
        Kind::Boolean => ObjectBuilder::new().schema_type(Type::Boolean).into(),
        Kind::OneOf(values) => ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied()))
            .into(),
    }
}

fn request_body(body: Body) -> Option<RequestBody> {
    let (content_type, schema, required) = match body {
        Body::None => return None,
        Body::Json { schema, required } => (JSON, schema, required),
        Body::Form(schema) => ("application/x-www-form-urlencoded", schema, true),
    };
    let required = if required {
        Required::True
    } else {
        Required::False
    };
    Some(
        RequestBodyBuilder::new()
            .required(Some(required))
            .content(
                content_type,
                ContentBuilder::new()
                    .schema(Some(component(schema)))
                    .build(),
            )
            .build(),
    )
}
