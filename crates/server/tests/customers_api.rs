//! `/api/customers` through the real server: reading, saving (admin only) with the
//! template checked by the naming checker, the live preview, the refusals, and a real
//! build whose output folder is named by the customer's template.

mod common;

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use wait_catalog::Repository;
use wait_pipeline::{Worker, WorkerConfig};
use wait_store::{JobRequest, LogLevel, Role};

use common::{BOARD, TestApp, error_parts, send, start_bare, start_demo};

async fn call(
    app: &TestApp,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    send(client, method, &app.url(path), body).await
}

/// 14 digits and an underscore: what `{timestamp}` renders as.
fn is_timestamp(s: &str) -> bool {
    s.len() == 15
        && s.char_indices()
            .all(|(i, c)| if i == 8 { c == '_' } else { c.is_ascii_digit() })
}

#[tokio::test]
async fn admin_saves_and_everyone_reads() {
    let app = start_bare().await;
    let admin = app.login(Role::Admin).await;
    let viewer = app.login(Role::Viewer).await;

    let (status, body) = call(&app, &viewer, Method::GET, "/api/customers", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["customers"], json!([]));

    let (status, saved) = call(
        &app,
        &admin,
        Method::PUT,
        "/api/customers/ACME",
        Some(json!({"naming_template": "{customer}_{board}_{date}", "defaults": {"compression": "lzms"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["name"], "ACME");
    assert_eq!(saved["naming_template"], "{customer}_{board}_{date}");
    assert_eq!(saved["defaults"], json!({"compression": "lzms"}));
    assert!(saved["created_at"].is_string(), "{saved}");
    // no job yet: the example board
    let preview = saved["preview"].as_str().expect("preview");
    assert!(preview.starts_with("ACME_BOARD_"), "{preview}");
    assert_eq!(preview.len(), "ACME_BOARD_".len() + 8, "{preview}");
    assert_eq!(saved["preview_board"], "BOARD");

    // replacing: a missing `defaults` is an empty object, a null template the default
    let (status, replaced) = call(
        &app,
        &admin,
        Method::PUT,
        "/api/customers/ACME",
        Some(json!({"naming_template": null})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["naming_template"], Value::Null);
    assert_eq!(replaced["defaults"], json!({}));
    let preview = replaced["preview"].as_str().expect("preview");
    let (stamp, board) = preview.split_at(15);
    assert!(is_timestamp(stamp), "{preview}");
    assert_eq!(board, "_BOARD");

    let (status, one) = call(&app, &viewer, Method::GET, "/api/customers/ACME", None).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["name"], "ACME");
    assert_eq!(one["naming_template"], Value::Null);

    call(
        &app,
        &admin,
        Method::PUT,
        "/api/customers/beta",
        Some(json!({"naming_template": "{board}"})),
    )
    .await;
    let (_, list) = call(&app, &viewer, Method::GET, "/api/customers", None).await;
    let names: Vec<&str> = list["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["ACME", "beta"]);
    let stored = app.store.get_customer("beta").await.expect("read");
    assert_eq!(
        stored.and_then(|c| c.naming_template).as_deref(),
        Some("{board}")
    );
}

#[tokio::test]
async fn refusals_name_the_problem() {
    let app = start_bare().await;
    let admin = app.login(Role::Admin).await;
    let builder = app.login(Role::Builder).await;
    let viewer = app.login(Role::Viewer).await;
    let anonymous = Client::new();
    let body = json!({"naming_template": "{board}"});

    // 401 and 403
    let (status, _) = call(&app, &anonymous, Method::GET, "/api/customers", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, e) = call(
        &app,
        &anonymous,
        Method::POST,
        "/api/customers/preview",
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
    for client in [&builder, &viewer] {
        let (status, e) = call(
            &app,
            client,
            Method::PUT,
            "/api/customers/ACME",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    }
    assert!(
        app.store
            .get_customer("ACME")
            .await
            .expect("read")
            .is_none()
    );

    // 404
    let (status, e) = call(&app, &viewer, Method::GET, "/api/customers/nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(error_parts(&e).0, "not_found");

    // 400: bad names and bad JSON
    for path in [
        "/api/customers/a%20b",
        "/api/customers/a%2Fb",
        "/api/customers/a%3Ab",
    ] {
        let (status, e) = call(&app, &admin, Method::PUT, path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {e}");
        assert_eq!(
            error_parts(&e),
            ("invalid_name".into(), Some("name".into()))
        );
        let (status, _) = call(&app, &viewer, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
    let long = format!("/api/customers/{}", "x".repeat(65));
    let (status, _) = call(&app, &admin, Method::PUT, &long, Some(body.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let r = admin
        .put(app.url("/api/customers/ACME"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for bad in [
        json!({"naming_template": 5}),
        json!({"naming_template": "{board}", "surprise": true}),
        json!([1, 2]),
    ] {
        let (status, e) = call(
            &app,
            &admin,
            Method::PUT,
            "/api/customers/ACME",
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {e}");
    }

    // 422: the checker's message at the field
    for (template, needle) in [
        ("{boards}", "unknown token {boards}"),
        ("{customer}/{board}", "not allowed in a folder name"),
        ("{board", "unbalanced"),
        ("", "empty"),
    ] {
        let (status, e) = call(
            &app,
            &admin,
            Method::PUT,
            "/api/customers/ACME",
            Some(json!({"naming_template": template})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{template}: {e}");
        let (code, field) = error_parts(&e);
        assert_eq!(code, "invalid_template");
        assert_eq!(field.as_deref(), Some("naming_template"));
        let message = e["error"]["message"].as_str().expect("message");
        assert!(message.contains(needle), "{template}: {message}");
    }
    let (status, e) = call(
        &app,
        &admin,
        Method::PUT,
        "/api/customers/ACME",
        Some(json!({"naming_template": "{board}", "defaults": [1]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(error_parts(&e).1.as_deref(), Some("defaults"));
    assert!(
        app.store
            .get_customer("ACME")
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn preview_renders_what_is_typed() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;
    let preview = |body: Value| {
        let app = &app;
        let viewer = &viewer;
        async move {
            call(
                app,
                viewer,
                Method::POST,
                "/api/customers/preview",
                Some(body),
            )
            .await
        }
    };

    let (status, body) = preview(
        json!({"naming_template": "{customer}-{board}-{edition}-{build}-{index}{variant}"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["folder"], "CUSTOMER-BOARD-IoTEnterpriseS-26100-1");

    let (status, body) = preview(json!({
        "naming_template": "{customer}_{board}_{job}",
        "customer": "ACME",
        "board": "X13SAV",
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let folder = body["folder"].as_str().expect("folder");
    let job = folder.strip_prefix("ACME_X13SAV_").expect("prefix");
    assert_eq!(job.len(), 8, "{folder}");
    assert!(job.chars().all(|c| c.is_ascii_hexdigit()), "{folder}");

    let (status, body) = preview(json!({"naming_template": "{timestamp}"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        is_timestamp(body["folder"].as_str().expect("folder")),
        "{body}"
    );

    // the customer's latest board is used when none is given
    let request = JobRequest {
        motherboard_model: BOARD.to_string(),
        base_image: "placeholder.wim".to_string(),
        customer_name: "ACME".to_string(),
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
    };
    app.store
        .create_job(&request, Some("builder"))
        .await
        .expect("job");
    let (_, body) = preview(json!({"naming_template": "{board}", "customer": "ACME"})).await;
    assert_eq!(body["folder"], BOARD);
    assert_eq!(body["board"], BOARD);

    for (body, field) in [
        (json!({"naming_template": "{nope}"}), "naming_template"),
        (json!({"naming_template": "a:b"}), "naming_template"),
        (
            json!({"naming_template": "{board}", "board": "../x"}),
            "board",
        ),
        (
            json!({"naming_template": "{board}", "customer": "a b"}),
            "customer",
        ),
    ] {
        let (status, e) = preview(body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(error_parts(&e).1.as_deref(), Some(field), "{body}");
    }
    let (status, _) = preview(json!({"customer": "ACME"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A build for a customer with a template is published in the folder it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_is_named_by_the_customer_template() {
    let app = start_demo().await;
    let demo = app.demo.as_ref().expect("demo repository");
    let admin = app.login(Role::Admin).await;
    let (status, body) = call(
        &app,
        &admin,
        Method::PUT,
        "/api/customers/ACME",
        Some(json!({"naming_template": "{customer}-{board}-{job}"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let builder = app.login(Role::Builder).await;
    let (status, created) = call(
        &app,
        &builder,
        Method::POST,
        "/api/job",
        Some(json!({
            "motherboard_model": demo.board,
            "base_image": demo.base_image,
            "customer_name": "ACME",
            "answer_file": demo.answer_file,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["job_id"].as_str().expect("job_id").to_string();

    let work = tempfile::tempdir().expect("work dir");
    let repo = Repository::open(&app.root).expect("open repository");
    let mut config = WorkerConfig::new("customers-test", work.path().join("work"));
    config.heartbeat = Duration::from_millis(50);
    config.poll_interval = Duration::from_millis(20);
    Worker::new(app.store.clone(), repo, config)
        .run_until_idle()
        .await
        .expect("worker run");

    let (status, job) = call(&app, &admin, Method::GET, &format!("/api/jobs/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let short: String = id.chars().filter(|c| *c != '-').take(8).collect();
    let want = format!("ACME/ACME-{}-{short}", demo.board);
    assert_eq!(job["output_dir"], want.as_str(), "{job}");
    assert!(app.root.join("8_Output").join(&want).is_dir(), "{want}");

    // the listing's preview now uses the board of that job
    let (_, list) = call(&app, &admin, Method::GET, "/api/customers", None).await;
    assert_eq!(list["customers"][0]["preview_board"], demo.board.as_str());
}
