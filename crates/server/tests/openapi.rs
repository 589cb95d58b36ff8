//! `GET /api/openapi.json` against the real app: it documents exactly the routes of
//! `routes::table`, with their roles, error shape, security schemes and content types.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;
use wait_server::routes::table::{Access, ROUTES};

use common::{json, start_bare};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn served_document() -> Value {
    let app = start_bare().await;
    // public: no credentials
    let r = reqwest::get(app.url("/api/openapi.json")).await.unwrap();
    let (status, headers, doc) = json(r).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    app.shutdown().await.unwrap();
    doc
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method]
}

#[tokio::test]
async fn document_lists_exactly_the_routes_of_the_table() {
    let doc = served_document().await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (key, _) in item.as_object().unwrap() {
            assert!(METHODS.contains(&key.as_str()), "{path}: unexpected {key}");
            documented.insert((key.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routes not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

#[tokio::test]
async fn document_is_openapi_3_1_with_both_security_schemes() {
    let doc = served_document().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["info"]["title"].is_string());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["type"], "apiKey");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "wait_session");
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["required"][0], "error");
    let inner = &error["properties"]["error"];
    for field in ["code", "message", "field"] {
        assert!(inner["properties"][field].is_object(), "error.{field}");
    }
}

#[tokio::test]
async fn every_operation_states_its_role_security_and_error_answers() {
    let doc = served_document().await;
    let mut ids = BTreeSet::new();
    for route in ROUTES {
        let method = route.method.as_str().to_lowercase();
        let op = operation(&doc, &method, route.path);
        let what = format!("{} {}", route.method, route.path);
        assert!(
            ids.insert(op["operationId"].as_str().unwrap().to_string()),
            "{what}: duplicate operationId"
        );
        let description = op["description"].as_str().unwrap();
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{what}: no success answer"
        );
        for (status, response) in responses {
            if status.starts_with('4') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{what} {status}: not the error shape"
                );
            }
        }
        match route.access {
            Access::Public => {
                assert!(description.contains("public"), "{what}: {description}");
                assert!(op.get("security").is_none(), "{what}: public but secured");
            }
            Access::Role(role) => {
                let name = format!("{role:?}").to_lowercase();
                assert!(description.contains(&name), "{what}: {description}");
                assert!(responses.contains_key("401"), "{what}: no 401");
                let security = op["security"].as_array().unwrap();
                assert!(security.iter().any(|s| s.get("bearer").is_some()));
                assert!(security.iter().any(|s| s.get("session").is_some()));
            }
        }
        // every `{param}` of the path is a documented, required path parameter
        for name in route
            .path
            .split('/')
            .filter_map(|p| p.strip_prefix('{')?.strip_suffix('}'))
        {
            let params = op["parameters"].as_array().unwrap();
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                "{what}: path parameter {name}"
            );
        }
    }
}

#[tokio::test]
async fn streams_and_downloads_name_their_content_types() {
    let doc = served_document().await;
    let content = |path: &str| {
        operation(&doc, "get", path)["responses"]["200"]["content"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(content("/api/job/stream"), ["text/event-stream"]);
    assert_eq!(
        content("/api/outputs/{customer}/{job}/download"),
        ["application/zip"]
    );
    assert_eq!(
        content("/api/outputs/{customer}/{job}/download/wim"),
        ["application/x-ms-wim"]
    );
    assert_eq!(
        content("/api/outputs/{customer}/{job}/download/iso"),
        ["application/x-iso9660-image"]
    );
    let login = operation(&doc, "post", "/api/auth/login");
    let body = &login["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/LoginBody");
    let body = &doc["components"]["schemas"]["LoginBody"];
    assert_eq!(
        body["required"],
        serde_json::json!(["username", "password"])
    );
}
