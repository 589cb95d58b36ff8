//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the API, built from the code.
//!
//! `OPERATIONS` describes each route (parameters, body, answers, the errors its handler
//! can return); the role each needs comes from `routes::table::ROUTES`, so the document
//! and the access checks cannot disagree. `tests/openapi.rs` fails when a route of the
//! table is missing here or one is documented that is not routed.

use axum::Json;
use axum::http::Method;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Required,
    ResponseBuilder,
};
use wait_store::Role;

use crate::routes::table::{Access, ROUTES};

/// The document's own path.
pub const PATH: &str = "/api/openapi.json";

/// The handler of `GET /api/openapi.json` (routed in `routes/mod.rs`).
pub async fn serve() -> Json<OpenApi> {
    Json(document())
}

/// A query parameter: name, type, description.
#[derive(Debug, Clone, Copy)]
struct Query(&'static str, Kind, &'static str);

/// The shape of a parameter or a body.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Integer,
    Boolean,
    OneOf(&'static [&'static str]),
}

/// What a request carries in its body.
#[derive(Debug, Clone, Copy)]
enum Body {
    None,
    /// A JSON object with these fields (name, kind, required).
    Fields(&'static [(&'static str, Kind, bool)]),
    /// A JSON object whose fields the handler checks itself (a job request).
    AnyObject,
    /// Slack's form-encoded slash command.
    Form,
}

/// The successful answer.
#[derive(Debug, Clone, Copy)]
enum Success {
    /// JSON object with this status.
    Json(u16),
    /// No body.
    Empty(u16),
    /// A body of one of these content types.
    Files(u16, &'static [&'static str]),
}

#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    path: &'static str,
    summary: &'static str,
    query: &'static [Query],
    body: Body,
    ok: Success,
    /// The 4xx (and 503) statuses the handler can answer, besides 401 and 403, which
    /// follow from its access.
    errors: &'static [u16],
}

const fn op(
    method: Method,
    path: &'static str,
    summary: &'static str,
    query: &'static [Query],
    body: Body,
    ok: Success,
    errors: &'static [u16],
) -> Operation {
    Operation {
        method,
        path,
        summary,
        query,
        body,
        ok,
        errors,
    }
}

const JOB_ID: Query = Query("job_id", Kind::Text, "the job's id (UUID)");
const LEVEL: Query = Query("level", Kind::OneOf(&["normal", "verbose"]), "log level");
const JOB_LIST: &[Query] = &[
    Query("status", Kind::Text, "job status"),
    Query("customer_name", Kind::Text, "customer name"),
    Query("motherboard_model", Kind::Text, "motherboard model"),
    Query("created_by", Kind::Text, "user who created the job"),
    Query("since", Kind::Text, "RFC 3339 time, inclusive"),
    Query("until", Kind::Text, "RFC 3339 time, exclusive"),
    Query("limit", Kind::Text, "page size"),
    Query("offset", Kind::Text, "page start"),
    Query("q", Kind::Text, "free text"),
];
const RESOURCE: &[Query] = &[
    Query("q", Kind::Text, "search text"),
    Query("limit", Kind::Text, "most results"),
    Query("motherboard", Kind::Text, "motherboard model"),
    Query("base_image", Kind::Text, "base image name"),
    Query("index", Kind::Text, "image index in the base image"),
];
const MANIFEST_FORMAT: &[Query] = &[Query(
    "format",
    Kind::OneOf(&["json", "text", "txt"]),
    "answer format",
)];
const VARIANT: &[Query] = &[Query(
    "variant",
    Kind::Text,
    "`key` or `nokey` when the job built both",
)];
const WEBHOOK_FIELDS: &[(&str, Kind, bool)] = &[
    ("url", Kind::Text, false),
    ("events", Kind::Text, false),
    ("format", Kind::Text, false),
    ("secret", Kind::Text, false),
    ("active", Kind::Boolean, false),
];
const WEBHOOK_CHANGE: &[(&str, Kind, bool)] = &[
    ("url", Kind::Text, false),
    ("events", Kind::Text, false),
    ("format", Kind::Text, false),
    ("secret", Kind::Text, false),
    ("active", Kind::Boolean, false),
    ("rotate_secret", Kind::Boolean, false),
];

