//! `GET /metrics`: the real app on port 0 is driven through several requests and job
//! states, then the Prometheus text is parsed strictly and its numbers checked.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use reqwest::{Client, StatusCode};
use wait_store::{JobRequest, JobStatus, JobUpdate, LogLevel, Role, Store};

use common::{BOARD, TestApp};

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A strict parser of the text format 0.0.4: every family announced by HELP then TYPE
/// before its samples, names and label names well-formed, label values escaped, every
/// value a number. Panics with the offending line otherwise.
fn parse(text: &str) -> Vec<Sample> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "exposition must end with a newline");
    for line in text.lines() {
        assert!(!line.is_empty(), "blank line in exposition");
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').unwrap();
            assert!(valid_name(name), "HELP name {name:?}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                ["counter", "gauge", "histogram"].contains(&kind),
                "type {kind:?}"
            );
            assert!(
                types.insert(name.to_string(), kind.to_string()).is_none(),
                "{line}"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line:?}");
        let sample = parse_sample(line);
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                sample
                    .name
                    .strip_suffix(s)
                    .filter(|base| types.get(*base).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(&sample.name);
        assert!(types.contains_key(family), "sample before its TYPE: {line}");
        samples.push(sample);
    }
    samples
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_sample(line: &str) -> Sample {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => panic!("no value in {line:?}"),
    };
    assert!(valid_name(name), "metric name in {line:?}");
    let mut labels = BTreeMap::new();
    let mut rest = rest;
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let end;
        loop {
            let start = chars.peek().unwrap().0;
            if body[start..].starts_with('}') {
                end = start + 1;
                break;
            }
            let eq = body[start..].find('=').unwrap() + start;
            let key = &body[start..eq];
            assert!(valid_name(key), "label name {key:?} in {line:?}");
            assert_eq!(&body[eq + 1..eq + 2], "\"", "unquoted value in {line:?}");
            while chars.peek().unwrap().0 <= eq + 1 {
                chars.next();
            }
            let mut value = String::new();
            loop {
                let (_, c) = chars.next().unwrap();
                match c {
                    '"' => break,
                    '\\' => match chars.next().unwrap().1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => panic!("bad escape \\{other} in {line:?}"),
                    },
                    '\n' => panic!("raw newline in label value"),
                    c => value.push(c),
                }
            }
            assert!(labels.insert(key.to_string(), value).is_none(), "{line}");
            match chars.next().unwrap().1 {
                ',' => {}
                '}' => {
                    end = chars.peek().map_or(body.len(), |(i, _)| *i);
                    break;
                }
                other => panic!("unexpected {other:?} in {line:?}"),
            }
        }
        rest = &body[end..];
    }
    let value = rest.strip_prefix(' ').unwrap();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v
            .parse()
            .unwrap_or_else(|_| panic!("value {v:?} in {line:?}")),
    };
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

/// The value of the one sample named `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} matches {found:?}");
    found.first().map(|s| s.value)
}

fn request() -> JobRequest {
    JobRequest {
        motherboard_model: BOARD.to_string(),
        base_image: "placeholder.wim".to_string(),
        customer_name: "default".to_string(),
        image_index: "1".to_string(),
        driver_set: None,
        langpacks: vec![],
        updates: vec![],
        software: vec![],
        answer_file: None,
        product_key: None,
        key_variants: "nokey".to_string(),
        create_iso: false,
        compression: "lzx".to_string(),
        log_level: LogLevel::Normal,
        options: Default::default(),
    }
}

/// Four jobs: one completed, one running, two queued.
async fn jobs_in_several_states(store: &Store) {
    for _ in 0..4 {
        store.create_job(&request(), None).await.unwrap();
    }
    let lease = std::time::Duration::from_secs(60);
    let done = store.claim_job("w1", lease).await.unwrap().unwrap();
    store
        .transition(
            done.job_id,
            done.attempt,
            JobStatus::Completed,
            &JobUpdate::default(),
        )
        .await
        .unwrap();
    store.claim_job("w1", lease).await.unwrap().unwrap();
    store.worker_heartbeat("w1").await.unwrap();
}

async fn scrape(app: &TestApp, client: &Client, token: &str) -> (String, Vec<Sample>) {
    let r = client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    let samples = parse(&text);
    (text, samples)
}

