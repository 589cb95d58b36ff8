//! Webhooks through the real server: the admin-only endpoints and their refusals, the
//! secret shown only when set, and deliveries from the outbox to a local receiver,
//! signed (checked with Python's hmac), retried, in JSON or Slack form, and refused for
//! private targets unless allowed.

mod common;

use std::collections::VecDeque;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use common::{BOARD, TestApp, error_parts, start_bare_with};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use wait_server::ServerConfig;
use wait_store::{
    DeliveryRetry, EventKind, JobRequest, LogLevel, NewWebhook, Role, WebhookFormat, WebhookSecret,
};

const SECRET: &str = "it's a secret to everybody";

/// Fast polling and immediate retries, so a test waits for work, not for backoff.
fn config(allow_private: bool) -> ServerConfig {
    ServerConfig {
        webhook_allow_private: allow_private,
        webhook_poll: Duration::from_millis(20),
        webhook_retry: DeliveryRetry {
            max_attempts: 5,
            unit: Duration::ZERO,
            cap: Duration::ZERO,
        },
        ..ServerConfig::default()
    }
}

fn job_request() -> JobRequest {
    JobRequest {
        motherboard_model: BOARD.to_string(),
        base_image: "placeholder.wim".to_string(),
        customer_name: "acme".to_string(),
        image_index: "1".to_string(),
        driver_set: None,
        langpacks: vec![],
        updates: vec![],
        software: vec![],
        answer_file: None,
        product_key: None,
        key_variants: "nokey".to_string(),
        create_iso: false,
        compression: "lzx".to_string(),
        log_level: LogLevel::Normal,
        options: Default::default(),
    }
}

/// A local HTTP receiver answering with the scripted statuses, then 200.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    url: String,
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let receiver = Receiver {
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            url: format!("http://{addr}/hook"),
            ..Receiver::default()
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn requests(&self) -> Vec<(HeaderMap, Bytes)> {
        self.got.lock().expect("receiver log").clone()
    }

    fn port(&self) -> String {
        self.url
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(port, _)| port.to_string())
            .expect("port in receiver url")
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    r.got.lock().expect("receiver log").push((headers, body));
    let code = r.script.lock().expect("script").pop_front().unwrap_or(200);
    AxumStatus::from_u16(code).expect("scripted status")
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_string()
}

/// HMAC-SHA256 of `body` under `secret`, computed by Python's standard library.
fn python_hmac(secret: &str, body: &[u8]) -> String {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; \
             print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), \
             hashlib.sha256).hexdigest())",
            secret,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .expect("python stdin")
        .write_all(body)
        .expect("write body");
    let out = child.wait_with_output().expect("python3 output");
    assert!(out.status.success(), "python3 failed");
    String::from_utf8(out.stdout)
        .expect("hex")
        .trim()
        .to_string()
}

