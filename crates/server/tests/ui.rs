//! The embedded web UI: SPA fallback, cache headers, the "not built" page, and `/api/`
//! paths that stay JSON. Most cases run `ui::respond` on a fixed set of files, so they do
//! not depend on whether `web/dist` was built; the last ones go through the real app.

mod common;

use std::collections::HashMap;

use axum::body::to_bytes;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;
use wait_server::ui::{self, IMMUTABLE, MemoryAssets, NO_CACHE, NOT_BUILT_PAGE};

const INDEX: &str = "<!doctype html><div id=\"root\"></div>";
const SCRIPT: &str = "console.log(1)";

fn built() -> MemoryAssets {
    let mut files = HashMap::new();
    files.insert("index.html".to_string(), INDEX.as_bytes().to_vec());
    files.insert(
        "assets/index-AbC123.js".to_string(),
        SCRIPT.as_bytes().to_vec(),
    );
    files.insert("assets/index-Def456.css".to_string(), b"body{}".to_vec());
    files.insert("robots.txt".to_string(), b"User-agent: *".to_vec());
    MemoryAssets(files)
}

struct Answer {
    status: StatusCode,
    content_type: String,
    cache: Option<String>,
    body: String,
}

async fn answer(response: Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("read body");
    Answer {
        status,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().expect("ascii content type").to_string())
            .unwrap_or_default(),
        cache: headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().expect("ascii cache-control").to_string()),
        body: String::from_utf8(bytes.to_vec()).expect("utf-8 body"),
    }
}

async fn get(assets: &MemoryAssets, path: &str) -> Answer {
    let uri: Uri = path.parse().expect("uri");
    answer(ui::respond(assets, &Method::GET, &uri)).await
}

#[tokio::test]
async fn root_serves_index_html_revalidated_every_time() {
    let a = get(&built(), "/").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.content_type.starts_with("text/html"),
        "{}",
        a.content_type
    );
    assert_eq!(a.cache.as_deref(), Some(NO_CACHE));
    assert_eq!(a.body, INDEX);
}

#[tokio::test]
async fn client_side_routes_fall_back_to_index_html() {
    for path in [
        "/login",
        "/jobs/01a21782-f58e-7122-a951-91eca6a1fc22",
        "/outputs?q=DEMO",
        "/history/",
        "/apiary",
    ] {
        let a = get(&built(), path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.body, INDEX, "{path}");
        assert_eq!(a.cache.as_deref(), Some(NO_CACHE), "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_cached_forever_with_their_type() {
    let js = get(&built(), "/assets/index-AbC123.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.body, SCRIPT);
    assert!(js.content_type.starts_with("text/javascript"));
    assert_eq!(js.cache.as_deref(), Some(IMMUTABLE));
    let css = get(&built(), "/assets/index-Def456.css").await;
    assert!(css.content_type.starts_with("text/css"));
    assert_eq!(css.cache.as_deref(), Some(IMMUTABLE));
}

#[tokio::test]
async fn unhashed_files_are_served_but_revalidated() {
    let a = get(&built(), "/robots.txt").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "User-agent: *");
    assert!(a.content_type.starts_with("text/plain"));
    assert_eq!(a.cache.as_deref(), Some(NO_CACHE));
}

#[tokio::test]
async fn a_missing_hashed_asset_is_404_not_the_index() {
    let a = get(&built(), "/assets/index-OLD999.js").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_ne!(a.body, INDEX);
    assert!(!a.content_type.starts_with("text/html"));
}

#[tokio::test]
async fn without_a_build_every_page_says_how_to_build_it() {
    let empty = MemoryAssets::default();
    for path in ["/", "/jobs/x", "/login"] {
        let a = get(&empty, path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(a.content_type.starts_with("text/html"));
        assert_eq!(a.cache.as_deref(), Some(NO_CACHE));
        assert_eq!(a.body, NOT_BUILT_PAGE);
        assert!(a.body.contains("make web"));
    }
}

#[tokio::test]
async fn api_paths_get_a_json_404_even_with_a_build() {
    for path in ["/api/nope", "/api", "/api/jobs/x/y/z"] {
        let a = get(&built(), path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert!(a.content_type.starts_with("application/json"), "{path}");
        let body: Value = serde_json::from_str(&a.body).expect("json");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn other_methods_outside_the_api_are_refused_as_json() {
    let uri: Uri = "/login".parse().expect("uri");
    let a = answer(ui::respond(&built(), &Method::POST, &uri)).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = serde_json::from_str(&a.body).expect("json");
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[test]
fn content_types_cover_what_vite_writes() {
    let table = [
        ("index.html", "text/html; charset=utf-8"),
        ("assets/a.js", "text/javascript; charset=utf-8"),
        ("assets/a.mjs", "text/javascript; charset=utf-8"),
        ("assets/a.CSS", "text/css; charset=utf-8"),
        ("assets/a.svg", "image/svg+xml"),
        ("assets/a.woff2", "font/woff2"),
        ("assets/a.js.map", "application/json"),
        ("noextension", "application/octet-stream"),
        ("assets/a.unknown", "application/octet-stream"),
    ];
    for (path, want) in table {
        assert_eq!(ui::content_type(path), want, "{path}");
    }
}

#[tokio::test]
async fn the_real_app_serves_the_ui_outside_api_and_json_inside() {
    let app = common::start_bare().await;
    let client = reqwest::Client::new();

    let missing = client
        .get(app.url("/api/does-not-exist"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
    let (_, _, body) = common::json(missing).await;
    assert_eq!(body["error"]["code"], "not_found");

    let health = client
        .get(app.url("/api/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(health.status(), reqwest::StatusCode::OK);

    let page = client
        .get(app.url("/jobs/some-job"))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert_eq!(
        page.headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some(NO_CACHE)
    );
    let html = page.text().await.expect("body");
    // the binary under test may or may not carry a build; it must serve the matching page
    if ui::is_built() {
        assert!(html.contains("id=\"root\""), "{html}");
    } else {
        assert_eq!(html, NOT_BUILT_PAGE);
    }
    app.shutdown().await.expect("shutdown");
}
