//! Every route the API serves and the least role it needs: the one list of routes.
//!
//! EACH NEW ROUTE IS ADDED HERE in the same change that adds it to a router, with the
//! role its handler's extractor requires (`RequireViewer`, `RequireBuilder`,
//! `RequireAdmin`) or `Public`. `tests/auth_roles.rs` holds the two in step: it reads
//! every `.route(…)` of `src/routes/` and fails when one is missing here (or listed here
//! but not routed), probes every entry against the running app, and checks that each
//! non-public entry answers 401 without credentials and 403 to the next-lower role.

use axum::http::Method;
use wait_store::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed.
    Public,
    /// Signed in with at least this role.
    Role(Role),
}

/// One method on one path.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    /// The path as routed, with `{param}` placeholders.
    pub path: &'static str,
    /// The same path with example parameters, for probing the running app.
    pub example: &'static str,
    pub access: Access,
}

const PUBLIC: Access = Access::Public;
const VIEWER: Access = Access::Role(Role::Viewer);
const BUILDER: Access = Access::Role(Role::Builder);
const ADMIN: Access = Access::Role(Role::Admin);

const fn at(method: Method, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec {
        method,
        path,
        example: path,
        access,
    }
}

const fn with(
    method: Method,
    path: &'static str,
    example: &'static str,
    access: Access,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        example,
        access,
    }
}

/// The API, grouped as in the API document.
pub const ROUTES: &[RouteSpec] = &[
    // auth
    at(Method::POST, "/api/auth/login", PUBLIC),
    at(Method::POST, "/api/auth/logout", VIEWER),
    at(Method::GET, "/api/auth/me", VIEWER),
    // jobs
    at(Method::POST, "/api/job", BUILDER),
    at(Method::GET, "/api/job", VIEWER),
    at(Method::DELETE, "/api/job", BUILDER),
    at(Method::GET, "/api/queue", VIEWER),
    at(Method::GET, "/api/job/stream", VIEWER),
    at(Method::GET, "/api/job/manifest", VIEWER),
    at(Method::POST, "/api/job/cancel", BUILDER),
    at(Method::GET, "/api/jobs", VIEWER),
    at(Method::GET, "/api/jobs/search", VIEWER),
    with(
        Method::GET,
        "/api/jobs/{id}",
        "/api/jobs/00000000-0000-4000-8000-000000000000",
        VIEWER,
    ),
    with(
        Method::GET,
        "/api/jobs/{id}/logs",
        "/api/jobs/00000000-0000-4000-8000-000000000000/logs",
        VIEWER,
    ),
    with(
        Method::POST,
        "/api/jobs/{id}/clone",
        "/api/jobs/00000000-0000-4000-8000-000000000000/clone",
        BUILDER,
    ),
    // resources
    at(Method::GET, "/api/resources/motherboards", VIEWER),
    at(Method::GET, "/api/resources/motherboards/search", VIEWER),
    at(Method::GET, "/api/resources/drivers/recommend", VIEWER),
    at(Method::GET, "/api/resources/base-images", VIEWER),
    at(Method::GET, "/api/resources/driver-versions", VIEWER),
    at(Method::GET, "/api/resources/compatible-versions", VIEWER),
    at(Method::GET, "/api/resources/langpacks", VIEWER),
    at(Method::GET, "/api/resources/updates", VIEWER),
    at(Method::GET, "/api/resources/software", VIEWER),
    at(Method::GET, "/api/resources/answer-files", VIEWER),
    at(Method::GET, "/api/resources/tools", VIEWER),
    // outputs
    at(Method::GET, "/api/outputs", VIEWER),
    with(
        Method::GET,
        "/api/outputs/{customer}/{job}/manifest",
        "/api/outputs/NOCUSTOMER/NOJOB/manifest",
        VIEWER,
    ),
    with(
        Method::GET,
        "/api/outputs/{customer}/{job}/download",
        "/api/outputs/NOCUSTOMER/NOJOB/download",
        VIEWER,
    ),
    with(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/wim",
        "/api/outputs/NOCUSTOMER/NOJOB/download/wim",
        VIEWER,
    ),
    with(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/iso",
        "/api/outputs/NOCUSTOMER/NOJOB/download/iso",
        VIEWER,
    ),
    with(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/checksum",
        "/api/outputs/NOCUSTOMER/NOJOB/download/checksum",
        VIEWER,
    ),
    with(
        Method::GET,
        "/api/outputs/{customer}/{job}/download/manifest",
        "/api/outputs/NOCUSTOMER/NOJOB/download/manifest",
        VIEWER,
    ),
    // webhooks
    at(Method::GET, "/api/webhooks", ADMIN),
    at(Method::POST, "/api/webhooks", ADMIN),
    with(
        Method::GET,
        "/api/webhooks/{id}",
        "/api/webhooks/999999",
        ADMIN,
    ),
    with(
        Method::PATCH,
        "/api/webhooks/{id}",
        "/api/webhooks/999999",
        ADMIN,
    ),
    with(
        Method::DELETE,
        "/api/webhooks/{id}",
        "/api/webhooks/999999",
        ADMIN,
    ),
    with(
        Method::POST,
        "/api/webhooks/{id}/test",
        "/api/webhooks/999999/test",
        ADMIN,
    ),
    with(
        Method::GET,
        "/api/webhooks/{id}/deliveries",
        "/api/webhooks/999999/deliveries",
        ADMIN,
    ),
    // customers
    at(Method::GET, "/api/customers", VIEWER),
    at(Method::POST, "/api/customers/preview", VIEWER),
    with(
        Method::GET,
        "/api/customers/{name}",
        "/api/customers/NOCUSTOMER",
        VIEWER,
    ),
    with(
        Method::PUT,
        "/api/customers/{name}",
        "/api/customers/NOCUSTOMER",
        ADMIN,
    ),
    // users and tokens
    at(Method::GET, "/api/users", ADMIN),
    at(Method::POST, "/api/users", ADMIN),
    with(Method::PATCH, "/api/users/{id}", "/api/users/999999", ADMIN),
    with(
        Method::DELETE,
        "/api/users/{id}",
        "/api/users/999999",
        ADMIN,
    ),
    at(Method::GET, "/api/tokens", VIEWER),
    at(Method::POST, "/api/tokens", VIEWER),
    with(
        Method::DELETE,
        "/api/tokens/{id}",
        "/api/tokens/999999",
        VIEWER,
    ),
    // integrations (public: the Slack signature authenticates; 404 without a secret)
    at(Method::POST, "/api/integrations/slack/command", PUBLIC),
    // system
    at(Method::GET, "/api/health", PUBLIC),
    // monitoring (viewer: Prometheus scrapes with a viewer API token as bearer)
    at(Method::GET, "/metrics", VIEWER),
    at(Method::GET, "/api/openapi.json", PUBLIC),
];
