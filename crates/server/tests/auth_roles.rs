//! Who may call what, against the real app: the route table walked for 401/403, the
//! table held in step with the routers, bearer API tokens, login throttling and the
//! CSRF check of the session cookie.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, ORIGIN, REFERER, RETRY_AFTER};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use wait_server::routes::table::{Access, ROUTES, RouteSpec};
use wait_store::Role;

use common::{PASSWORD, TestApp, error_parts, json, send, start_bare};

/// The role just below `role`, if any.
fn lower(role: Role) -> Option<Role> {
    match role {
        Role::Admin => Some(Role::Builder),
        Role::Builder => Some(Role::Viewer),
        Role::Viewer => None,
    }
}

/// A request for a table entry: state-changing methods get an empty JSON object as body, so
/// every handler gets as far as its checks.
fn probe(client: &Client, app: &TestApp, spec: &RouteSpec) -> reqwest::RequestBuilder {
    let req = client.request(spec.method.clone(), app.url(spec.example));
    if matches!(spec.method, Method::POST | Method::PUT | Method::PATCH) {
        req.json(&json!({}))
    } else {
        req
    }
}

async fn status_and_body(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let (status, _, body) = json(req.send().await.expect("send")).await;
    (status, body)
}

#[tokio::test]
async fn every_route_answers_401_without_credentials_and_403_to_the_next_lower_role() {
    let app = start_bare().await;
    let client = Client::new();
    let mut checked = 0;
    for spec in ROUTES {
        let Access::Role(role) = spec.access else {
            continue;
        };
        let what = format!("{} {}", spec.method, spec.path);

        let (status, body) = status_and_body(probe(&client, &app, spec)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{what} without credentials"
        );
        assert_eq!(error_parts(&body).0, "unauthorized", "{what}: {body}");

        if let Some(below) = lower(role) {
            let token = app.token(below).await;
            let (status, body) =
                status_and_body(probe(&client, &app, spec).bearer_auth(&token)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{what} as {below}: {body}");
            assert_eq!(error_parts(&body).0, "forbidden", "{what}: {body}");
        }

        // the role the table names is enough (a fresh session: one probe is a logout)
        let token = app.token(role).await;
        let (status, body) = status_and_body(probe(&client, &app, spec).bearer_auth(&token)).await;
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "{what} as {role} answered {status}: {body}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "the table lists the protected routes");
}

#[tokio::test]
async fn every_table_entry_is_served_with_exactly_the_methods_listed() {
    let app = start_bare().await;
    let client = Client::new();
    for spec in ROUTES {
        let (status, body) = status_and_body(probe(&client, &app, spec)).await;
        let what = format!("{} {}", spec.method, spec.example);
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}: {body}");
        let unrouted = status == StatusCode::NOT_FOUND
            && body["error"]["message"].as_str() == Some("no such endpoint");
        if unrouted {
            // A handler may answer "no such endpoint" itself while its feature is not
            // configured (Slack without a signing secret); then the path is routed and
            // a method it does not take is 405, where an unrouted path stays 404.
            let r = client
                .request(Method::PUT, app.url(spec.example))
                .send()
                .await
                .expect("send");
            assert_eq!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{what} is in the table but not routed"
            );
        }
    }
    // a method the table does not list for a path is not served there either
    let paths: BTreeSet<&str> = ROUTES.iter().map(|r| r.example).collect();
    for path in paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if ROUTES
                .iter()
                .any(|r| r.example == path && r.method == method)
            {
                continue;
            }
            let r = client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .expect("send");
            assert_eq!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is served but not in the table"
            );
        }
    }
}

/// Every `(METHOD, path)` that `src/routes/` registers with `.route(…)`.
fn routed_in_source() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut files = Vec::new();
    collect_rs(&dir, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a routes file");
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !code.contains(".nest(") && !code.contains(".route_service("),
            "{}: nested routers are not read by this test; list their routes with .route",
            file.display()
        );
        for (method, path) in routes_of(&code, &file) {
            found.insert((method, path));
        }
    }
    found
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read routes dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `const NAME: &str = "…";` of a file, for paths built with `format!("{NAME}/…")`.
fn str_consts(code: &str) -> Vec<(String, String)> {
    code.match_indices("const ")
        .filter_map(|(at, _)| {
            let rest = &code[at + "const ".len()..];
            let (name, rest) = rest.split_once(':')?;
            let rest = rest.trim_start().strip_prefix("&str")?.trim_start();
            let rest = rest.strip_prefix('=')?.trim_start().strip_prefix('"')?;
            let (value, _) = rest.split_once('"')?;
            Some((name.trim().to_string(), value.to_string()))
        })
        .collect()
}

