//! `GET /metrics`: Prometheus text for monitoring.
//!
//! Job, queue, worker, build-duration and webhook figures are read from the store on
//! each scrape with a few aggregate queries (so every API instance reports the same
//! numbers, and nothing is lost on restart); HTTP request counters and latencies are
//! kept in memory per API instance by `layer()`. See docs/decisions/0015-metrics.md.

pub mod http;
pub mod render;

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::IntoResponse;
use wait_store::{BUILD_DURATION_BOUNDS_SECS, StoreStats};

use crate::AppState;
use crate::auth::RequireViewer;
use crate::error::ApiError;
pub use http::{HttpMetrics, MetricsLayer};
use render::Exposition;

/// Content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The request-counting layer, with a fresh registry for this router.
pub fn layer() -> MetricsLayer {
    MetricsLayer::new(HttpMetrics::new())
}

/// The handler of `GET /metrics` (routed in `routes/mod.rs`, listed in `routes/table.rs`).
pub async fn serve(
    _auth: RequireViewer,
    State(state): State<AppState>,
    Extension(http): Extension<Arc<HttpMetrics>>,
) -> Result<impl IntoResponse, ApiError> {
    let stats = state.store.stats().await?;
    let workers = state.store.live_workers(state.config.worker_window).await?;
    let text = render_all(&stats, workers, &http);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text))
}

/// The whole exposition from store figures and this instance's request counters.
pub fn render_all(stats: &StoreStats, workers_live: i64, http: &HttpMetrics) -> String {
    let mut e = Exposition::new();

    e.family("wait_jobs", "gauge", "Jobs stored, by state.");
    for (status, n) in &stats.jobs_by_status {
        e.sample("wait_jobs", &[("status", status.as_str())], *n as f64);
    }

    e.family(
        "wait_queue_depth",
        "gauge",
        "Jobs waiting to be claimed (state Queued).",
    );
    e.sample(
        "wait_queue_depth",
        &[],
        stats.jobs(wait_store::JobStatus::Queued) as f64,
    );

    e.family(
        "wait_workers_live",
        "gauge",
        "Workers seen within the liveness window.",
    );
    e.sample("wait_workers_live", &[], workers_live as f64);

    let b = &stats.build_durations;
    e.family(
        "wait_build_duration_seconds",
        "histogram",
        "Time from start to finish of every stored job that ran and finished.",
    );
    let bounds: Vec<f64> = BUILD_DURATION_BOUNDS_SECS
        .iter()
        .map(|s| *s as f64)
        .collect();
    // the store gives cumulative counts; the writer wants per-bucket ones
    let mut previous = 0_i64;
    let per_bucket: Vec<u64> = b
        .buckets
        .iter()
        .map(|(_, n)| {
            let own = n.saturating_sub(previous).max(0);
            previous = *n;
            u64::try_from(own).unwrap_or(0)
        })
        .collect();
    e.histogram(
        "wait_build_duration_seconds",
        &[],
        &bounds,
        &per_bucket,
        u64::try_from(b.count).unwrap_or(0),
        b.sum_ms as f64 / 1000.0,
    );

    let w = stats.webhook_attempts;
    e.family(
        "wait_webhook_deliveries_total",
        "counter",
        "Webhook delivery attempts by result: delivered (2xx), failed (retry scheduled), \
         gave_up (no retry left).",
    );
    for (result, n) in [
        ("delivered", w.delivered),
        ("failed", w.failed),
        ("gave_up", w.gave_up),
    ] {
        e.sample(
            "wait_webhook_deliveries_total",
            &[("result", result)],
            n as f64,
        );
    }

    let rows = http.snapshot();
    e.family(
        "wait_http_requests_total",
        "counter",
        "HTTP requests answered by this API instance, by method, route template and status.",
    );
    for (route, method, s) in &rows {
        for (status, n) in &s.statuses {
            let status = status.to_string();
            e.sample(
                "wait_http_requests_total",
                &[("method", method), ("route", route), ("status", &status)],
                *n as f64,
            );
        }
    }
    e.family(
        "wait_http_request_duration_seconds",
        "histogram",
        "Time from request to response head, by method and route template.",
    );
    for (route, method, s) in &rows {
        e.histogram(
            "wait_http_request_duration_seconds",
            &[("method", method), ("route", route)],
            &http::LATENCY_BOUNDS_SECS,
            &s.buckets,
            s.count,
            s.sum_secs,
        );
    }
    e.finish()
}
