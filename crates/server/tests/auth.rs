mod common;

use reqwest::header::{AUTHORIZATION, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::json;
use wait_store::Role;

use common::{PASSWORD, error_parts, json, send, start_bare};

#[tokio::test]
async fn login_sets_an_httponly_lax_session_cookie_and_me_answers() {
    let app = start_bare().await;
    let client = Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "builder", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    let (status, headers, body) = json(r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["username"], "builder");
    assert_eq!(body["user"]["role"], "builder");
    assert!(body["user"]["id"].is_i64());
    let cookie = headers
        .get(SET_COOKIE)
        .expect("Set-Cookie")
        .to_str()
        .expect("ascii");
    assert!(cookie.starts_with("wait_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !body.to_string().contains("wait_session"),
        "token not in the body"
    );

    let (status, me) = send(&client, Method::GET, &app.url("/api/auth/me"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["username"], "builder");
}

#[tokio::test]
async fn login_refuses_wrong_password_and_unknown_user_with_the_same_answer() {
    let app = start_bare().await;
    let client = Client::new();
    let url = app.url("/api/auth/login");
    let (s1, wrong) = send(
        &client,
        Method::POST,
        &url,
        Some(json!({"username": "admin", "password": "nope"})),
    )
    .await;
    let (s2, unknown) = send(
        &client,
        Method::POST,
        &url,
        Some(json!({"username": "ghost", "password": "nope"})),
    )
    .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown);
    assert_eq!(error_parts(&wrong).0, "invalid_credentials");
}

#[tokio::test]
async fn login_with_malformed_json_is_a_400_with_the_error_shape() {
    let app = start_bare().await;
    let r = Client::new()
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .expect("send");
    let (status, _, body) = json(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "malformed_json");

    let (status, body) = send(
        &Client::new(),
        Method::POST,
        &app.url("/api/auth/login"),
        Some(json!({"username": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "invalid_body");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = start_bare().await;
    let client = app.login(Role::Viewer).await;
    let r = client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let cleared = r
        .headers()
        .get(SET_COOKIE)
        .expect("cookie cleared")
        .to_str()
        .expect("ascii");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let (status, _) = send(&client, Method::GET, &app.url("/api/auth/me"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bearer_session_token_authenticates_and_bad_tokens_do_not() {
    let app = start_bare().await;
    let token = app.token(Role::Admin).await;
    let client = Client::new();
    let r = client
        .get(app.url("/api/auth/me"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .expect("me");
    let (status, _, body) = json(r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["role"], "admin");

    for header in ["Bearer wrong", "Basic YWRtaW46YWRtaW4=", "Bearer"] {
        let r = client
            .get(app.url("/api/auth/me"))
            .header(AUTHORIZATION, header)
            .send()
            .await
            .expect("me");
        let (status, _, body) = json(r).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(error_parts(&body).0, "unauthorized");
    }
}

#[tokio::test]
async fn every_protected_route_answers_401_without_auth() {
    let app = start_bare().await;
    let client = Client::new();
    let routes = [
        (Method::GET, "/api/auth/me"),
        (Method::POST, "/api/auth/logout"),
        (Method::GET, "/api/job"),
        (Method::POST, "/api/job"),
        (Method::GET, "/api/queue"),
        (Method::GET, "/api/job/stream"),
    ];
    for (method, path) in routes {
        let body = (method == Method::POST).then(|| json!({}));
        let (status, body) = send(&client, method.clone(), &app.url(path), body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(error_parts(&body).0, "unauthorized", "{method} {path}");
    }
}

#[tokio::test]
async fn health_needs_no_auth_and_counts_live_workers() {
    let app = start_bare().await;
    let (status, body) = send(&Client::new(), Method::GET, &app.url("/api/health"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ok", "database": "ok", "workers": 0})
    );

    app.store
        .worker_heartbeat("worker-1")
        .await
        .expect("heartbeat");
    let (_, body) = send(&Client::new(), Method::GET, &app.url("/api/health"), None).await;
    assert_eq!(body["workers"], 1);
}

#[tokio::test]
async fn health_reports_503_when_the_database_is_gone() {
    let app = start_bare().await;
    app.store.close().await;
    let (status, body) = send(&Client::new(), Method::GET, &app.url("/api/health"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], "error");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let app = start_bare().await;
    let (status, body) = send(&Client::new(), Method::GET, &app.url("/api/nope"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_parts(&body).0, "not_found");
    let (status, body) = send(
        &Client::new(),
        Method::DELETE,
        &app.url("/api/health"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_parts(&body).0, "method_not_allowed");
}

#[tokio::test]
async fn serve_returns_after_the_shutdown_signal() {
    let app = start_bare().await;
    app.shutdown().await.expect("clean shutdown");
}
