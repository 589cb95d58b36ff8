//! What each route takes and answers: parameters, body, success answer and the errors
//! its handler can return. Roles come from `routes::table::ROUTES`; schemas named here
//! are the components `schemas.rs` registers from the types the handlers serialise.

use axum::http::Method;

/// A query parameter: name, type, description.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query(pub &'static str, pub Kind, pub &'static str);

/// The shape of a query parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Text,
    Integer,
    Boolean,
    OneOf(&'static [&'static str]),
}

/// What a request carries in its body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body {
    None,
    /// A JSON object described by this component; `required` says whether a body must
    /// be sent at all.
    Json {
        schema: &'static str,
        required: bool,
    },
    /// A form-encoded body described by this component.
    Form(&'static str),
}

/// The successful answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Success {
    /// A JSON body described by this component, with any of these statuses.
    Json(&'static [u16], &'static str),
    /// No body.
    Empty(u16),
    /// A body of one of these content types.
    Files(u16, &'static [&'static str]),
}

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    pub query: &'static [Query],
    pub body: Body,
    pub ok: Success,
    /// The 4xx statuses the handler can answer, besides 401/403 (which follow from its
    /// access), 404/405 (any path) and 413 (any body).
    pub errors: &'static [u16],
}

/// An operation answering 200 with the JSON component `schema`; the methods below
/// change what differs.
pub(super) const fn op(
    method: Method,
    path: &'static str,
    summary: &'static str,
    schema: &'static str,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        query: &[],
        body: Body::None,
        ok: Success::Json(&[200], schema),
        errors: &[],
    }
}

impl Operation {
    pub(super) const fn query(mut self, query: &'static [Query]) -> Self {
        self.query = query;
        self
    }
    pub(super) const fn body(mut self, schema: &'static str) -> Self {
        self.body = Body::Json {
            schema,
            required: true,
        };
        self
    }
    /// A JSON body the handler also accepts empty.
    pub(super) const fn optional_body(mut self, schema: &'static str) -> Self {
        self.body = Body::Json {
            schema,
            required: false,
        };
        self
    }
    pub(super) const fn form(mut self, schema: &'static str) -> Self {
        self.body = Body::Form(schema);
        self
    }
    pub(super) const fn ok(mut self, ok: Success) -> Self {
        self.ok = ok;
        self
    }
    pub(super) const fn created(self) -> Self {
        let Success::Json(_, schema) = self.ok else {
            return self;
        };
        self.ok(Success::Json(&[201], schema))
    }
    pub(super) const fn no_content(self) -> Self {
        self.ok(Success::Empty(204))
    }
    pub(super) const fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }
}

pub(crate) const JSON: &str = "application/json";
pub(crate) const TEXT: &str = "text/plain";
pub(super) const NONE: &str = "";

pub(super) const JOB_ID: Query = Query("job_id", Kind::Text, "the job's id (UUID)");
pub(super) const LEVEL: Query = Query("level", Kind::OneOf(&["normal", "verbose"]), "log level");
pub(super) const JOB_LIST: &[Query] = &[
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
pub(super) const RESOURCE: &[Query] = &[
    Query("q", Kind::Text, "search text"),
    Query("limit", Kind::Text, "most results"),
    Query("motherboard", Kind::Text, "motherboard model"),
    Query("base_image", Kind::Text, "base image name"),
    Query("index", Kind::Text, "image index in the base image"),
];
pub(super) const MANIFEST_FORMAT: &[Query] = &[Query(
    "format",
    Kind::OneOf(&["json", "text", "txt"]),
    "answer format",
)];
pub(super) const VARIANT: &[Query] = &[Query(
    "variant",
    Kind::Text,
    "`key` or `nokey` when the job built both",
)];

pub(super) const INVALID: &[u16] = &[400, 422];
pub(super) const ONE: &[u16] = &[400, 404, 422];
pub(super) const CONFLICT: &[u16] = &[400, 404, 409, 422];
pub(super) const WRITE: &[u16] = &[400, 413, 415, 422];
pub(super) const MANIFEST: Success = Success::Files(200, &[JSON, TEXT]);

pub(super) const fn file(content_type: &'static [&'static str]) -> Success {
    Success::Files(200, content_type)
}

/// Every documented operation, grouped as in `routes::table`.
pub(crate) fn all() -> impl Iterator<Item = &'static Operation> {
    super::table_jobs::OPERATIONS
        .iter()
        .chain(super::table_service::OPERATIONS)
}
