//! Counts and times every HTTP request by method, route template and status.
//!
//! The layer sits on the router (`Router::layer`), so it runs after routing and reads the
//! matched route TEMPLATE (`/api/jobs/{id}`), never the raw path: the number of series
//! stays bounded by the route table whatever clients send.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use futures::future::BoxFuture;
use tower::{Layer, Service};

/// Upper bounds (seconds) of the request latency histogram buckets.
pub const LATENCY_BOUNDS_SECS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Route label of requests no route matched (404s of unknown paths).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The request counters of one API instance.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// route template → method → series
    series: Mutex<HashMap<String, BTreeMap<&'static str, Series>>>,
}

/// Counters of one (route, method).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// status code → requests
    pub statuses: BTreeMap<u16, u64>,
    /// Requests at most as slow as each bound of `LATENCY_BOUNDS_SECS` (not cumulative:
    /// each request lands in its first bucket; rendering accumulates).
    pub buckets: [u64; LATENCY_BOUNDS_SECS.len()],
    pub count: u64,
    pub sum_secs: f64,
}

/// `(route, method, series)` rows, sorted, as captured by `HttpMetrics::snapshot`.
pub type Snapshot = Vec<(String, &'static str, Series)>;

impl HttpMetrics {
    pub fn new() -> Arc<Self> {
        Arc::new(HttpMetrics::default())
    }

    /// Record one finished request.
    pub fn record(&self, method: &Method, route: &str, status: u16, secs: f64) {
        let method = method_label(method);
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        // look up by &str first so the common case allocates nothing
        let by_method = match series.get_mut(route) {
            Some(m) => m,
            None => series.entry(route.to_string()).or_default(),
        };
        let s = by_method.entry(method).or_default();
        *s.statuses.entry(status).or_insert(0) += 1;
        if let Some(i) = LATENCY_BOUNDS_SECS.iter().position(|b| secs <= *b) {
            s.buckets[i] += 1;
        }
        s.count += 1;
        s.sum_secs += secs;
    }

    /// A copy of every series, sorted by route then method, for rendering outside the lock.
    pub fn snapshot(&self) -> Snapshot {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let mut rows: Snapshot = series
            .iter()
            .flat_map(|(route, by_method)| {
                by_method
                    .iter()
                    .map(move |(method, s)| (route.clone(), *method, s.clone()))
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        rows
    }
}

/// Standard methods by name; anything else is `OTHER`, so odd methods sent to unknown
/// paths cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The layer: one registry shared by every route it wraps. It also hands the registry to
/// handlers as a request extension, which is how `/metrics` finds it.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    http: Arc<HttpMetrics>,
}

impl MetricsLayer {
    pub fn new(http: Arc<HttpMetrics>) -> Self {
        MetricsLayer { http }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            http: self.http.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    http: Arc<HttpMetrics>,
}

impl<S> Service<Request> for MetricsService<S>
where
    S: Service<Request, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let start = Instant::now();
        let method = req.method().clone();
        let route = req.extensions().get::<MatchedPath>().cloned();
        let http = self.http.clone();
        req.extensions_mut().insert(self.http.clone());
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            let route = route.as_ref().map_or(UNMATCHED_ROUTE, |r| r.as_str());
            // the time to the response head: a streamed body (job stream, downloads)
            // is not waited for
            http.record(
                &method,
                route,
                response.status().as_u16(),
                start.elapsed().as_secs_f64(),
            );
            Ok(response)
        })
    }
}