const JSON: &str = "application/json";
const TEXT: &str = "text/plain";
const ROUTE_JSON: Success = Success::Json(200);
const LIST_ERRORS: &[u16] = &[400, 422];
const RESOURCE_ERRORS: &[u16] = &[400, 404, 422];
const DOWNLOAD_ERRORS: &[u16] = &[400, 404, 409, 422];

/// Every documented operation, grouped as in `routes::table`.
const OPERATIONS: &[Operation] = &[
    // auth
    op(
        Method::POST,
        "/api/auth/login",
        "Sign in; sets the `wait_session` cookie",
        &[],
        Body::Fields(&[
            ("username", Kind::Text, true),
            ("password", Kind::Text, true),
        ]),
        ROUTE_JSON,
        &[400, 401, 413, 415, 422, 429],
    ),
    op(
        Method::POST,
        "/api/auth/logout",
        "Sign out; ends the session",
        &[],
        Body::None,
        Success::Empty(204),
        &[],
    ),
    op(
        Method::GET,
        "/api/auth/me",
        "The signed-in user",
        &[],
        Body::None,
        ROUTE_JSON,
        &[],
    ),
    // jobs
    op(
        Method::POST,
        "/api/job",
        "Queue a build job",
        &[],
        Body::AnyObject,
        Success::Json(201),
        &[400, 409, 413, 415, 422],
    ),
    op(
        Method::GET,
        "/api/job",
        "One job, or the latest",
        &[JOB_ID],
        Body::None,
        ROUTE_JSON,
        &[400, 404, 422],
    ),
    op(
        Method::DELETE,
        "/api/job",
        "Delete a finished job, optionally with its output folder",
        &[
            JOB_ID,
            Query("purge_output", Kind::Text, "also delete the output folder"),
        ],
        Body::None,
        Success::Empty(204),
        &[400, 404, 409, 422],
    ),
    op(
        Method::GET,
        "/api/queue",
        "The queue and the live workers",
        &[],
        Body::None,
        ROUTE_JSON,
        &[],
    ),
    op(
        Method::GET,
        "/api/job/stream",
        "Live state and log of a job (server-sent events)",
        &[
            JOB_ID,
            LEVEL,
            Query(
                "after",
                Kind::Integer,
                "resume after this log sequence number",
            ),
        ],
        Body::None,
        Success::Files(200, &["text/event-stream"]),
        &[400, 404, 422],
    ),
    op(
        Method::GET,
        "/api/job/manifest",
        "The manifest of a job's output",
        &[
            JOB_ID,
            Query("format", Kind::OneOf(&["json", "text"]), "answer format"),
        ],
        Body::None,
        Success::Files(200, &[JSON, TEXT]),
        &[400, 404, 409, 422],
    ),
    op(
        Method::POST,
        "/api/job/cancel",
        "Cancel a queued or running job",
        &[JOB_ID],
        Body::None,
        Success::Json(202),
        &[400, 404, 409, 422],
    ),
    op(
        Method::GET,
        "/api/jobs",
        "Job history, newest first",
        JOB_LIST,
        Body::None,
        ROUTE_JSON,
        LIST_ERRORS,
    ),
    op(
        Method::GET,
        "/api/jobs/search",
        "Search the job history",
        JOB_LIST,
        Body::None,
        ROUTE_JSON,
        LIST_ERRORS,
    ),
    op(
        Method::GET,
        "/api/jobs/{id}",
        "One job",
        &[],
        Body::None,
        ROUTE_JSON,
        &[400, 404, 422],
    ),
    op(
        Method::GET,
        "/api/jobs/{id}/logs",
        "A page of a job's log",
        &[
            LEVEL,
            Query("after", Kind::Text, "log sequence number to start after"),
            Query("limit", Kind::Text, "page size"),
        ],
        Body::None,
        ROUTE_JSON,
        &[400, 404, 422],
    ),
    op(
        Method::POST,
        "/api/jobs/{id}/clone",
        "Queue a copy of a job with the same inputs",
        &[Query(
            "strict",
            Kind::Boolean,
            "refuse (409) when an input changed",
        )],
        Body::None,
        Success::Json(201),
        &[400, 404, 409, 413, 422],
    ),
    // resources
    op(
        Method::GET,
        "/api/resources/motherboards",
        "Registered motherboards",
        &[],
        Body::None,
        ROUTE_JSON,
        &[],
    ),
    op(
        Method::GET,
        "/api/resources/motherboards/search",
        "Search motherboards",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/drivers/recommend",
        "Recommended drivers for a motherboard",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/base-images",
        "Base images of the repository",
        &[],
        Body::None,
        ROUTE_JSON,
        &[],
    ),
    op(
        Method::GET,
        "/api/resources/driver-versions",
        "Driver versions of a motherboard",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/compatible-versions",
        "Windows versions a base image can take",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/langpacks",
        "Language packs",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/updates",
        "Updates",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/software",
        "Software packages",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/answer-files",
        "Answer files",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    op(
        Method::GET,
        "/api/resources/tools",
        "Tools",
        RESOURCE,
        Body::None,
        ROUTE_JSON,
        RESOURCE_ERRORS,
    ),
    // outputs
    op(
        Method::GET,
        "/api/outputs",
        "Output folders",
        &[Query("q", Kind::Text, "search text")],
        Body::None,
        ROUTE_JSON,
        LIST_ERRORS,
    ),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/manifest",
        "An output's manifest",
        MANIFEST_FORMAT,
        Body::None,
        Success::Files(200, &[JSON, TEXT]),
        DOWNLOAD_ERRORS,
    ),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download",
        "An output folder as one zip file",
        &[Query(
            "include_iso",
            Kind::Boolean,
            "also pack the ISO images",
        )],
        Body::None,
        Success::Files(200, &["application/zip"]),
        DOWNLOAD_ERRORS,
    ),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/wim",
        "An output's install.wim",
        VARIANT,
        Body::None,
        Success::Files(200, &["application/x-ms-wim"]),
        DOWNLOAD_ERRORS,
    ),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/iso",
        "An output's ISO image",
        VARIANT,
        Body::None,
        Success::Files(200, &["application/x-iso9660-image"]),
        DOWNLOAD_ERRORS,
    ),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/checksum",
        "Checksums of an output's files",
        &[Query(
            "algo",
            Kind::OneOf(&["md5", "sha256"]),
            "checksum algorithm",
        )],
        Body::None,
        Success::Files(200, &[TEXT]),
        DOWNLOAD_ERRORS,
    ),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/manifest",
        "An output's manifest as a file download",
        MANIFEST_FORMAT,
        Body::None,
        Success::Files(200, &[JSON, TEXT]),
        DOWNLOAD_ERRORS,
    ),
    // webhooks
    op(
        Method::GET,
        "/api/webhooks",
        "Webhooks",
        &[],
        Body::None,
        ROUTE_JSON,
        &[],
    ),
    op(
        Method::POST,
        "/api/webhooks",
        "Create a webhook; the answer shows its secret once",
        &[],
        Body::Fields(WEBHOOK_FIELDS),
        Success::Json(201),
        &[400, 413, 415, 422],
    ),
    op(
        Method::GET,
        "/api/webhooks/{id}",
        "One webhook",
        &[],
        Body::None,
        ROUTE_JSON,
        &[400, 404, 422],
    ),
    op(
        Method::PATCH,
        "/api/webhooks/{id}",
        "Change a webhook; absent fields stay",
        &[],
        Body::Fields(WEBHOOK_CHANGE),
        ROUTE_JSON,
        &[400, 404, 413, 415, 422],
    ),
    op(
        Method::DELETE,
        "/api/webhooks/{id}",
        "Delete a webhook",
        &[],
        Body::None,
        Success::Empty(204),
        &[400, 404, 422],
    ),
    op(
        Method::POST,
        "/api/webhooks/{id}/test",
        "Send a test delivery now",
        &[],
        Body::None,
        ROUTE_JSON,
        &[400, 404, 422],
    ),
    op(
        Method::GET,
        "/api/webhooks/{id}/deliveries",
        "A webhook's delivery log",
        &[Query("limit", Kind::Integer, "most deliveries")],
        Body::None,
        ROUTE_JSON,
        &[400, 404, 422],
    ),
    // users and tokens
    op(
        Method::GET,
        "/api/users",
        "User accounts",
        &[],
        Body::None,
        ROUTE_JSON,
        &[],
    ),
    op(
        Method::POST,
        "/api/users",
        "Create a user account",
        &[],
        Body::Fields(&[
            ("username", Kind::Text, true),
            ("password", Kind::Text, true),
            ("role", Kind::OneOf(&["viewer", "builder", "admin"]), true),
        ]),
        Success::Json(201),
        &[400, 409, 413, 415, 422],
    ),
    op(
        Method::PATCH,
        "/api/users/{id}",
        "Change a user's role, password or disabled flag",
        &[],
        Body::Fields(&[
            ("role", Kind::OneOf(&["viewer", "builder", "admin"]), false),
            ("password", Kind::Text, false),
            ("disabled", Kind::Boolean, false),
        ]),
        ROUTE_JSON,
        &[400, 404, 409, 413, 415, 422],
    ),
    op(
        Method::DELETE,
        "/api/users/{id}",
        "Delete a user account",
        &[],
        Body::None,
        Success::Empty(204),
        &[400, 404, 409, 422],
    ),
    op(
        Method::GET,
        "/api/tokens",
        "API tokens (another user's: admin only)",
        &[Query("user", Kind::Text, "whose tokens")],
        Body::None,
        ROUTE_JSON,
        &[400, 404, 422],
    ),
    op(
        Method::POST,
        "/api/tokens",
        "Create an API token; the answer shows it once",
        &[],
        Body::Fields(&[
            ("name", Kind::Text, true),
            ("user", Kind::Text, false),
            ("expires_in_days", Kind::Integer, false),
        ]),
        Success::Json(201),
        &[400, 404, 413, 415, 422],
    ),
    op(
        Method::DELETE,
        "/api/tokens/{id}",
        "Revoke an API token",
        &[],
        Body::None,
        Success::Empty(204),
        &[400, 404, 422],
    ),
    // integrations
    op(
        Method::POST,
        "/api/integrations/slack/command",
        "Slack slash command; signed by Slack, 404 when no signing secret is set",
        &[],
        Body::Form,
        ROUTE_JSON,
        &[400, 401, 404, 413, 415, 422],
    ),
    // system
    op(
        Method::GET,
        "/api/health",
        "Liveness and readiness",
        &[],
        Body::None,
        ROUTE_JSON,
        &[503],
    ),
    op(
        Method::GET,
        "/metrics",
        "Prometheus metrics (text exposition format)",
        &[],
        Body::None,
        Success::Files(200, &[TEXT]),
        &[],
    ),
    op(
        Method::GET,
        PATH,
        "This document",
        &[],
        Body::None,
        ROUTE_JSON,
        &[],
    ),
];