fn routes_of(code: &str, file: &Path) -> Vec<(String, String)> {
    let consts = str_consts(code);
    let mut out = Vec::new();
    for (at, _) in code.match_indices(".route(") {
        let args = &code[at + ".route(".len()..];
        // the call's arguments end at the parenthesis that closes `.route(`
        let mut depth = 1;
        let mut end = args.len();
        for (i, c) in args.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &args[..end];
        let Some((_, after_quote)) = call.split_once('"') else {
            panic!(
                "{}: a .route( without a string path: {call}",
                file.display()
            );
        };
        let (raw_path, handlers) = after_quote
            .split_once('"')
            .unwrap_or_else(|| panic!("{}: unterminated path in {call}", file.display()));
        let mut path = raw_path.to_string();
        for (name, value) in &consts {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let mut methods = 0;
        for method in ["get", "post", "put", "patch", "delete"] {
            let needle = format!("{method}(");
            let used = handlers.match_indices(&needle).any(|(i, _)| {
                i == 0
                    || !handlers[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if used {
                out.push((method.to_uppercase(), path.clone()));
                methods += 1;
            }
        }
        assert!(methods > 0, "{}: no method found in {call}", file.display());
    }
    out
}

#[test]
fn the_table_lists_exactly_the_routes_the_routers_register() {
    let routed = routed_in_source();
    let listed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = routed.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routed but not in routes/table.rs (add them with their role): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "in routes/table.rs but not routed: {stale:?}"
    );
    assert_eq!(listed.len(), ROUTES.len(), "no entry is listed twice");
}

#[tokio::test]
async fn api_token_authenticates_as_its_user_until_revoked() {
    let app = start_bare().await;
    let client = Client::new();
    let builder = app
        .store
        .get_user("builder")
        .await
        .expect("get")
        .expect("builder");
    let (token, secret) = app
        .store
        .issue_api_token(builder.id, "ci", None)
        .await
        .expect("token");

    let (status, me) =
        status_and_body(client.get(app.url("/api/auth/me")).bearer_auth(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["username"], "builder");
    // a builder route accepts it (the body is then judged on its own)
    let (status, body) = send_bearer(&client, &app, Method::POST, "/api/job", &secret).await;
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status}: {body}"
    );
    // but not an admin route
    let (status, _) = send_bearer(&client, &app, Method::GET, "/api/users", &secret).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let used = app
        .store
        .get_api_token(token.id)
        .await
        .expect("get")
        .expect("token");
    assert!(used.last_used_at.is_some(), "use is noted");
    // logging out with a token leaves the token valid
    let (status, _) = send_bearer(&client, &app, Method::POST, "/api/auth/logout", &secret).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send_bearer(&client, &app, Method::GET, "/api/auth/me", &secret).await;
    assert_eq!(status, StatusCode::OK);

    app.store.revoke_api_token(token.id).await.expect("revoke");
    let (status, body) = send_bearer(&client, &app, Method::GET, "/api/auth/me", &secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_parts(&body).0, "unauthorized");
}

#[tokio::test]
async fn expired_and_unknown_api_tokens_answer_401() {
    let app = start_bare().await;
    let client = Client::new();
    let viewer = app
        .store
        .get_user("viewer")
        .await
        .expect("get")
        .expect("viewer");
    let (_, expired) = app
        .store
        .issue_api_token(viewer.id, "short", Some(Duration::ZERO))
        .await
        .expect("token");
    let unknown = format!("wait_{}", "0".repeat(64));
    for secret in [expired.as_str(), unknown.as_str(), "not-a-session"] {
        let (status, body) = send_bearer(&client, &app, Method::GET, "/api/queue", secret).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{secret}: {body}");
    }
}

async fn send_bearer(
    client: &Client,
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    let mut req = client
        .request(method.clone(), app.url(path))
        .header(AUTHORIZATION, format!("Bearer {token}"));
    if method == Method::POST {
        req = req.json(&json!({}));
    }
    status_and_body(req).await
}

/// A client whose connections come from `ip` (any 127.x.y.z reaches the server).
fn client_from(ip: [u8; 4]) -> Client {
    Client::builder()
        .local_address(IpAddr::from(ip))
        .build()
        .expect("client")
}

async fn login(client: &Client, app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login")
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()
        .get(RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

#[tokio::test]
async fn a_user_name_is_throttled_after_five_failures_from_any_address() {
    let app = start_bare().await;
    // failures spread over addresses, so only the user name's counter can trip
    for n in 0..5u8 {
        let r = login(&client_from([127, 0, 1, n + 1]), &app, "admin", "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {n}");
    }
    let fresh = client_from([127, 0, 1, 100]);
    // even the right password is not checked while throttled
    let r = login(&fresh, &app, "admin", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&r);
    assert!((1..=300).contains(&wait), "Retry-After {wait}");
    let (_, _, body) = json(r).await;
    assert_eq!(error_parts(&body).0, "too_many_attempts");
    // another user from the same address is not affected
    let r = login(&fresh, &app, "builder", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_address_is_throttled_after_five_failures_whatever_the_user_names() {
    let app = start_bare().await;
    let client = client_from([127, 0, 2, 1]);
    for name in ["ghost1", "ghost2", "ghost3", "ghost4", "admin"] {
        let r = login(&client, &app, name, "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    let r = login(&client, &app, "viewer", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) >= 1);
    // another address still logs in
    let r = login(&client_from([127, 0, 2, 2]), &app, "viewer", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_successful_login_resets_the_user_names_failures() {
    let app = start_bare().await;
    for n in 0..4u8 {
        let r = login(&client_from([127, 0, 3, n + 1]), &app, "builder", "wrong").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login(&client_from([127, 0, 3, 10]), &app, "builder", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    // four more failures after the reset are still answered 401, not 429
    for n in 0..4u8 {
        let r = login(&client_from([127, 0, 3, n + 20]), &app, "builder", "wrong").await;
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "failure {n} after reset"
        );
    }
}

/// A client holding a session cookie, logged in without an Origin (as a script may).
async fn cookie_client(app: &TestApp, role: Role) -> Client {
    let client = Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = login(&client, app, role.as_str(), PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    client
}

async fn create_token(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    status_and_body(req.json(&json!({"name": "csrf probe"}))).await
}

#[tokio::test]
async fn cookie_requests_that_change_state_need_a_same_site_origin() {
    let app = start_bare().await;
    let client = cookie_client(&app, Role::Viewer).await;
    let url = app.url("/api/tokens");

    let (status, body) = create_token(client.post(&url)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no Origin: {body}");
    assert_eq!(error_parts(&body).0, "csrf");

    let (status, body) = create_token(client.post(&url).header(ORIGIN, &app.base)).await;
    assert_eq!(status, StatusCode::CREATED, "same Origin: {body}");

    let (status, body) =
        create_token(client.post(&url).header(ORIGIN, "http://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "other Origin: {body}");
    assert_eq!(error_parts(&body).0, "csrf");

    let page = format!("{}/jobs/new", app.base);
    let (status, body) = create_token(client.post(&url).header(REFERER, &page)).await;
    assert_eq!(status, StatusCode::CREATED, "same-site Referer: {body}");

    // reading needs no Origin
    let (status, _) = send(&client, Method::GET, &url, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bearer_requests_need_no_origin() {
    let app = start_bare().await;
    let session = app.token(Role::Viewer).await;
    let (status, body) = create_token(
        Client::new()
            .post(app.url("/api/tokens"))
            .bearer_auth(&session),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let api_token = body["token"].as_str().expect("token").to_string();
    let (status, body) = create_token(
        Client::new()
            .post(app.url("/api/tokens"))
            .bearer_auth(&api_token),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn configured_origins_are_accepted_for_cookie_requests() {
    let config = wait_server::ServerConfig {
        allowed_origins: vec!["https://wait.example.com".to_string()],
        ..wait_server::ServerConfig::default()
    };
    let app = common::start_bare_with(config).await;
    let client = cookie_client(&app, Role::Viewer).await;
    let url = app.url("/api/tokens");
    let (status, body) =
        create_token(client.post(&url).header(ORIGIN, "https://wait.example.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = create_token(
        client
            .post(&url)
            .header(ORIGIN, "https://other.example.com"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn login_from_a_foreign_origin_is_refused() {
    let app = start_bare().await;
    let client = Client::new();
    let body = json!({"username": "viewer", "password": PASSWORD});
    let r = client
        .post(app.url("/api/auth/login"))
        .header(ORIGIN, "http://evil.example")
        .json(&body)
        .send()
        .await
        .expect("login");
    let (status, _, err) = json(r).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_parts(&err).0, "csrf");
    let r = client
        .post(app.url("/api/auth/login"))
        .header(ORIGIN, &app.base)
        .json(&body)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK);
}
