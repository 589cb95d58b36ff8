//! `POST /api/integrations/slack/command` against the real app: requests are signed here
//! from the documented scheme (HMAC-SHA256 over `v0:{timestamp}:{body}`), then the
//! commands, the user mapping and every refusal are checked.
#![allow(clippy::unwrap_used)]
mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sha2::Sha256;
use tempfile::TempDir;
use tokio::sync::oneshot;
use uuid::Uuid;
use wait_catalog::Repository;
use wait_catalog::fixtures::{DemoRepository, TreeSpec, demo_repository};
use wait_server::{AppState, ServerConfig};
use wait_store::{Role, Store, UserChanges};

const SECRET: &str = "slack-test-signing-secret";
const PATH: &str = "/api/integrations/slack/command";
const FORM: &str = "application/x-www-form-urlencoded";

/// The real server with a generated demo repository and the Slack endpoint configured.
struct SlackApp {
    base: String,
    store: Store,
    demo: DemoRepository,
    _dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for SlackApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(default_user: Option<&str>) -> SlackApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    let r = root.clone();
    let demo = tokio::task::spawn_blocking(move || demo_repository(&r, &TreeSpec::small(1)))
        .await
        .expect("fixture task")
        .expect("demo repository");
    let store = Store::open_sqlite(&dir.path().join("wait.db"))
        .await
        .expect("store");
    for role in [Role::Admin, Role::Builder, Role::Viewer] {
        store
            .create_user(role.as_str(), role, common::PASSWORD)
            .await
            .expect("user");
    }
    let config = ServerConfig {
        slack_signing_secret: Some(SECRET.to_string()),
        slack_default_user: default_user.map(str::to_string),
        ..ServerConfig::default()
    };
    let repo = Repository::open(&root).expect("open repository");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState::with_config(store.clone(), repo, config);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(wait_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    wait_healthy(&base).await;
    SlackApp {
        base,
        store,
        demo,
        _dir: dir,
        stop: Some(stop),
    }
}

async fn wait_healthy(base: &str) {
    let client = Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/api/health")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::task::yield_now().await;
    }
    panic!("server never became healthy");
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit")
}

