//! Users (admin only) and API tokens over HTTP, against the real app.

mod common;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use wait_store::Role;

use common::{PASSWORD, TestApp, error_parts, json, start_bare};

/// Bearer calls as a fresh session of the user named like `role`.
struct Caller {
    client: Client,
    token: String,
}

impl Caller {
    async fn new(app: &TestApp, role: Role) -> Self {
        Caller {
            client: Client::new(),
            token: app.token(role).await,
        }
    }

    fn with_token(token: &str) -> Self {
        Caller {
            client: Client::new(),
            token: token.to_string(),
        }
    }

    async fn call(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, String) {
        let mut req = self
            .client
            .request(method, app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("send");
        let status = r.status();
        let text = r.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, value, text)
    }
}

async fn user_id(app: &TestApp, name: &str) -> i64 {
    app.store
        .get_user(name)
        .await
        .expect("get")
        .expect("user")
        .id
}

async fn can_log_in(app: &TestApp, name: &str, password: &str) -> StatusCode {
    Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
}

#[tokio::test]
async fn admin_lists_and_creates_users_without_exposing_hashes() {
    let app = start_bare().await;
    let admin = Caller::new(&app, Role::Admin).await;
    let (status, body, _) = admin
        .call(
            &app,
            Method::POST,
            "/api/users",
            Some(json!({"username": "dora", "password": "long enough pw", "role": "builder"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["username"], "dora");
    assert_eq!(body["user"]["role"], "builder");
    assert_eq!(body["user"]["disabled"], false);
    assert!(body["user"]["id"].is_i64());
    assert_eq!(
        can_log_in(&app, "dora", "long enough pw").await,
        StatusCode::OK
    );

    let (status, body, text) = admin.call(&app, Method::GET, "/api/users", None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["admin", "builder", "dora", "viewer"]);
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
}

#[tokio::test]
async fn user_endpoints_answer_401_and_403_to_non_admins() {
    let app = start_bare().await;
    let builder = Caller::new(&app, Role::Builder).await;
    let anonymous = Caller::with_token("");
    let body = json!({"username": "eve", "password": "long enough pw", "role": "admin"});
    for (method, path, body) in [
        (Method::GET, "/api/users", None),
        (Method::POST, "/api/users", Some(body.clone())),
        (
            Method::PATCH,
            "/api/users/1",
            Some(json!({"role": "admin"})),
        ),
        (Method::DELETE, "/api/users/1", None),
    ] {
        let (status, err, _) = builder.call(&app, method.clone(), path, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {err}");
        let r = anonymous
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    assert_eq!(app.store.get_user("eve").await.expect("get"), None);
}

#[tokio::test]
async fn creating_a_user_checks_every_field() {
    let app = start_bare().await;
    let admin = Caller::new(&app, Role::Admin).await;
    let cases = [
        (
            json!({"username": "x", "password": "long enough pw", "role": "root"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("role"),
        ),
        (
            json!({"username": "x", "password": "short", "role": "viewer"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("password"),
        ),
        (
            json!({"username": "has space", "password": "long enough pw", "role": "viewer"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("username"),
        ),
        (
            json!({"username": "x", "role": "viewer"}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"username": "x", "password": "long enough pw", "role": "viewer", "admin": true}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"username": "builder", "password": "long enough pw", "role": "viewer"}),
            StatusCode::CONFLICT,
            None,
        ),
    ];
    for (body, expected, field) in cases {
        let (status, err, _) = admin
            .call(&app, Method::POST, "/api/users", Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body}: {err}");
        let (_, got_field) = error_parts(&err);
        if let Some(field) = field {
            assert_eq!(got_field.as_deref(), Some(field), "{body}");
        }
    }
    assert_eq!(app.store.get_user("x").await.expect("get"), None);
}

#[tokio::test]
async fn patching_a_user_changes_role_password_and_disabled() {
    let app = start_bare().await;
    let admin = Caller::new(&app, Role::Admin).await;
    let id = user_id(&app, "viewer").await;
    let path = format!("/api/users/{id}");
    let viewer = Caller::new(&app, Role::Viewer).await;

    let (status, body, _) = admin
        .call(&app, Method::PATCH, &path, Some(json!({"role": "builder"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "builder");
    // the role applies to the existing session at once
    let (status, me, _) = viewer.call(&app, Method::GET, "/api/auth/me", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["role"], "builder");

    let (status, body, _) = admin
        .call(
            &app,
            Method::PATCH,
            &path,
            Some(json!({"password": "a new password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        can_log_in(&app, "viewer", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        can_log_in(&app, "viewer", "a new password").await,
        StatusCode::OK
    );
    let (status, _, _) = viewer.call(&app, Method::GET, "/api/auth/me", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a new password ends sessions"
    );

    let (_, secret) = app
        .store
        .issue_api_token(id, "bot", None)
        .await
        .expect("token");
    let (status, body, _) = admin
        .call(&app, Method::PATCH, &path, Some(json!({"disabled": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["disabled"], true);
    assert_eq!(
        can_log_in(&app, "viewer", "a new password").await,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = Caller::with_token(&secret)
        .call(&app, Method::GET, "/api/auth/me", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a disabled user's token");

    let (status, _, _) = admin
        .call(&app, Method::PATCH, &path, Some(json!({"disabled": false})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        can_log_in(&app, "viewer", "a new password").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn patching_refuses_bad_values_unknown_users_and_changes_to_oneself() {
    let app = start_bare().await;
    let admin = Caller::new(&app, Role::Admin).await;
    let me = format!("/api/users/{}", user_id(&app, "admin").await);
    let other = format!("/api/users/{}", user_id(&app, "builder").await);
    let cases = [
        (
            other.as_str(),
            json!({"role": "root"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            other.as_str(),
            json!({"password": "short"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (other.as_str(), json!({}), StatusCode::BAD_REQUEST),
        (
            other.as_str(),
            json!({"disabled": "yes"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users/abc",
            json!({"role": "viewer"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users/999999",
            json!({"role": "viewer"}),
            StatusCode::NOT_FOUND,
        ),
        (me.as_str(), json!({"role": "viewer"}), StatusCode::CONFLICT),
        (me.as_str(), json!({"disabled": true}), StatusCode::CONFLICT),
    ];
    for (path, body, expected) in cases {
        let (status, err, _) = admin
            .call(&app, Method::PATCH, path, Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{path} {body}: {err}");
        error_parts(&err);
    }
    // an admin may still change their own password
    let (status, _, _) = admin
        .call(
            &app,
            Method::PATCH,
            &me,
            Some(json!({"password": "my new password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn deleting_users_refuses_oneself_and_unknown_ids() {
    let app = start_bare().await;
    let admin = Caller::new(&app, Role::Admin).await;
    let me = format!("/api/users/{}", user_id(&app, "admin").await);
    let (status, err, _) = admin.call(&app, Method::DELETE, &me, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");

    let builder = Caller::new(&app, Role::Builder).await;
    let other = format!("/api/users/{}", user_id(&app, "builder").await);
    let (status, _, _) = admin.call(&app, Method::DELETE, &other, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.store.get_user("builder").await.expect("get"), None);
    let (status, _, _) = builder.call(&app, Method::GET, "/api/auth/me", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the deleted user's session"
    );

    let (status, _, _) = admin.call(&app, Method::DELETE, &other, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = admin
        .call(&app, Method::DELETE, "/api/users/x1", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_token_is_shown_once_and_works_as_a_bearer_until_revoked() {
    let app = start_bare().await;
    let builder = Caller::new(&app, Role::Builder).await;
    let (status, created, _) = builder
        .call(
            &app,
            Method::POST,
            "/api/tokens",
            Some(json!({"name": "nightly", "expires_in_days": 30})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().expect("token").to_string();
    assert!(secret.starts_with("wait_"));
    assert_eq!(created["user"], "builder");
    assert_eq!(created["state"], "active");
    assert!(created["expires_at"].is_string());
    let id = created["id"].as_i64().expect("id");

    let bot = Caller::with_token(&secret);
    let (status, me, _) = bot.call(&app, Method::GET, "/api/auth/me", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["username"], "builder");

    let (status, listed, text) = builder.call(&app, Method::GET, "/api/tokens", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["tokens"][0]["name"], "nightly");
    assert!(listed["tokens"][0]["last_used_at"].is_string());
    assert!(!text.contains(&secret), "the list never holds the secret");
    assert!(listed["tokens"][0].get("token").is_none());
    assert!(!text.contains("sha256"), "{text}");

    let (status, _, _) = builder
        .call(&app, Method::DELETE, &format!("/api/tokens/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = bot.call(&app, Method::GET, "/api/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, listed, _) = builder.call(&app, Method::GET, "/api/tokens", None).await;
    assert_eq!(listed["tokens"][0]["state"], "revoked");
}

#[tokio::test]
async fn only_admins_manage_other_users_tokens() {
    let app = start_bare().await;
    let admin = Caller::new(&app, Role::Admin).await;
    let viewer = Caller::new(&app, Role::Viewer).await;

    // viewer: own tokens only
    let (status, err, _) = viewer
        .call(&app, Method::GET, "/api/tokens?user=builder", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, _, _) = viewer
        .call(
            &app,
            Method::POST,
            "/api/tokens",
            Some(json!({"name": "x", "user": "builder"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = viewer
        .call(&app, Method::GET, "/api/tokens?user=viewer", None)
        .await;
    assert_eq!(status, StatusCode::OK, "naming oneself is fine");

    // admin: for someone else
    let (status, created, _) = admin
        .call(
            &app,
            Method::POST,
            "/api/tokens",
            Some(json!({"name": "ci for builder", "user": "builder"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().expect("token").to_string();
    let id = created["id"].as_i64().expect("id");
    let (_, me, _) = Caller::with_token(&secret)
        .call(&app, Method::GET, "/api/auth/me", None)
        .await;
    assert_eq!(me["user"]["username"], "builder");
    let (status, listed, text) = admin
        .call(&app, Method::GET, "/api/tokens?user=builder", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["tokens"].as_array().map(Vec::len), Some(1));
    assert!(!text.contains(&secret));

    // someone else's token is "not found" to a non-admin
    let path = format!("/api/tokens/{id}");
    let (status, _, _) = viewer.call(&app, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = admin.call(&app, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn token_requests_are_checked() {
    let app = start_bare().await;
    let builder = Caller::new(&app, Role::Builder).await;
    let admin = Caller::new(&app, Role::Admin).await;
    let cases = [
        (
            &builder,
            json!({"name": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("name"),
        ),
        (
            &builder,
            json!({"name": "x", "expires_in_days": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("expires_in_days"),
        ),
        (
            &builder,
            json!({"name": "x", "expires_in_days": 100000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("expires_in_days"),
        ),
        (
            &builder,
            json!({"name": "x", "expires_in_days": -1}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (&builder, json!({}), StatusCode::BAD_REQUEST, None),
        (
            &admin,
            json!({"name": "x", "user": "ghost"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("user"),
        ),
    ];
    for (caller, body, expected, field) in cases {
        let (status, err, _) = caller
            .call(&app, Method::POST, "/api/tokens", Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body}: {err}");
        if let Some(field) = field {
            assert_eq!(error_parts(&err).1.as_deref(), Some(field), "{body}");
        }
    }
    for (path, expected) in [
        ("/api/tokens/999999", StatusCode::NOT_FOUND),
        ("/api/tokens/abc", StatusCode::BAD_REQUEST),
    ] {
        let (status, _, _) = builder.call(&app, Method::DELETE, path, None).await;
        assert_eq!(status, expected, "{path}");
    }
    let r = Client::new()
        .get(app.url("/api/tokens"))
        .send()
        .await
        .expect("send");
    let (status, _, _) = json(r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
