//! The schemas of `GET /api/openapi.json` against the real app: every JSON success
//! answer names a component schema with its fields, and real answers of the main
//! read endpoints conform to the schema the document gives for them — with no field
//! missing and none undocumented, so renaming a field in a handler fails here.
#![allow(clippy::unwrap_used)]

mod common;
mod openapi_schema;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use wait_store::Role;

use common::{TestApp, json as read_json, send, start_demo};
use openapi_schema::{answer_schema, problems};

async fn served_document(app: &TestApp) -> Value {
    let r = reqwest::get(app.url("/api/openapi.json")).await.unwrap();
    let (status, _, doc) = read_json(r).await;
    assert_eq!(status, StatusCode::OK);
    doc
}

/// Fail with every difference when `answer` does not conform.
fn assert_conforms(doc: &Value, method: &str, path: &str, status: u16, answer: &Value) {
    let schema = answer_schema(doc, method, path, status);
    let found = problems(doc, schema, answer);
    assert!(
        found.is_empty(),
        "{} {path} {status} does not match its schema:\n  {}\nanswer: {answer}",
        method.to_uppercase(),
        found.join("\n  ")
    );
}

/// GET `path` as `client` and check the 200 answer against the document.
async fn get_conforming(
    app: &TestApp,
    doc: &Value,
    client: &Client,
    path: &str,
    route: &str,
) -> Value {
    let (status, answer) = send(client, Method::GET, &app.url(path), None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {answer}");
    assert_conforms(doc, "get", route, 200, &answer);
    answer
}

#[tokio::test]
async fn every_json_success_answer_and_body_names_a_component_with_fields() {
    let doc = serde_json::to_value(wait_server::openapi::document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let named = |schema: &Value, what: &str| {
        let name = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("{what}: not a named component: {schema}"));
        let component = &schemas[name];
        assert!(
            component["properties"].is_object() || component["allOf"].is_array(),
            "{what}: component {name} lists no fields"
        );
    };
    let mut answers = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{} {path}", method.to_uppercase());
            for (status, response) in op["responses"].as_object().unwrap() {
                let schema = &response["content"]["application/json"]["schema"];
                if schema.is_object() && !status.starts_with('4') {
                    named(schema, &format!("{what} {status}"));
                    answers += 1;
                }
            }
            for (content_type, media) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                named(&media["schema"], &format!("{what} body ({content_type})"));
            }
        }
    }
    assert!(answers > 40, "only {answers} JSON answers documented");
    // every reference resolves
    let text = doc.to_string();
    for piece in text.split("#/components/schemas/").skip(1) {
        let name: String = piece.chars().take_while(|c| *c != '"').collect();
        assert!(schemas.contains_key(&name), "dangling reference to {name}");
    }
}

#[tokio::test]
async fn the_validator_catches_a_renamed_or_missing_field() {
    let doc = serde_json::to_value(wait_server::openapi::document()).unwrap();
    let schema = answer_schema(&doc, "get", "/api/auth/me", 200);
    let good = json!({"user": {"id": 1, "username": "ann", "role": "viewer"}});
    assert!(problems(&doc, schema, &good).is_empty());
    let renamed = json!({"user": {"id": 1, "name": "ann", "role": "viewer"}});
    let found = problems(&doc, schema, &renamed);
    assert!(
        found.iter().any(|p| p.contains("\"username\" is missing")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("\"name\" is not in the schema")),
        "{found:?}"
    );
    let bad_role = json!({"user": {"id": 1, "username": "ann", "role": "owner"}});
    assert!(!problems(&doc, schema, &bad_role).is_empty());
}

#[tokio::test]
async fn real_answers_match_their_schemas() {
    let app = start_demo().await;
    let doc = served_document(&app).await;
    let admin = app.login(Role::Admin).await;
    let builder = app.login(Role::Builder).await;

    get_conforming(&app, &doc, &admin, "/api/auth/me", "/api/auth/me").await;
    let boards = get_conforming(
        &app,
        &doc,
        &builder,
        "/api/resources/motherboards",
        "/api/resources/motherboards",
    )
    .await;
    assert!(!boards["motherboards"].as_array().unwrap().is_empty());

    // a queued job, so the job answers carry every field (queue_position included)
    let demo = app.demo.as_ref().unwrap();
    let body = json!({"motherboard_model": demo.board, "base_image": demo.base_image});
    let (status, created) = send(&builder, Method::POST, &app.url("/api/job"), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_conforms(&doc, "post", "/api/job", 201, &created);
    let id = created["job_id"].as_str().unwrap();

    let job = get_conforming(
        &app,
        &doc,
        &builder,
        &format!("/api/job?job_id={id}"),
        "/api/job",
    )
    .await;
    assert_eq!(job["queue_position"], 1);
    let queue = get_conforming(&app, &doc, &builder, "/api/queue", "/api/queue").await;
    assert_eq!(queue["jobs"].as_array().unwrap().len(), 1);
    let page = get_conforming(&app, &doc, &builder, "/api/jobs", "/api/jobs").await;
    assert_eq!(page["total"], 1);
    get_conforming(
        &app,
        &doc,
        &builder,
        &format!("/api/jobs/{id}"),
        "/api/jobs/{id}",
    )
    .await;
    get_conforming(
        &app,
        &doc,
        &builder,
        &format!("/api/jobs/{id}/logs"),
        "/api/jobs/{id}/logs",
    )
    .await;
    get_conforming(&app, &doc, &builder, "/api/outputs", "/api/outputs").await;
    get_conforming(
        &app,
        &doc,
        &builder,
        "/api/resources/base-images",
        "/api/resources/base-images",
    )
    .await;
    get_conforming(&app, &doc, &builder, "/api/health", "/api/health").await;

    // a webhook: the create answer shows the secret, the listing does not
    let hook = json!({"url": "https://hooks.example.com/wait", "events": ["job.completed"]});
    let (status, created) = send(&admin, Method::POST, &app.url("/api/webhooks"), Some(hook)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_conforms(&doc, "post", "/api/webhooks", 201, &created);
    assert!(created["secret"].is_string());
    let hooks = get_conforming(&app, &doc, &admin, "/api/webhooks", "/api/webhooks").await;
    assert!(hooks["webhooks"][0].get("secret").is_none());

    app.shutdown().await.unwrap();
}
