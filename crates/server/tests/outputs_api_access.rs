//! Who and what may reach the outputs API on the real app: path attacks (encoded dots
//! and slashes, NUL bytes, links and manifests pointing outside `8_Output/`) get 400 or
//! 404 and never a byte from outside, and every endpoint needs a session.
#![allow(clippy::unwrap_used)]
mod common;
mod outputs_api_support;

use reqwest::StatusCode;

use common::error_parts;
use outputs_api_support::{MEMORY, SECRET, empty_repo, manifest_json, start, write_output};

// ---------------------------------------------------------------------------------------
// Path safety and authentication

#[tokio::test]
async fn path_attacks_get_400_or_404_and_never_a_file_from_outside_8_output() {
    let _shared = MEMORY.read().await;
    let (dir, root) = empty_repo();
    // Outside 8_Output: a folder that looks like an output.
    let secret = dir.path().join("secret");
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(secret.join("install.wim"), SECRET).unwrap();
    std::fs::write(secret.join("manifest.json"), m.to_string()).unwrap();
    std::fs::write(secret.join("checksum.sha256"), SECRET).unwrap();
    let outputs = root.join("8_Output");
    write_output(&root, "ACME", "ok", &m, &[("install.wim", b"fine")]);
    std::os::unix::fs::symlink(&secret, outputs.join("ACME/leak")).unwrap();
    std::os::unix::fs::symlink(dir.path(), outputs.join("LINKED")).unwrap();
    let secret_wim = secret.join("install.wim");
    for (folder, image) in [
        ("dotdot", "../../../../secret/install.wim".to_string()),
        ("absolute", secret_wim.to_str().unwrap().to_string()),
        ("linkfile", "install.wim".to_string()),
    ] {
        let m = manifest_json(
            "ACME",
            "X13SAW",
            "2025-01-01T00:00:00Z",
            &[("default", &image, None)],
        );
        write_output(&root, "ACME", folder, &m, &[]);
    }
    std::os::unix::fs::symlink(&secret_wim, outputs.join("ACME/linkfile/install.wim")).unwrap();

    let app = start(&root).await;
    let cases: &[(&str, u16)] = &[
        ("/api/outputs/ACME/ok/download/wim", 200),
        ("/api/outputs/%2e%2e/%2e%2e/manifest", 400),
        ("/api/outputs/ACME/%2e%2e/manifest", 400),
        ("/api/outputs/ACME/%2E%2E/download/wim", 400),
        ("/api/outputs/ACME/../manifest", 400),
        ("/api/outputs/../../manifest", 400),
        ("/api/outputs/%2e%2e%2F%2e%2e%2Fsecret/x/manifest", 400),
        ("/api/outputs/ACME/..%2F..%2F..%2Fsecret/download/wim", 400),
        (
            "/api/outputs/ACME/ok%2F..%2F..%2F..%2Fsecret/download/wim",
            400,
        ),
        ("/api/outputs/%2Ftmp/x/manifest", 400),
        ("/api/outputs/ACME/%2Fetc%2Fpasswd/download/manifest", 400),
        ("/api/outputs/ACME/ok%00/manifest", 400),
        ("/api/outputs/ACME/%00/download", 400),
        ("/api/outputs/ACME/..%5C..%5Csecret/manifest", 400),
        ("/api/outputs/ACME/%5Csecret/download/wim", 400),
        ("/api/outputs/ACME/.partial-1-1/manifest", 400),
        ("/api/outputs/%FF/ok/manifest", 400),
        // Decoded exactly once: `%252e%252e` is the plain name `%2e%2e`, which is absent.
        ("/api/outputs/ACME/%252e%252e/manifest", 404),
        ("/api/outputs/ACME/leak/manifest", 404),
        ("/api/outputs/ACME/leak/download/wim", 404),
        ("/api/outputs/ACME/leak/download/checksum", 404),
        ("/api/outputs/ACME/leak/download", 404),
        ("/api/outputs/LINKED/secret/manifest", 404),
        ("/api/outputs/LINKED/secret/download/wim", 404),
        ("/api/outputs/ACME/dotdot/download/wim", 404),
        ("/api/outputs/ACME/dotdot/download", 404),
        ("/api/outputs/ACME/absolute/download/wim", 404),
        ("/api/outputs/ACME/absolute/download", 404),
        ("/api/outputs/ACME/linkfile/download/wim", 404),
        ("/api/outputs/ACME/linkfile/download", 404),
        ("/api/outputs/ACME/missing/manifest", 404),
    ];
    for (target, want) in cases {
        let (status, response) = app.raw_get(target).await;
        assert_eq!(status, *want, "{target}: {response}");
        assert!(!response.contains(SECRET), "{target} leaked: {response}");
        if *want == 400 {
            assert!(
                response.contains("\"code\":\"invalid_path\""),
                "{target}: {response}"
            );
        }
    }
    // The listing shows neither the linked folders nor the secret.
    let (status, body) = app.json("/api/outputs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.to_string().contains("leak") && !body.to_string().contains("LINKED"));
}

#[tokio::test]
async fn every_outputs_endpoint_needs_a_session_and_the_viewer_role_is_enough() {
    let _shared = MEMORY.read().await;
    let (_dir, root) = empty_repo();
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    write_output(&root, "ACME", "ok", &m, &[("install.wim", b"wim")]);
    let app = start(&root).await;
    let paths = [
        "/api/outputs",
        "/api/outputs?q=acme",
        "/api/outputs/ACME/ok/manifest",
        "/api/outputs/ACME/ok/download",
        "/api/outputs/ACME/ok/download/wim",
        "/api/outputs/ACME/ok/download/checksum",
        "/api/outputs/ACME/ok/download/manifest",
    ];
    // Authentication comes before anything else, malformed names included.
    for path in paths.iter().chain(&[
        "/api/outputs/ACME/ok/download/iso",
        "/api/outputs/ACME/%2Fetc%00/manifest",
    ]) {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        let (code, _) = error_parts(&r.json().await.unwrap());
        assert_eq!(code, "unauthorized");
        let r = app
            .client
            .get(app.url(path))
            .bearer_auth("not-a-session")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Viewer is the lowest role, so no caller with a session gets 403 here.
    for path in paths {
        let r = app.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
}
