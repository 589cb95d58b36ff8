//! Helpers shared by the `resources_api_*` test files: the demo repository's board and
//! base image, short GETs, and writing extra files and packages into the repository.
// Each test file uses only some of these helpers; the rest would warn as dead code there.
#![allow(dead_code)]

use std::path::Path;

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use wait_catalog::fixtures::{DemoPackages, write_demo_packages};

use crate::common::{TestApp, send};

pub const INF: &str = "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\nClass=System\r\n";

pub fn demo(app: &TestApp) -> (&str, &str) {
    let demo = app.demo.as_ref().unwrap();
    (demo.board.as_str(), demo.base_image.as_str())
}

pub async fn get(client: &Client, app: &TestApp, path: &str) -> (StatusCode, Value) {
    send(client, Method::GET, &app.url(path), None).await
}

pub async fn ok(client: &Client, app: &TestApp, path: &str) -> Value {
    let (status, body) = get(client, app, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

pub fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The demo packages plus an arm64 update in the same folder (which cannot fit).
pub fn with_packages(app: &TestApp) -> DemoPackages {
    let packages = write_demo_packages(&app.root).unwrap();
    let mum = wait_catalog::fixtures::update_mum(
        "Package_for_KB5999002",
        "26100.2033.1.3",
        "arm64",
        "neutral",
        "KB5999002",
        "Update",
    );
    let cab = wait_catalog::fixtures::cabinet(&[("update.mum", mum.as_bytes())]).unwrap();
    write(
        &app.root,
        "4_Updates/DEMO/WIN11_24H2/Windows11.0-KB5999002-arm64.cab",
        &cab,
    );
    packages
}
