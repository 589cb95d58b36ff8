//! docs/API.md is the Markdown rendering of the OpenAPI document: it must be exactly
//! what `waitctl openapi --markdown` prints now, so the reference cannot fall behind
//! the routes, their roles or their schemas.

use std::path::Path;
use std::process::Command;

const REGENERATE: &str = "cargo run -q -p waitctl -- openapi --markdown > docs/API.md";

fn waitctl(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_waitctl"))
        .args(args)
        .env_remove("WAIT_CONFIG")
        .output()
        .expect("run waitctl");
    assert!(
        out.status.success(),
        "waitctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn api_md_is_the_current_rendering_of_the_openapi_document() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/API.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let fresh = waitctl(&["openapi", "--markdown"]);
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(fresh.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "docs/API.md is out of date with the OpenAPI document (first difference at line \
             {line}). Regenerate it from the repository root with:\n\n    {REGENERATE}\n"
        );
    }
    assert!(
        fresh.contains(REGENERATE),
        "the header says how to regenerate it"
    );
}

#[test]
fn openapi_prints_the_json_document_with_every_contract_route() {
    let doc: serde_json::Value =
        serde_json::from_str(&waitctl(&["openapi"])).expect("JSON document");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    for path in [
        "/api/auth/login",
        "/api/job",
        "/api/jobs/{id}/clone",
        "/api/resources/motherboards/search",
        "/api/outputs/{customer}/{job}/download",
        "/api/webhooks/{id}/deliveries",
        "/api/integrations/slack/command",
        "/api/health",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}