async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Client::new().request(method, app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.expect("send");
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The raw text of an answer, to look for a secret anywhere in it.
async fn raw(app: &TestApp, token: &str, path: &str) -> String {
    Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body")
}

async fn create(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, created) = call(app, Some(admin), Method::POST, "/api/webhooks", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// Poll the delivery log until `done` holds (bounded, so a bug cannot hang the test).
async fn wait_for_log(
    app: &TestApp,
    admin: &str,
    id: i64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let path = format!("/api/webhooks/{id}/deliveries");
    loop {
        let (status, body) = call(app, Some(admin), Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let log = body["deliveries"].as_array().cloned().expect("deliveries");
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery log never got there: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn settled(log: &[Value]) -> bool {
    log.iter()
        .any(|d| d["state"] == "delivered" || d["state"] == "failed")
}

#[tokio::test]
async fn webhook_endpoints_answer_401_without_a_session_and_403_below_admin() {
    let app = start_bare_with(config(true)).await;
    let admin = app.token(Role::Admin).await;
    let id = create(
        &app,
        &admin,
        json!({"url": "https://hooks.example/x", "events": ["job.queued"]}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let body = json!({"url": "https://hooks.example/y", "events": ["job.failed"]});
    let endpoints = [
        (Method::GET, "/api/webhooks".to_string(), None),
        (
            Method::POST,
            "/api/webhooks".to_string(),
            Some(body.clone()),
        ),
        (Method::GET, format!("/api/webhooks/{id}"), None),
        (
            Method::PATCH,
            format!("/api/webhooks/{id}"),
            Some(json!({"active": false})),
        ),
        (Method::DELETE, format!("/api/webhooks/{id}"), None),
        (Method::POST, format!("/api/webhooks/{id}/test"), None),
        (Method::GET, format!("/api/webhooks/{id}/deliveries"), None),
    ];
    let builder = app.token(Role::Builder).await;
    let viewer = app.token(Role::Viewer).await;
    for (method, path, body) in endpoints {
        let (status, err) = call(&app, None, method.clone(), &path, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(error_parts(&err).0, "unauthorized");
        for token in [&builder, &viewer] {
            let (status, err) = call(&app, Some(token), method.clone(), &path, body.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(error_parts(&err).0, "forbidden");
        }
        // a builder is refused before its body is even read
        let (status, _) = call(
            &app,
            Some(&builder),
            method.clone(),
            &path,
            Some(json!({"url": 5})),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{method} {path} with a bad body"
        );
    }
    // nothing was changed by the refused calls
    let hook = app.store.get_webhook(id).await.expect("get").expect("kept");
    assert!(hook.active);
    assert_eq!(app.store.list_webhooks().await.expect("list").len(), 1);
}

#[tokio::test]
async fn a_webhook_is_created_read_changed_and_deleted_and_its_secret_shown_only_when_set() {
    let app = start_bare_with(config(true)).await;
    let admin = app.token(Role::Admin).await;
    let given = create(
        &app,
        &admin,
        json!({"url": "https://hooks.example/a", "events": ["job.completed", "job.failed"],
               "secret": SECRET, "format": "slack"}),
    )
    .await;
    assert_eq!(given["secret"], SECRET);
    assert_eq!(given["url"], "https://hooks.example/a");
    assert_eq!(given["events"], json!(["job.completed", "job.failed"]));
    assert_eq!(given["format"], "slack");
    assert_eq!(given["active"], true);
    assert_eq!(given["created_by"], "admin");
    let id = given["id"].as_i64().expect("id");

    let generated = create(
        &app,
        &admin,
        json!({"url": "http://hooks.example", "events": ["job.queued"]}),
    )
    .await;
    let secret = generated["secret"]
        .as_str()
        .expect("generated secret")
        .to_string();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    assert_eq!(generated["format"], "json", "json by default");
    assert_eq!(
        generated["url"], "http://hooks.example/",
        "stored normalised"
    );

    for path in ["/api/webhooks".to_string(), format!("/api/webhooks/{id}")] {
        let text = raw(&app, &admin, &path).await;
        assert!(
            !text.contains(SECRET) && !text.contains(&secret),
            "{path}: {text}"
        );
        assert!(!text.contains("\"secret\""), "{path}: {text}");
    }
    let (_, list) = call(&app, Some(&admin), Method::GET, "/api/webhooks", None).await;
    assert_eq!(list["webhooks"].as_array().map(Vec::len), Some(2));

    let path = format!("/api/webhooks/{id}");
    let (status, changed) = call(
        &app,
        Some(&admin),
        Method::PATCH,
        &path,
        Some(
            json!({"url": "https://other.example/b", "events": ["job.queued"],
                    "format": "json", "active": false}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["url"], "https://other.example/b");
    assert_eq!(changed["events"], json!(["job.queued"]));
    assert_eq!(changed["format"], "json");
    assert_eq!(changed["active"], false);
    assert!(changed.get("secret").is_none(), "{changed}");

    let (status, rotated) = call(
        &app,
        Some(&admin),
        Method::PATCH,
        &path,
        Some(json!({"rotate_secret": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"]
        .as_str()
        .expect("rotated secret")
        .to_string();
    assert_ne!(new_secret, SECRET);
    assert_eq!(new_secret.len(), 64);
    let (_, chosen) = call(
        &app,
        Some(&admin),
        Method::PATCH,
        &path,
        Some(json!({"secret": "chosen one"})),
    )
    .await;
    assert_eq!(chosen["secret"], "chosen one");
    let text = raw(&app, &admin, &path).await;
    assert!(
        !text.contains(&new_secret) && !text.contains("chosen one"),
        "{text}"
    );

    let (status, _) = call(&app, Some(&admin), Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (method, path) in [
        (Method::GET, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::PATCH, path.clone()),
        (Method::POST, format!("{path}/test")),
        (Method::GET, format!("{path}/deliveries")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"active": true}));
        let (status, err) = call(&app, Some(&admin), method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(error_parts(&err).0, "not_found");
    }
    let (status, err) = call(&app, Some(&admin), Method::GET, "/api/webhooks/abc", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&err).1.as_deref(), Some("id"));
}

#[tokio::test]
async fn bad_webhook_bodies_are_refused_naming_the_field() {
    let app = start_bare_with(config(false)).await;
    let admin = app.token(Role::Admin).await;
    let ok_url = "https://hooks.example/x";
    let unprocessable = [
        (json!({"events": ["job.queued"]}), "url"),
        (json!({"url": "not a url", "events": ["job.queued"]}), "url"),
        (
            json!({"url": "ftp://hooks.example/x", "events": ["job.queued"]}),
            "url",
        ),
        (
            json!({"url": "http://192.168.1.20/hook", "events": ["job.queued"]}),
            "url",
        ),
        (
            json!({"url": "http://[::1]:9000/hook", "events": ["job.queued"]}),
            "url",
        ),
        (json!({"url": ok_url}), "events"),
        (json!({"url": ok_url, "events": []}), "events"),
        (json!({"url": ok_url, "events": ["job.exploded"]}), "events"),
        (
            json!({"url": ok_url, "events": ["job.queued"], "format": "xml"}),
            "format",
        ),
        (
            json!({"url": ok_url, "events": ["job.queued"], "secret": ""}),
            "secret",
        ),
    ];
    for (body, field) in unprocessable {
        let (status, err) = call(
            &app,
            Some(&admin),
            Method::POST,
            "/api/webhooks",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_parts(&err).1.as_deref(), Some(field), "{body}: {err}");
    }
    let bad_requests = [
        json!({"url": ok_url, "events": "job.queued"}),
        json!({"url": 7, "events": ["job.queued"]}),
        json!({"url": ok_url, "events": ["job.queued"], "colour": "red"}),
        json!([1, 2]),
    ];
    for body in bad_requests {
        let (status, err) = call(
            &app,
            Some(&admin),
            Method::POST,
            "/api/webhooks",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        error_parts(&err);
    }
    let malformed = Client::new()
        .post(app.url("/api/webhooks"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"url\":")
        .send()
        .await
        .expect("send");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let id = create(
        &app,
        &admin,
        json!({"url": ok_url, "events": ["job.queued"]}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let path = format!("/api/webhooks/{id}");
    for (body, field) in [
        (json!({"url": "gopher://x"}), "url"),
        (json!({"url": "http://10.1.1.1/"}), "url"),
        (json!({"events": ["nope"]}), "events"),
        (json!({"format": "yaml"}), "format"),
        (json!({"secret": "x", "rotate_secret": true}), "secret"),
    ] {
        let (status, err) =
            call(&app, Some(&admin), Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_parts(&err).1.as_deref(), Some(field), "{body}");
    }
    let (status, _) = call(
        &app,
        Some(&admin),
        Method::PATCH,
        &path,
        Some(json!({"active": "no"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, err) = call(
        &app,
        Some(&admin),
        Method::GET,
        &format!("{path}/deliveries?limit=0"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_parts(&err).1.as_deref(), Some("limit"));
    // nothing was changed by the refused calls
    let hook = app.store.get_webhook(id).await.expect("get").expect("kept");
    assert_eq!(hook.url, ok_url);
    assert_eq!(hook.events, vec![EventKind::Queued]);
}

#[tokio::test]
async fn a_job_event_reaches_the_receiver_signed_with_the_secret() {
    let app = start_bare_with(config(true)).await;
    let admin = app.token(Role::Admin).await;
    let receiver = Receiver::start(&[]).await;
    let id = create(
        &app,
        &admin,
        json!({"url": receiver.url, "events": ["job.queued"], "secret": SECRET}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let job = app
        .store
        .create_job(&job_request(), Some("builder"))
        .await
        .expect("job");

    let log = wait_for_log(&app, &admin, id, settled).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let entry = &log[0];
    assert_eq!(entry["state"], "delivered");
    assert_eq!(entry["status_code"], 200);
    assert_eq!(entry["event"], "job.queued");
    assert_eq!(entry["attempt"], 1);
    assert_eq!(entry["job_id"], job.job_id.to_string());
    assert!(entry["duration_ms"].is_i64());

    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    assert_eq!(header(headers, "content-type"), "application/json");
    assert_eq!(header(headers, "x-wait-event"), "job.queued");
    assert_eq!(
        header(headers, "x-wait-delivery"),
        entry["delivery_id"].as_str().expect("id")
    );
    let expected = format!("sha256={}", python_hmac(SECRET, body));
    assert_eq!(header(headers, "x-wait-signature"), expected);
    assert_ne!(
        header(headers, "x-wait-signature"),
        format!("sha256={}", python_hmac("another secret", body)),
        "the signature depends on the secret"
    );

    let sent: Value = serde_json::from_slice(body).expect("JSON body");
    assert_eq!(sent["event"], "job.queued");
    assert_eq!(sent["delivery_id"], entry["delivery_id"]);
    assert_eq!(sent["job"]["job_id"], job.job_id.to_string());
    assert_eq!(sent["job"]["status"], "Queued");
    assert_eq!(sent["job"]["motherboard_model"], BOARD);
    assert_eq!(sent["job"]["customer_name"], "acme");
    let sent_at = sent["sent_at"].as_str().expect("sent_at");
    time::OffsetDateTime::parse(sent_at, &time::format_description::well_known::Rfc3339)
        .expect("sent_at is RFC 3339");
    // the job's other events were not asked for
    assert!(
        app.store
            .list_webhook_deliveries(id, 50)
            .await
            .expect("log")
            .iter()
            .all(|d| d.event.as_str() == "job.queued")
    );
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_three_attempts_and_the_delivery_succeeds() {
    let app = start_bare_with(config(true)).await;
    let admin = app.token(Role::Admin).await;
    let receiver = Receiver::start(&[500, 500]).await;
    let id = create(
        &app,
        &admin,
        json!({"url": receiver.url, "events": ["job.queued"], "secret": SECRET}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    app.store
        .create_job(&job_request(), None)
        .await
        .expect("job");

    let log = wait_for_log(&app, &admin, id, settled).await;
    let summary: Vec<(i64, String, i64)> = log
        .iter()
        .map(|d| {
            (
                d["attempt"].as_i64().expect("attempt"),
                d["state"].as_str().expect("state").to_string(),
                d["status_code"].as_i64().expect("status"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (3, "delivered".to_string(), 200),
            (2, "retrying".to_string(), 500),
            (1, "retrying".to_string(), 500),
        ]
    );
    let delivery = log[0]["delivery_id"].as_str().expect("id");
    assert!(log.iter().all(|d| d["delivery_id"] == delivery), "{log:?}");
    assert!(log[1]["error"].as_str().expect("error").contains("500"));

    let got = receiver.requests();
    assert_eq!(got.len(), 3);
    for (headers, body) in &got {
        assert_eq!(
            header(headers, "x-wait-delivery"),
            delivery,
            "same id on every try"
        );
        assert_eq!(
            header(headers, "x-wait-signature"),
            format!("sha256={}", python_hmac(SECRET, body))
        );
    }
}

#[tokio::test]
async fn slack_format_sends_one_signed_text_line() {
    let app = start_bare_with(config(true)).await;
    let admin = app.token(Role::Admin).await;
    let receiver = Receiver::start(&[]).await;
    let id = create(
        &app,
        &admin,
        json!({"url": receiver.url, "events": ["job.queued"], "format": "slack",
               "secret": SECRET}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let job = app
        .store
        .create_job(&job_request(), None)
        .await
        .expect("job");
    let log = wait_for_log(&app, &admin, id, settled).await;
    assert_eq!(log[0]["state"], "delivered");

    let got = receiver.requests();
    let (headers, body) = &got[0];
    let sent: Value = serde_json::from_slice(body).expect("JSON body");
    assert_eq!(
        sent.as_object().map(|o| o.len()),
        Some(1),
        "only text: {sent}"
    );
    let text = sent["text"].as_str().expect("text");
    for part in [
        &job.job_id.to_string(),
        BOARD,
        "acme",
        "Queued",
        "job.queued",
    ] {
        assert!(text.contains(part), "{part} missing from {text:?}");
    }
    assert!(!text.contains('\n'));
    assert_eq!(
        header(headers, "x-wait-signature"),
        format!("sha256={}", python_hmac(SECRET, body))
    );
}

#[tokio::test]
async fn the_test_endpoint_sends_a_ping_now_and_answers_with_its_result() {
    let app = start_bare_with(config(true)).await;
    let admin = app.token(Role::Admin).await;
    let receiver = Receiver::start(&[503]).await;
    let created = create(
        &app,
        &admin,
        json!({"url": receiver.url, "events": ["job.completed"], "active": false}),
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let secret = created["secret"].as_str().expect("secret");
    let path = format!("/api/webhooks/{id}/test");

    let (status, first) = call(&app, Some(&admin), Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["event"], "ping");
    assert_eq!(first["state"], "failed", "a failed test is not retried");
    assert_eq!(first["status_code"], 503);
    let (status, second) = call(&app, Some(&admin), Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["state"], "delivered");
    assert_eq!(second["status_code"], 200);
    assert_ne!(first["delivery_id"], second["delivery_id"]);

    let got = receiver.requests();
    assert_eq!(got.len(), 2, "an inactive webhook can still be tested");
    let (headers, body) = &got[1];
    assert_eq!(header(headers, "x-wait-event"), "ping");
    assert_eq!(
        header(headers, "x-wait-signature"),
        format!("sha256={}", python_hmac(secret, body))
    );
    let sent: Value = serde_json::from_slice(body).expect("JSON body");
    assert_eq!(sent["event"], "ping");
    assert_eq!(sent["job"], Value::Null);

    let (_, log) = call(
        &app,
        Some(&admin),
        Method::GET,
        &format!("/api/webhooks/{id}/deliveries?limit=1"),
        None,
    )
    .await;
    let log = log["deliveries"].as_array().expect("deliveries");
    assert_eq!(log.len(), 1, "the limit holds");
    assert_eq!(log[0]["id"], second["id"], "newest first");
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let app = start_bare_with(config(false)).await;
    let admin = app.token(Role::Admin).await;
    let receiver = Receiver::start(&[]).await;

    let (status, err) = call(
        &app,
        Some(&admin),
        Method::POST,
        "/api/webhooks",
        Some(json!({"url": receiver.url, "events": ["job.queued"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_parts(&err),
        ("private_address".to_string(), Some("url".to_string()))
    );

    // a name is accepted, and refused when it resolves to this host
    let by_name = format!("http://localhost:{}/hook", receiver.port());
    let id = create(
        &app,
        &admin,
        json!({"url": by_name, "events": ["job.queued"]}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let (status, tested) = call(
        &app,
        Some(&admin),
        Method::POST,
        &format!("/api/webhooks/{id}/test"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    assert_eq!(tested["state"], "failed");
    assert_eq!(tested["status_code"], Value::Null);
    let reason = tested["error"].as_str().expect("reason");
    assert!(
        reason.contains("refused") && reason.contains("loopback"),
        "{reason}"
    );

    // a literal address stored by other means is refused when delivering, once
    let direct = app
        .store
        .create_webhook(
            &NewWebhook {
                url: receiver.url.clone(),
                events: vec![EventKind::Queued],
                format: WebhookFormat::Json,
                secret: WebhookSecret::new(SECRET).expect("secret"),
                active: true,
            },
            None,
        )
        .await
        .expect("stored directly");
    app.store
        .create_job(&job_request(), None)
        .await
        .expect("job");
    let log = wait_for_log(&app, &admin, direct.id, settled).await;
    assert_eq!(log.len(), 1, "a refusal is not retried: {log:?}");
    assert_eq!(log[0]["state"], "failed");
    assert!(
        log[0]["error"]
            .as_str()
            .expect("reason")
            .contains("refused")
    );
    let named = wait_for_log(&app, &admin, id, |l| l.len() == 2 && settled(&l[..1])).await;
    assert!(
        named[0]["error"]
            .as_str()
            .expect("reason")
            .contains("refused")
    );

    assert!(
        receiver.requests().is_empty(),
        "nothing reached the private address"
    );
}

#[tokio::test]
async fn the_server_stops_with_its_dispatcher() {
    let app = start_bare_with(config(true)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(30), app.shutdown()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
}
