//! The web UI: `web/dist` embedded in the binary and served for every path outside `/api/`.
//!
//! The UI routes in the browser (single-page app), so any GET that names no file gets
//! `index.html` and the client router takes over. Vite puts content-hashed files under
//! `assets/`; their names change with their content, so browsers may keep them forever,
//! while `index.html` must be revalidated so a new build is picked up at once.
//!
//! A clone that never ran `make web` has no `web/dist`: it still compiles (the folder may
//! be missing) and serves a page that says how to build the UI.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;

/// Cache policy for content-hashed files: they never change under the same name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache policy for everything else: revalidate on every use.
pub const NO_CACHE: &str = "no-cache";

/// The folder Vite writes hashed files to (`build.assetsDir`).
const HASHED_DIR: &str = "assets/";

/// Where the UI's files come from: the embedded build, or a fixed set in tests.
pub trait AssetSource: Send + Sync {
    /// The bytes of the file at `path` (relative, no leading `/`), if there is one.
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>>;
}

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Dist;

/// The `web/dist` files compiled into this binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Embedded;

impl AssetSource for Embedded {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        Dist::get(path).map(|file| file.data)
    }
}

/// A fixed set of files, for tests and tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryAssets(pub HashMap<String, Vec<u8>>);

impl AssetSource for MemoryAssets {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        self.0.get(path).map(|bytes| Cow::Owned(bytes.clone()))
    }
}

/// Whether the binary carries a built UI.
pub fn is_built() -> bool {
    Embedded.get("index.html").is_some()
}

/// The router's fallback: JSON 404 under `/api/`, the UI everywhere else.
pub async fn fallback(method: Method, uri: Uri) -> Response {
    respond(&Embedded, &method, &uri)
}

/// What the server answers for a path no API route matched, with files from `assets`.
pub fn respond(assets: &dyn AssetSource, method: &Method, uri: &Uri) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("no such endpoint").into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "the web UI only answers GET",
        )
        .into_response();
    }
    let relative = path.trim_start_matches('/');
    if let Some(bytes) = assets.get(relative).filter(|_| !relative.is_empty()) {
        let cache = if relative.starts_with(HASHED_DIR) {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        return file(bytes, content_type(relative), cache);
    }
    // A missing hashed file is a stale page asking for an old build's script: answering
    // with HTML would only turn that into a confusing MIME error in the browser.
    if relative.starts_with(HASHED_DIR) {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE))],
            "no such file in this build of the web UI; reload the page",
        )
            .into_response();
    }
    match assets.get("index.html") {
        Some(index) => file(index, "text/html; charset=utf-8", NO_CACHE),
        None => file(
            Cow::Borrowed(NOT_BUILT_PAGE.as_bytes()),
            "text/html; charset=utf-8",
            NO_CACHE,
        ),
    }
}

fn file(bytes: Cow<'static, [u8]>, mime: &'static str, cache: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes.into_owned(),
    )
        .into_response()
}

/// The media type for the file types a Vite build produces.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Served in place of the UI when the binary was built without `web/dist`.
pub const NOT_BUILT_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>WAIT — web UI not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}code{background:#eee;padding:.1rem .3rem;border-radius:.2rem}</style>
</head>
<body>
<h1>The web UI was not built</h1>
<p>This WAIT binary was compiled without the web UI. The HTTP API under <code>/api/</code> works as usual.</p>
<p>To get the UI, run <code>make web</code> in the source tree (it needs Node.js 20 and npm), then rebuild the server with <code>make build</code>.</p>
</body>
</html>
"#;