#[tokio::test]
async fn metrics_report_jobs_workers_and_requests_by_route_template() {
    let app = common::start_bare().await;
    let client = Client::new();
    let viewer = app.token(Role::Viewer).await;
    jobs_in_several_states(&app.store).await;

    // two different job ids: one route template
    for id in [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ] {
        let r = client
            .get(app.url(&format!("/api/jobs/{id}")))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = client
        .get(app.url("/api/queue"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client
        .get(app.url("/api/no-such-thing/42"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let (text, s) = scrape(&app, &client, &viewer).await;

    assert_eq!(value(&s, "wait_jobs", &[("status", "Queued")]), Some(2.0));
    assert_eq!(
        value(&s, "wait_jobs", &[("status", "Processing_Build")]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "wait_jobs", &[("status", "Completed")]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "wait_jobs", &[("status", "Cancelled")]),
        Some(0.0)
    );
    assert_eq!(
        s.iter().filter(|x| x.name == "wait_jobs").count(),
        JobStatus::ALL.len()
    );
    assert_eq!(value(&s, "wait_queue_depth", &[]), Some(2.0));
    assert_eq!(value(&s, "wait_workers_live", &[]), Some(1.0));
    assert_eq!(
        value(&s, "wait_build_duration_seconds_count", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "wait_build_duration_seconds_bucket", &[("le", "+Inf")]),
        Some(1.0)
    );
    for result in ["delivered", "failed", "gave_up"] {
        assert_eq!(
            value(&s, "wait_webhook_deliveries_total", &[("result", result)]),
            Some(0.0)
        );
    }

    let jobs_by_id = [
        ("method", "GET"),
        ("route", "/api/jobs/{id}"),
        ("status", "404"),
    ];
    assert_eq!(
        value(&s, "wait_http_requests_total", &jobs_by_id),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            "wait_http_requests_total",
            &[("route", "/api/queue"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "wait_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "wait_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/api/jobs/{id}")]
        ),
        Some(2.0)
    );
    // raw paths never become labels
    assert!(!text.contains("00000000-0000-4000-8000"), "{text}");
    assert!(!text.contains("no-such-thing"), "{text}");
    for sample in s.iter().filter(|x| x.name.starts_with("wait_http")) {
        let route = &sample.labels["route"];
        assert!(
            route == "unmatched"
                || wait_server::routes::table::ROUTES
                    .iter()
                    .any(|r| r.path == route),
            "route label {route:?} is not a routed template"
        );
    }

    // the scrape itself is counted by the next one, and the counters only grow
    let (_, again) = scrape(&app, &client, &viewer).await;
    let scrapes = [("route", "/metrics"), ("status", "200")];
    assert_eq!(
        value(&again, "wait_http_requests_total", &scrapes),
        Some(1.0)
    );
    assert_eq!(
        value(&again, "wait_http_requests_total", &jobs_by_id),
        Some(2.0)
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn histogram_buckets_are_cumulative_and_end_in_the_count() {
    let app = common::start_bare().await;
    let client = Client::new();
    let viewer = app.token(Role::Viewer).await;
    let health = [("method", "GET"), ("route", "/api/health")];
    let health_inf = [("method", "GET"), ("route", "/api/health"), ("le", "+Inf")];
    // the harness already polled /api/health once or more: count from a first scrape
    let (_, before) = scrape(&app, &client, &viewer).await;
    let seen = value(&before, "wait_http_request_duration_seconds_count", &health).unwrap();
    for _ in 0..3 {
        client.get(app.url("/api/health")).send().await.unwrap();
    }
    let (_, s) = scrape(&app, &client, &viewer).await;
    for family in [
        "wait_http_request_duration_seconds",
        "wait_build_duration_seconds",
    ] {
        let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for b in s.iter().filter(|x| x.name == format!("{family}_bucket")) {
            let mut key = b.labels.clone();
            let le = key.remove("le").unwrap();
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            series
                .entry(format!("{key:?}"))
                .or_default()
                .push((le, b.value));
        }
        assert!(!series.is_empty(), "{family} has no buckets");
        for buckets in series.values() {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
            );
            assert_eq!(buckets.last().unwrap().0, f64::INFINITY);
        }
    }
    assert_eq!(
        value(&s, "wait_http_request_duration_seconds_count", &health),
        Some(seen + 3.0)
    );
    assert_eq!(
        value(&s, "wait_http_request_duration_seconds_bucket", &health_inf),
        Some(seen + 3.0)
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn metrics_need_a_viewer() {
    let app = common::start_bare().await;
    let client = Client::new();
    let r = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client
        .get(app.url("/metrics"))
        .bearer_auth("wait_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.shutdown().await.unwrap();
}

#[test]
fn the_parser_rejects_malformed_lines() {
    let bad = [
        "m 1\n",                                  // no TYPE
        "# TYPE m gauge\nm{a=b} 1\n",             // unquoted value
        "# TYPE m gauge\nm{a=\"x\\q\"} 1\n",      // bad escape
        "# TYPE m gauge\nm one\n",                // not a number
        "# TYPE m gauge\n1m 1\n",                 // bad name
        "# TYPE m gauge\nm{a=\"x\",a=\"y\"} 1\n", // repeated label
        "# TYPE m summary\nm 1\n",                // unsupported type
        "# TYPE m gauge\nm 1",                    // no final newline
    ];
    for text in bad {
        let caught = std::panic::catch_unwind(|| parse(text));
        assert!(caught.is_err(), "accepted {text:?}");
    }
    let good = parse("# HELP m x\n# TYPE m gauge\nm{a=\"q\\\"\\\\\\n\"} 2.5\n");
    assert_eq!(good[0].labels["a"], "q\"\\\n");
    assert_eq!(good[0].value, 2.5);
}
