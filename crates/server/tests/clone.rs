//! `POST /api/jobs/{id}/clone` against a job a real worker built from a generated
//! repository, so the compared inputs are the ones a build actually recorded.
#![allow(clippy::unwrap_used)]
mod common;

use std::path::Path;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;
use wait_catalog::Repository;
use wait_pipeline::{Worker, WorkerConfig};
use wait_store::{Job, JobFilter, JobStatus, Resource, Role};

use common::{TestApp, error_parts, send, start_demo};

/// The demo server plus a worker on the same store and repository.
struct Env {
    app: TestApp,
    worker: Worker,
    _work: TempDir,
}

async fn env() -> Env {
    let app = start_demo().await;
    let work = tempfile::tempdir().expect("work dir");
    let repo = Repository::open(&app.root).expect("open repository");
    let mut config = WorkerConfig::new("clone-test", work.path().join("work"));
    config.heartbeat = Duration::from_millis(50);
    config.poll_interval = Duration::from_millis(20);
    let worker = Worker::new(app.store.clone(), repo, config);
    Env {
        app,
        worker,
        _work: work,
    }
}

impl Env {
    /// Queue a job as the builder through the API (not built).
    async fn queue(&self) -> Uuid {
        let demo = self.app.demo.as_ref().expect("demo repository");
        let builder = self.app.login(Role::Builder).await;
        let (status, body) = send(
            &builder,
            Method::POST,
            &self.app.url("/api/job"),
            Some(json!({
                "motherboard_model": demo.board,
                "base_image": demo.base_image,
                "customer_name": "ACME",
                "answer_file": demo.answer_file,
            })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["job_id"]
            .as_str()
            .expect("job_id")
            .parse()
            .expect("uuid")
    }

    /// Run every queued job to its end with the worker.
    async fn build_all(&self) {
        self.worker.run_until_idle().await.expect("worker run");
    }

    /// A job that was really built, so its inputs are recorded. Only the recorded
    /// inputs matter to a clone, so the job's final state is not checked here.
    async fn built(&self) -> Job {
        let id = self.queue().await;
        self.build_all().await;
        let job = self.job(id).await;
        assert!(
            job.status.is_final(),
            "the worker finished the job: {job:?}"
        );
        assert!(
            !job.resources.is_empty(),
            "the build recorded its inputs: {job:?}"
        );
        job
    }

    async fn job(&self, id: Uuid) -> Job {
        self.app
            .store
            .get_job(id)
            .await
            .expect("get job")
            .expect("job exists")
    }

    async fn clone(
        &self,
        client: &Client,
        id: Uuid,
        query: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        send(
            client,
            Method::POST,
            &self.app.url(&format!("/api/jobs/{id}/clone{query}")),
            body,
        )
        .await
    }

    async fn job_count(&self) -> i64 {
        self.app
            .store
            .list_jobs(&JobFilter::default())
            .await
            .expect("list jobs")
            .1
    }

    async fn log_messages(&self, id: Uuid) -> Vec<String> {
        self.app
            .store
            .logs_after(id, 0, true, 1000)
            .await
            .expect("logs")
            .into_iter()
            .map(|l| l.message)
            .collect()
    }

    fn path_of(&self, resource: &Resource) -> std::path::PathBuf {
        self.app.root.join(&resource.path)
    }
}

fn new_id(body: &Value) -> Uuid {
    body["job_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no job_id in {body}"))
        .parse()
        .expect("uuid")
}

fn first_driver(job: &Job) -> Resource {
    job.resources
        .iter()
        .find(|r| r.kind == "driver")
        .cloned()
        .unwrap_or_else(|| panic!("no driver among {:?}", job.resources))
}

/// sha256 by the system tool, independent of the code under test.
fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    assert!(out.status.success(), "sha256sum failed");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string()
}