/// `v0=<hex>` computed here from the scheme, not by the server's code.
fn sign_with(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// `application/x-www-form-urlencoded`: every byte outside the unreserved set escaped.
fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A slash command body as Slack sends it.
fn command(user_name: &str, text: &str) -> String {
    form(&[
        ("token", "unused-verification-token"),
        ("team_id", "T0001"),
        ("team_domain", "acme"),
        ("channel_id", "C0001"),
        ("channel_name", "builds"),
        ("user_id", "U0042"),
        ("user_name", user_name),
        ("command", "/wait"),
        ("text", text),
        ("response_url", "https://hooks.slack.example/commands/1"),
        ("trigger_id", "1.2.3"),
    ])
}

/// POST with the given headers (None leaves a header out); status and JSON body.
async fn post_raw(
    base: &str,
    body: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    content_type: &str,
) -> (StatusCode, Value) {
    let mut req = Client::new()
        .post(format!("{base}{PATH}"))
        .header("content-type", content_type)
        .body(body.to_string());
    if let Some(ts) = timestamp {
        req = req.header("X-Slack-Request-Timestamp", ts);
    }
    if let Some(sig) = signature {
        req = req.header("X-Slack-Signature", sig);
    }
    let (status, _, value) = common::json(req.send().await.expect("send")).await;
    (status, value)
}

/// A correctly signed request, as Slack would send it now.
async fn post_signed(base: &str, body: &str) -> (StatusCode, Value) {
    let ts = now().to_string();
    let sig = sign_with(SECRET, &ts, body);
    post_raw(base, body, Some(&ts), Some(&sig), FORM).await
}

/// Run `/wait <text>` as `user_name`; assert Slack's reply shape and return (type, text).
async fn slash(app: &SlackApp, user_name: &str, text: &str) -> (String, String) {
    let (status, reply) = post_signed(&app.base, &command(user_name, text)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let kind = reply["response_type"].as_str().expect("response_type");
    assert!(matches!(kind, "ephemeral" | "in_channel"), "{reply}");
    let text = reply["text"].as_str().expect("text").to_string();
    (kind.to_string(), text)
}

fn build_text(app: &SlackApp, extra: &str) -> String {
    format!(
        "build board={} image=\"{}\" {extra}",
        app.demo.board, app.demo.base_image
    )
}

/// The job id in a "Queued job `<id>`" reply.
fn queued_id(text: &str) -> Uuid {
    let rest = text
        .strip_prefix("Queued job `")
        .unwrap_or_else(|| panic!("not a queued reply: {text}"));
    let id = rest.split('`').next().expect("closing backtick");
    Uuid::parse_str(id).unwrap_or_else(|_| panic!("no job id in {text}"))
}

async fn job_count(store: &Store) -> usize {
    store.queue().await.unwrap().len()
}

#[tokio::test]
async fn a_build_by_a_known_builder_queues_a_job_created_by_that_user() {
    let app = start(None).await;
    let (kind, text) = slash(&app, "builder", &build_text(&app, "customer=ACME_01")).await;
    assert_eq!(kind, "in_channel", "{text}");
    assert!(text.contains("(position 1)"), "{text}");
    assert!(text.contains("<@U0042>"), "{text}");
    let id = queued_id(&text);

    let job = app.store.get_job(id).await.unwrap().expect("job stored");
    assert_eq!(job.created_by.as_deref(), Some("builder"));
    assert_eq!(job.request.motherboard_model, app.demo.board);
    assert_eq!(job.request.base_image, app.demo.base_image);
    assert_eq!(job.request.customer_name, "ACME_01");
    assert!(
        job.request.driver_set.is_some(),
        "resolved like an API job: the recommended driver set is recorded"
    );

    // an admin maps too, and queues behind the first job
    let (kind, text) = slash(&app, "admin", &build_text(&app, "index=1 iso=false")).await;
    assert_eq!(kind, "in_channel", "{text}");
    assert!(text.contains("(position 2)"), "{text}");
    let second = app.store.get_job(queued_id(&text)).await.unwrap().unwrap();
    assert_eq!(second.created_by.as_deref(), Some("admin"));
    assert!(!second.request.create_iso);
}

#[tokio::test]
async fn builds_by_callers_without_a_builder_account_are_refused() {
    let app = start(None).await;
    for user in ["stranger", "viewer"] {
        let (kind, text) = slash(&app, user, &build_text(&app, "")).await;
        assert_eq!(kind, "ephemeral", "{text}");
        assert!(text.starts_with("Not queued"), "{text}");
        assert!(text.contains("not a WAIT builder or admin"), "{text}");
    }
    // a disabled builder is no builder
    let builder = app.store.get_user("builder").await.unwrap().unwrap();
    let disable = UserChanges {
        disabled: Some(true),
        ..UserChanges::default()
    };
    app.store.update_user(builder.id, &disable).await.unwrap();
    let (_, text) = slash(&app, "builder", &build_text(&app, "")).await;
    assert!(text.starts_with("Not queued"), "{text}");
    assert_eq!(job_count(&app.store).await, 0);

    // status and queue stay open to any verified caller
    let (_, text) = slash(&app, "stranger", "queue").await;
    assert_eq!(text, "The queue is empty.");
    let (_, text) = slash(&app, "stranger", "status").await;
    assert_eq!(text, "No jobs yet.");
}

#[tokio::test]
async fn unknown_callers_build_as_the_default_user() {
    let app = start(Some("builder")).await;
    let (kind, text) = slash(&app, "stranger", &build_text(&app, "")).await;
    assert_eq!(kind, "in_channel", "{text}");
    assert!(text.contains("as `builder`"), "{text}");
    let job = app.store.get_job(queued_id(&text)).await.unwrap().unwrap();
    assert_eq!(job.created_by.as_deref(), Some("builder"));

    // a caller with an account of their own still builds as themselves
    let (_, text) = slash(&app, "admin", &build_text(&app, "")).await;
    let job = app.store.get_job(queued_id(&text)).await.unwrap().unwrap();
    assert_eq!(job.created_by.as_deref(), Some("admin"));
}

#[tokio::test]
async fn a_default_user_without_builder_role_does_not_build() {
    for default in ["viewer", "nobody"] {
        let app = start(Some(default)).await;
        let (kind, text) = slash(&app, "stranger", &build_text(&app, "")).await;
        assert_eq!(kind, "ephemeral", "{text}");
        assert!(text.contains("default Slack user cannot build"), "{text}");
        assert_eq!(job_count(&app.store).await, 0, "default {default}");
    }
}

#[tokio::test]
async fn product_keys_are_refused_without_being_echoed() {
    let app = start(None).await;
    let key = "ABCDE-FGHIJ-KLMNO-PQRST-VWXYZ";
    for spelling in ["product_key", "key"] {
        let text = build_text(&app, &format!("{spelling}={key} key_variants=key"));
        let (kind, reply) = slash(&app, "builder", &text).await;
        assert_eq!(kind, "ephemeral", "{reply}");
        assert!(
            reply.contains("product keys are not accepted over Slack"),
            "{reply}"
        );
        assert!(!reply.contains("FGHIJ"), "the key is not repeated: {reply}");
    }
    assert_eq!(job_count(&app.store).await, 0);
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let app = start(None).await;
    let image = app.demo.base_image.clone();
    let cases = [
        (
            format!("build board=NO_SUCH_BOARD image=\"{image}\""),
            "motherboard_model",
        ),
        (
            build_text(&app, "").replace(&image, "missing.wim"),
            "base_image",
        ),
        (build_text(&app, "customer=\"two words\""), "customer_name"),
        (build_text(&app, "iso=maybe"), "create_iso"),
        (build_text(&app, "compression=zip"), "compression"),
        (build_text(&app, "index=0"), "image_index"),
        (build_text(&app, "key_variants=both"), "key_variants"),
        (format!("build image=\"{image}\""), "motherboard_model"),
    ];
    for (text, field) in cases {
        let (kind, reply) = slash(&app, "builder", &text).await;
        assert_eq!(kind, "ephemeral", "{text}: {reply}");
        assert!(reply.starts_with("Not queued"), "{text}: {reply}");
        assert!(
            reply.contains(&format!("(field `{field}`)")),
            "{text}: {reply}"
        );
    }
    // mistakes in the words themselves are explained too
    let (_, reply) = slash(&app, "builder", &build_text(&app, "colour=red")).await;
    assert!(reply.contains("unknown key `colour`"), "{reply}");
    let (_, reply) = slash(&app, "builder", "build").await;
    assert!(reply.contains("Usage"), "{reply}");
    assert_eq!(job_count(&app.store).await, 0);
}

#[tokio::test]
async fn status_and_queue_describe_the_jobs() {
    let app = start(None).await;
    let (_, first) = slash(&app, "builder", &build_text(&app, "customer=ACME")).await;
    let (_, second) = slash(&app, "builder", &build_text(&app, "customer=OTHER")).await;
    let (first, second) = (queued_id(&first), queued_id(&second));

    // the first job runs
    let claimed = app
        .store
        .claim_job("slack-test-worker", Duration::from_secs(600))
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(claimed.job_id, first);
    app.store
        .set_progress(first, claimed.attempt, 45, "apply_drivers")
        .await
        .unwrap();

    // no argument: the running job
    let (kind, text) = slash(&app, "viewer", "status").await;
    assert_eq!(kind, "ephemeral");
    assert!(text.contains(&first.to_string()), "{text}");
    assert!(text.contains("Processing_Build, 45%"), "{text}");
    assert!(text.contains("stage apply_drivers"), "{text}");
    assert!(
        text.contains(&format!("Board {}", app.demo.board)),
        "{text}"
    );
    assert!(text.contains("customer ACME"), "{text}");

    // a whole id, and a unique prefix
    let (_, text) = slash(&app, "viewer", &format!("status {second}")).await;
    assert!(text.contains(&second.to_string()), "{text}");
    assert!(text.contains("Queued, position 1"), "{text}");
    assert!(text.contains("customer OTHER"), "{text}");
    let prefix = &second.to_string()[..30];
    let (_, text) = slash(&app, "viewer", &format!("status {prefix}")).await;
    assert!(text.contains(&second.to_string()), "{text}");

    // a prefix both ids share is ambiguous (ids made in the same minute share 8+)
    let (a, b) = (first.to_string(), second.to_string());
    let shared = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    if shared >= 8 {
        let (_, text) = slash(&app, "viewer", &format!("status {}", &a[..shared])).await;
        assert!(text.contains("More than one job"), "{text}");
    }
    let refusals = [
        ("status 0190", "at least its first 8 characters"),
        ("status not-a-job!", "is not a job id"),
        (
            "status 00000000-0000-4000-8000-000000000000",
            "No job `00000000-0000-4000-8000-000000000000`",
        ),
        (
            "status ffffffffffff",
            "No job id starts with `ffffffffffff`",
        ),
    ];
    for (text, want) in refusals {
        let (_, reply) = slash(&app, "viewer", text).await;
        assert!(reply.contains(want), "{text}: {reply}");
    }

    // the queue in run order: running first, then queued
    let (kind, text) = slash(&app, "stranger", "queue").await;
    assert_eq!(kind, "ephemeral");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("2 jobs"), "{text}");
    assert!(
        lines[1].starts_with(&format!("1. `{first}` Processing_Build 45%")),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("2. `{second}` Queued")),
        "{text}"
    );
}