/// The whole document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new().build();
    for operation in OPERATIONS {
        let access = ROUTES
            .iter()
            .find(|r| r.method == operation.method && r.path == operation.path)
            .map(|r| r.access);
        if let (Some(method), Some(access)) = (http_method(&operation.method), access) {
            paths.add_path_operation(operation.path, vec![method], build(operation, access));
        }
    }
    let components = ComponentsBuilder::new()
        .schema("Error", error_schema())
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

fn role_name(access: Access) -> &'static str {
    match access {
        Access::Public => "none (public)",
        Access::Role(Role::Viewer) => "viewer",
        Access::Role(Role::Builder) => "builder",
        Access::Role(Role::Admin) => "admin",
    }
}

fn build(operation: &Operation, access: Access) -> utoipa::openapi::path::Operation {
    let mut b = OperationBuilder::new()
        .summary(Some(operation.summary))
        .description(Some(format!("Role needed: {}.", role_name(access))))
        .operation_id(Some(format!(
            "{}{}",
            operation.method.as_str().to_lowercase(),
            operation
                .path
                .trim_start_matches("/api")
                .replace(['/', '-', '.'], "_")
                .replace(['{', '}'], "")
        )));
    for name in path_params(operation.path) {
        b = b.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(scalar(Kind::Text))),
        );
    }
    for Query(name, kind, description) in operation.query {
        b = b.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(*description))
                .schema(Some(scalar(*kind))),
        );
    }
    if let Some(body) = request_body(operation.body) {
        b = b.request_body(Some(body));
    }
    b = match operation.ok {
        Success::Json(status) => b.response(
            status.to_string(),
            ResponseBuilder::new().description("Success").content(
                JSON,
                ContentBuilder::new().schema(Some(any_object())).build(),
            ),
        ),
        Success::Empty(status) => b.response(
            status.to_string(),
            ResponseBuilder::new().description("Success, no body"),
        ),
        Success::Files(status, types) => {
            let mut response = ResponseBuilder::new().description("Success");
            for content_type in types {
                let schema: Schema = if *content_type == JSON {
                    any_object()
                } else {
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Binary,
                        )))
                        .into()
                };
                response = response.content(
                    *content_type,
                    ContentBuilder::new().schema(Some(schema)).build(),
                );
            }
            b.response(status.to_string(), response)
        }
    };
    let mut errors: Vec<u16> = operation.errors.to_vec();
    if let Access::Role(role) = access {
        errors.push(401);
        if role != Role::Viewer || operation.path.starts_with("/api/tokens") {
            // viewers can be refused too: a viewer naming another user's tokens
            errors.push(403);
        }
        if operation.method != Method::GET {
            // a cookie-authenticated change from another origin
            errors.push(403);
        }
        b = b
            .security(SecurityRequirement::new("session", Vec::<String>::new()))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    }
    if !matches!(operation.body, Body::None) {
        errors.push(413);
    }
    errors.push(404);
    errors.push(405);
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        b = b.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(error_description(status))
                .content(
                    JSON,
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(Ref::from_schema_name("Error"))))
                        .build(),
                ),
        );
    }
    b.build()
}