fn content_digest(root: &Path, job: &Job) -> String {
    let dir = job.output_dir.as_deref().expect("output_dir");
    let file = root.join("8_Output").join(dir).join("manifest.json");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("read manifest")).expect("json");
    let digest = manifest["outputs"][0]["content_digest"]
        .as_str()
        .unwrap_or_else(|| panic!("no outputs[0].content_digest in {manifest}"))
        .to_string();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "not a sha256: {digest:?}"
    );
    digest
}

#[tokio::test]
async fn clone_of_untouched_inputs_is_unchanged_and_queues_the_same_request() {
    let env = env().await;
    let source = env.built().await;
    let admin = env.app.login(Role::Admin).await;

    let (status, body) = env.clone(&admin, source.job_id, "", None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inputs"], "unchanged");
    assert_eq!(body["changed"], json!([]));

    let id = new_id(&body);
    assert_ne!(id, source.job_id);
    let clone = env.job(id).await;
    assert_eq!(clone.status, JobStatus::Queued);
    assert_eq!(clone.request, source.request);
    assert_eq!(
        clone.created_by.as_deref(),
        Some("admin"),
        "the caller owns it"
    );
    assert!(clone.resources.is_empty(), "a clone records its own inputs");
    assert_eq!(
        env.log_messages(id).await,
        vec![format!("cloned from {}: inputs unchanged", source.job_id)]
    );
}

#[tokio::test]
async fn edited_driver_file_is_listed_with_both_hashes() {
    let env = env().await;
    let source = env.built().await;
    let driver = first_driver(&source);
    let file = env.path_of(&driver);
    let mut bytes = std::fs::read(&file).expect("read driver");
    bytes.extend_from_slice(b"\r\n; edited after the build\r\n");
    std::fs::write(&file, &bytes).expect("edit driver");

    let builder = env.app.login(Role::Builder).await;
    let (status, body) = env.clone(&builder, source.job_id, "", None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inputs"], "changed");
    assert_eq!(
        body["changed"],
        json!([{
            "path": driver.path,
            "recorded_sha256": driver.sha256,
            "current_sha256": sha256sum(&file),
        }])
    );
    let id = new_id(&body);
    assert_eq!(env.job(id).await.status, JobStatus::Queued);
    assert_eq!(
        env.log_messages(id).await,
        vec![format!("cloned from {}: inputs changed (1)", source.job_id)]
    );
}

#[tokio::test]
async fn deleted_input_is_changed_with_null_current_hash() {
    let env = env().await;
    let source = env.built().await;
    let driver = first_driver(&source);
    std::fs::remove_file(env.path_of(&driver)).expect("delete driver");

    let builder = env.app.login(Role::Builder).await;
    let (status, body) = env.clone(&builder, source.job_id, "", None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inputs"], "changed");
    assert_eq!(
        body["changed"],
        json!([{
            "path": driver.path,
            "recorded_sha256": driver.sha256,
            "current_sha256": null,
        }])
    );
}

#[tokio::test]
async fn strict_clone_refuses_changed_inputs_and_creates_no_job() {
    let env = env().await;
    let source = env.built().await;
    let builder = env.app.login(Role::Builder).await;

    // Nothing changed yet: strict is no obstacle.
    let (status, body) = env
        .clone(&builder, source.job_id, "?strict=true", None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inputs"], "unchanged");

    let driver = first_driver(&source);
    std::fs::write(env.path_of(&driver), b"; replaced\r\n").expect("edit driver");
    let before = env.job_count().await;
    let (status, body) = env
        .clone(&builder, source.job_id, "?strict=true", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_parts(&body).0, "inputs_changed");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains(&driver.path), "{message}");
    assert_eq!(env.job_count().await, before, "no job was created");

    // The same change without strict still clones.
    let (status, body) = env
        .clone(&builder, source.job_id, "?strict=false", None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inputs"], "changed");
}

#[tokio::test]
async fn overrides_go_through_the_job_parser() {
    let env = env().await;
    let source = env.built().await;
    let builder = env.app.login(Role::Builder).await;

    let (status, body) = env
        .clone(
            &builder,
            source.job_id,
            "",
            Some(json!({"customer_name": "Contoso", "log_level": "verbose"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let clone = env.job(new_id(&body)).await;
    assert_eq!(clone.request.customer_name, "Contoso");
    assert_eq!(clone.request.log_level, wait_store::LogLevel::Verbose);
    let mut expected = source.request.clone();
    expected.customer_name = "Contoso".into();
    expected.log_level = wait_store::LogLevel::Verbose;
    assert_eq!(
        clone.request, expected,
        "every other field is the original's"
    );

    let before = env.job_count().await;
    let cases = [
        (json!({"compression": "zip"}), 422, "compression"),
        (json!({"customer_name": "a b"}), 422, "customer_name"),
        (json!({"motherboard_model": null}), 422, "motherboard_model"),
        (json!({"create_iso": "yes"}), 400, "create_iso"),
        (json!({"base_image": "missing.wim"}), 422, "base_image"),
    ];
    for (overrides, code, field) in cases {
        let (status, body) = env
            .clone(&builder, source.job_id, "", Some(overrides.clone()))
            .await;
        assert_eq!(status.as_u16(), code, "{overrides}: {body}");
        assert_eq!(
            error_parts(&body).1.as_deref(),
            Some(field),
            "{overrides}: {body}"
        );
    }
    assert_eq!(
        env.job_count().await,
        before,
        "no job for a refused override"
    );
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let env = env().await;
    let source = env.built().await;
    let builder = env.app.login(Role::Builder).await;
    let url = env.app.url(&format!("/api/jobs/{}/clone", source.job_id));
    let cases = [
        ("application/json", "{not json", "malformed_json"),
        ("application/json", "[1, 2]", "invalid_body"),
        (
            "text/plain",
            "{\"customer_name\": \"X\"}",
            "unsupported_content_type",
        ),
    ];
    for (content_type, text, code) in cases {
        let r = builder
            .post(&url)
            .header("content-type", content_type)
            .body(text)
            .send()
            .await
            .unwrap();
        let (status, _, body) = common::json(r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}: {body}");
        assert_eq!(error_parts(&body).0, code, "{text}");
    }
}

#[tokio::test]
async fn clone_needs_a_builder_and_a_job_with_recorded_inputs() {
    let env = env().await;
    // Queued and never run: it has no recorded inputs yet.
    let queued = env.queue().await;

    let anonymous = Client::new();
    let (status, _) = env.clone(&anonymous, queued, "", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let viewer = env.app.login(Role::Viewer).await;
    let (status, body) = env.clone(&viewer, queued, "", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let builder = env.app.login(Role::Builder).await;
    let (status, body) = env.clone(&builder, Uuid::now_v7(), "", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, body) = send(
        &builder,
        Method::POST,
        &env.app.url("/api/jobs/not-a-uuid/clone"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let before = env.job_count().await;
    let (status, body) = env.clone(&builder, queued, "", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_parts(&body).0, "no_recorded_inputs");
    assert_eq!(env.job_count().await, before);
}

#[tokio::test]
async fn unchanged_clone_builds_the_same_image() {
    let env = env().await;
    let source = env.built().await;
    let builder = env.app.login(Role::Builder).await;
    let (status, body) = env.clone(&builder, source.job_id, "", None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["inputs"], "unchanged");

    env.build_all().await;
    let clone = env.job(new_id(&body)).await;
    assert_eq!(
        clone.status, source.status,
        "the clone ends like its source: {clone:?}"
    );
    // Two manifests, not one read twice.
    assert_ne!(
        clone.output_dir, source.output_dir,
        "each build has its folder"
    );
    assert_eq!(
        clone.resources, source.resources,
        "the same inputs were used"
    );
    assert_eq!(
        content_digest(&env.app.root, &clone),
        content_digest(&env.app.root, &source),
    );
}