#[tokio::test]
async fn a_long_queue_shows_ten_lines_and_a_count() {
    let app = start(None).await;
    let (_, text) = slash(&app, "builder", &build_text(&app, "")).await;
    let request = app
        .store
        .get_job(queued_id(&text))
        .await
        .unwrap()
        .unwrap()
        .request;
    for _ in 0..11 {
        app.store
            .create_job(&request, Some("builder"))
            .await
            .unwrap();
    }
    let (_, text) = slash(&app, "viewer", "queue").await;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("12 jobs"), "{text}");
    assert_eq!(lines.len(), 1 + 10 + 1, "{text}");
    assert_eq!(lines[11], "+2 more");
}

#[tokio::test]
async fn anything_else_answers_with_usage() {
    let app = start(None).await;
    for text in ["", "help", "deploy everything"] {
        let (kind, reply) = slash(&app, "stranger", text).await;
        assert_eq!(kind, "ephemeral");
        assert!(reply.contains("`/wait build board="), "{text}: {reply}");
        assert!(reply.contains("`/wait queue`"), "{text}: {reply}");
    }
}

#[tokio::test]
async fn a_wrong_signature_is_401() {
    let app = start(None).await;
    let body = command("builder", &build_text(&app, ""));
    let ts = now().to_string();
    let other = sign_with("another-secret", &ts, &body);
    let good = sign_with(SECRET, &ts, &body);
    let tampered = body.replace("builder", "admin");
    let cases = [
        (body.as_str(), other.as_str()),
        (tampered.as_str(), good.as_str()),
        (body.as_str(), "v0=deadbeef"),
        (body.as_str(), &good[3..]),
    ];
    for (body, sig) in cases {
        let (status, err) = post_raw(&app.base, body, Some(&ts), Some(sig), FORM).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{sig}: {err}");
        assert_eq!(common::error_parts(&err).0, "invalid_signature");
    }
    assert_eq!(job_count(&app.store).await, 0);
}

