//! The outputs listing and manifest views on the real app: a real build (both key
//! variants, each with its ISO) and hand-made output folders, grouped by customer,
//! filtered by `q`, and each folder's manifest as JSON or text.
#![allow(clippy::unwrap_used)]
mod common;
mod outputs_api_support;

use std::path::Path;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};

use common::error_parts;
use outputs_api_support::{
    MEMORY, built, empty_repo, header, manifest_json, run, start, write_output,
};

// ---------------------------------------------------------------------------------------
// Listing and manifest

#[tokio::test]
async fn listing_shows_the_real_build_with_both_variants_their_isos_sizes_and_hashes() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let (status, body) = app.json("/api/outputs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 1);
    let group = &body["customers"][0];
    assert_eq!(group["customer"], "ACME");
    let out = &group["outputs"][0];
    assert_eq!(out["folder"], built.folder.as_str());
    assert_eq!(out["path"], format!("ACME/{}", built.folder));
    assert_eq!(out["job_id"], built.job_id.as_str());
    assert_eq!(out["board"], "X13SAW");
    assert_eq!(out["failed_validation"], false);
    assert!(out["created_at"].is_string());
    assert_eq!(out["problems"], json!([]), "{out}");

    let variants = out["variants"].as_array().unwrap();
    let names: Vec<&str> = variants
        .iter()
        .map(|v| v["variant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["key", "nokey"]);
    for v in variants {
        for (file, entry) in [(&v["image_file"], v), (&v["iso"]["file"], &v["iso"])] {
            let path = built.dir().join(file.as_str().expect("file name"));
            assert_eq!(entry["size"], std::fs::metadata(&path).unwrap().len());
            let sha = run("sha256sum", &[path.to_str().unwrap()], Path::new("."));
            assert_eq!(entry["sha256"], sha.split_whitespace().next().unwrap());
        }
    }
}

#[tokio::test]
async fn listing_groups_customers_newest_first_marks_failed_validation_and_filters_by_q() {
    let _shared = MEMORY.read().await;
    let (_dir, root) = empty_repo();
    let wim: &[u8] = b"wim bytes";
    for (customer, folder, board, at) in [
        (
            "ACME",
            "20250101_000000_X13SAW",
            "X13SAW",
            "2025-01-01T00:00:00Z",
        ),
        (
            "ACME",
            "20250201_000000_X13SAW_FAILED_VALIDATION",
            "X13SAW",
            "2025-02-01T00:00:00.5Z",
        ),
        ("Zeta", "20250301_000000_B2", "B2", "2025-03-01T00:00:00Z"),
    ] {
        let m = manifest_json(customer, board, at, &[("default", "install.wim", None)]);
        write_output(&root, customer, folder, &m, &[("install.wim", wim)]);
    }
    // Without a manifest: listed with its problem, dated by the folder, board from the
    // name.
    let bare = root.join("8_Output/Old/20200101_000000_OLDBOARD");
    std::fs::create_dir_all(&bare).unwrap();
    run(
        "touch",
        &["-d", "2020-01-01T00:00:00Z", bare.to_str().unwrap()],
        &root,
    );
    // Never listed: a build in progress, a link, a stray file.
    std::fs::create_dir_all(root.join("8_Output/ACME/.partial-123-1")).unwrap();
    std::os::unix::fs::symlink(
        root.join("8_Output/ACME/20250101_000000_X13SAW"),
        root.join("8_Output/ACME/linked"),
    )
    .unwrap();
    std::fs::write(root.join("8_Output/ACME/stray.txt"), b"x").unwrap();

    let app = start(&root).await;
    let (status, body) = app.json("/api/outputs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 4);
    let customers: Vec<&str> = body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer"].as_str().unwrap())
        .collect();
    assert_eq!(customers, ["Zeta", "ACME", "Old"]);
    let acme = &body["customers"][1]["outputs"];
    assert_eq!(
        acme[0]["folder"],
        "20250201_000000_X13SAW_FAILED_VALIDATION"
    );
    assert_eq!(acme[0]["failed_validation"], true);
    assert_eq!(acme[1]["folder"], "20250101_000000_X13SAW");
    assert_eq!(acme[1]["failed_validation"], false);
    assert_eq!(acme[1]["variants"][0]["image_file"], "install.wim");
    assert_eq!(acme[1]["variants"][0]["size"], wim.len());
    assert_eq!(acme[1]["job_id"], "job-X13SAW-2025-01-01T00:00:00Z");
    let old = &body["customers"][2]["outputs"][0];
    assert_eq!(old["job_id"], Value::Null);
    assert_eq!(old["board"], "OLDBOARD");
    assert!(
        old["created_at"]
            .as_str()
            .unwrap()
            .starts_with("2020-01-01")
    );
    assert!(
        old["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("no manifest.json")),
        "{old}"
    );

    for (q, folders) in [
        (
            "x13saw",
            vec![
                "20250201_000000_X13SAW_FAILED_VALIDATION",
                "20250101_000000_X13SAW",
            ],
        ),
        ("zeta", vec!["20250301_000000_B2"]),
        ("failed", vec!["20250201_000000_X13SAW_FAILED_VALIDATION"]),
        ("oldboard", vec!["20200101_000000_OLDBOARD"]),
        (
            "  ",
            vec![
                "20250301_000000_B2",
                "20250201_000000_X13SAW_FAILED_VALIDATION",
                "20250101_000000_X13SAW",
                "20200101_000000_OLDBOARD",
            ],
        ),
        ("nothing-like-this", vec![]),
    ] {
        let (status, body) = app.json(&format!("/api/outputs?q={q}")).await;
        assert_eq!(status, StatusCode::OK);
        let got: Vec<&str> = body["customers"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["outputs"].as_array().unwrap())
            .map(|o| o["folder"].as_str().unwrap())
            .collect();
        assert_eq!(got, folders, "q={q}");
        assert_eq!(body["total"], folders.len());
    }
}

#[tokio::test]
async fn manifest_is_served_as_json_by_default_and_as_text_on_request() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let r = app.get(&built.api("/manifest")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, CONTENT_TYPE), "application/json");
    assert!(header(&r, CONTENT_DISPOSITION).starts_with("inline;"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, built.manifest());
    assert_eq!(body["job"]["job_id"], built.job_id.as_str());

    for format in ["text", "txt"] {
        let r = app
            .get(&built.api(&format!("/manifest?format={format}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, CONTENT_TYPE).starts_with("text/plain"));
        let text = r.text().await.unwrap();
        assert_eq!(
            text,
            std::fs::read_to_string(built.dir().join("manifest.txt")).unwrap()
        );
        assert!(text.starts_with("WAIT build manifest"));
    }
    let (status, body) = app.json(&built.api("/manifest?format=xml")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(&body).0, "invalid_query");
}