fn error_description(status: u16) -> &'static str {
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
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
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

fn any_object() -> Schema {
    ObjectBuilder::new().schema_type(Type::Object).into()
}

fn request_body(body: Body) -> Option<utoipa::openapi::request_body::RequestBody> {
    let (content_type, schema): (&str, Schema) = match body {
        Body::None => return None,
        Body::AnyObject => (JSON, any_object()),
        Body::Form => (
            "application/x-www-form-urlencoded",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("command", scalar(Kind::Text))
                .property("text", scalar(Kind::Text))
                .property("user_name", scalar(Kind::Text))
                .property("response_url", scalar(Kind::Text))
                .into(),
        ),
        Body::Fields(fields) => {
            let mut object = ObjectBuilder::new().schema_type(Type::Object);
            for (name, kind, required) in fields {
                // `events` is the one list among the fields
                let schema: Schema = if *name == "events" {
                    ArrayBuilder::new().items(RefOr::T(scalar(*kind))).into()
                } else {
                    scalar(*kind)
                };
                object = object.property(*name, schema);
                if *required {
                    object = object.required(*name);
                }
            }
            (JSON, object.into())
        }
    };
    Some(
        RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                content_type,
                ContentBuilder::new().schema(Some(schema)).build(),
            )
            .build(),
    )
}

/// `{"error": {"code", "message", "field"?}}`, as `ApiError` writes it.
fn error_schema() -> Schema {
    let inner = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("code", scalar(Kind::Text))
        .property("message", scalar(Kind::Text))
        .property("field", scalar(Kind::Text))
        .required("code")
        .required("message");
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("error", inner)
        .required("error")
        .into()
}

/// Every (method, path) this document describes, for the test that compares it with
/// the routing table.
pub fn operations() -> impl Iterator<Item = (Method, &'static str)> {
    OPERATIONS.iter().map(|o| (o.method.clone(), o.path))
}