#[tokio::test]
async fn stale_and_future_timestamps_are_401() {
    let app = start(None).await;
    let body = command("builder", "queue");
    for (offset, says) in [(-360, "older than 5 minutes"), (360, "in the future")] {
        let ts = (now() + offset).to_string();
        // correctly signed: only the time is wrong
        let sig = sign_with(SECRET, &ts, &body);
        let (status, err) = post_raw(&app.base, &body, Some(&ts), Some(&sig), FORM).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
        assert_eq!(common::error_parts(&err).0, "stale_timestamp");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
}

#[tokio::test]
async fn missing_headers_are_401() {
    let app = start(None).await;
    let body = command("builder", "queue");
    let ts = now().to_string();
    let sig = sign_with(SECRET, &ts, &body);
    let cases = [
        (None, Some(sig.as_str())),
        (Some(ts.as_str()), None),
        (None, None),
    ];
    for (ts, sig) in cases {
        let (status, err) = post_raw(&app.base, &body, ts, sig, FORM).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{ts:?} {sig:?}: {err}");
    }
    let (status, _) = post_raw(&app.base, &body, Some("soon"), Some(&sig), FORM).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_a_signing_secret_the_endpoint_is_404() {
    let app = common::start_bare_with(ServerConfig::default()).await;
    let (status, err) = post_signed(&app.base, &command("builder", "queue")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(common::error_parts(&err).0, "not_found");
}

#[tokio::test]
async fn malformed_forms_are_400() {
    let app = start(None).await;
    let bodies = [
        "text=%zz&user_id=U1&user_name=builder",
        "text=%E2%28&user_id=U1&user_name=builder",
        "text=queue&text=status&user_id=U1&user_name=builder",
        "user_id=U1&user_name=builder",
        "{\"text\": \"queue\"}",
    ];
    for body in bodies {
        let (status, err) = post_signed(&app.base, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(common::error_parts(&err).0, "invalid_form", "{body}");
    }
    // a signed body that does not say it is a form
    let body = command("builder", "queue");
    let ts = now().to_string();
    let sig = sign_with(SECRET, &ts, &body);
    let (status, err) = post_raw(&app.base, &body, Some(&ts), Some(&sig), "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(common::error_parts(&err).0, "unsupported_content_type");
}
