//! The operations of outputs, webhooks, accounts, customers, integrations and the
//! system routes.

use axum::http::Method;

use super::operations::{
    CONFLICT, INVALID, Kind, MANIFEST, MANIFEST_FORMAT, NONE, ONE, Operation, Query, Success, TEXT,
    VARIANT, WRITE, file, op,
};

/// Outputs to system, grouped as in `routes::table`.
pub(super) const OPERATIONS: &[Operation] = &[
    // outputs
    op(
        Method::GET,
        "/api/outputs",
        "Output folders",
        "OutputListing",
    )
    .query(&[Query("q", Kind::Text, "search text")])
    .errors(INVALID),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/manifest",
        "An output's manifest",
        NONE,
    )
    .query(MANIFEST_FORMAT)
    .ok(MANIFEST)
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download",
        "An output folder as one zip file",
        NONE,
    )
    .query(&[Query(
        "include_iso",
        Kind::Boolean,
        "also pack the ISO images",
    )])
    .ok(file(&["application/zip"]))
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/wim",
        "An output's install.wim",
        NONE,
    )
    .query(VARIANT)
    .ok(file(&["application/x-ms-wim"]))
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/iso",
        "An output's ISO image",
        NONE,
    )
    .query(VARIANT)
    .ok(file(&["application/x-iso9660-image"]))
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/checksum",
        "Checksums of an output's files",
        NONE,
    )
    .query(&[Query(
        "algo",
        Kind::OneOf(&["md5", "sha256"]),
        "checksum algorithm",
    )])
    .ok(file(&[TEXT]))
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/manifest",
        "An output's manifest as a file download",
        NONE,
    )
    .query(MANIFEST_FORMAT)
    .ok(MANIFEST)
    .errors(CONFLICT),
    // webhooks
    op(Method::GET, "/api/webhooks", "Webhooks", "WebhookList"),
    op(
        Method::POST,
        "/api/webhooks",
        "Create a webhook; the answer shows its secret once",
        "WebhookView",
    )
    .body("CreateWebhook")
    .created()
    .errors(WRITE),
    op(
        Method::GET,
        "/api/webhooks/{id}",
        "One webhook",
        "WebhookView",
    )
    .errors(ONE),
    op(
        Method::PATCH,
        "/api/webhooks/{id}",
        "Change a webhook; absent fields stay",
        "WebhookView",
    )
    .body("UpdateWebhook")
    .errors(&[400, 404, 413, 415, 422]),
    op(
        Method::DELETE,
        "/api/webhooks/{id}",
        "Delete a webhook",
        NONE,
    )
    .no_content()
    .errors(ONE),
    op(
        Method::POST,
        "/api/webhooks/{id}/test",
        "Send a test delivery now",
        "WebhookDelivery",
    )
    .errors(ONE),
    op(
        Method::GET,
        "/api/webhooks/{id}/deliveries",
        "A webhook's delivery log",
        "DeliveryList",
    )
    .query(&[Query("limit", Kind::Integer, "most deliveries")])
    .errors(ONE),
    // users and tokens
    op(Method::GET, "/api/users", "User accounts", "AccountList"),
    op(
        Method::POST,
        "/api/users",
        "Create a user account",
        "AccountEnvelope",
    )
    .body("CreateUser")
    .created()
    .errors(&[400, 409, 413, 415, 422]),
    op(
        Method::PATCH,
        "/api/users/{id}",
        "Change a user's role, password or disabled flag",
        "AccountEnvelope",
    )
    .body("UpdateUser")
    .errors(&[400, 404, 409, 413, 415, 422]),
    op(
        Method::DELETE,
        "/api/users/{id}",
        "Delete a user account",
        NONE,
    )
    .no_content()
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/tokens",
        "API tokens (another user's: admin only)",
        "TokenList",
    )
    .query(&[Query("user", Kind::Text, "whose tokens")])
    .errors(ONE),
    op(
        Method::POST,
        "/api/tokens",
        "Create an API token; the answer shows it once",
        "CreatedToken",
    )
    .body("CreateToken")
    .created()
    .errors(&[400, 404, 413, 415, 422]),
    op(
        Method::DELETE,
        "/api/tokens/{id}",
        "Revoke an API token",
        NONE,
    )
    .no_content()
    .errors(ONE),
    // customers
    op(
        Method::GET,
        "/api/customers",
        "Customers with their naming templates and defaults",
        "CustomerList",
    ),
    op(
        Method::POST,
        "/api/customers/preview",
        "The folder name a naming template gives now",
        "PreviewAnswer",
    )
    .body("PreviewRequest")
    .errors(WRITE),
    op(
        Method::GET,
        "/api/customers/{name}",
        "One customer",
        "CustomerView",
    )
    .errors(ONE),
    op(
        Method::PUT,
        "/api/customers/{name}",
        "Create or replace a customer's template and defaults",
        "CustomerView",
    )
    .body("PutCustomer")
    .errors(WRITE),
    // integrations
    op(
        Method::POST,
        "/api/integrations/slack/command",
        "Slack slash command; signed by Slack, 404 when no signing secret is set",
        "SlackReply",
    )
    .form("SlackCommand")
    .errors(&[400, 401, 404, 413, 415, 422]),
    // system
    op(
        Method::GET,
        "/api/health",
        "Liveness and readiness (503 when the database is down)",
        "Health",
    )
    .ok(Success::Json(&[200, 503], "Health")),
    op(
        Method::GET,
        "/metrics",
        "Prometheus metrics (text exposition format)",
        NONE,
    )
    .ok(file(&[TEXT])),
    op(Method::GET, super::PATH, "This document", "OpenApiDocument"),
];
