//! Prometheus metrics. Counters and histograms are recorded where things happen, through
//! the `metrics` facade (HTTP latency here, alerts in the receivers, pages and deliveries
//! in the engine); gauges that describe stored state (open incidents, outbox depth) are
//! read from the store at scrape time, so every replica reports the same truth.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Seconds: from a fast API call to a slow delivery.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's recorder, installed on first use; `None` if another recorder was
/// installed first (then `/metrics` answers 503).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()
        })
        .as_ref()
}

/// The method as a metric label: one of the standard methods, else `OTHER`. Any token
/// is a valid HTTP method, so labelling by the raw one would let anonymous clients add a
/// series (and memory that is never returned) per invented method.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// The route label for requests no route matched: one fixed value, never the raw path.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Records one HTTP request. `method` comes from [`method_label`] and `route` is a
/// route template or [`UNMATCHED_ROUTE`], so every label has a closed set of values (a
/// status code is one of a few hundred at most).
pub fn record_request(method: &'static str, route: &str, status: u16, seconds: f64) {
    metrics::histogram!(
        "fireline_http_request_duration_seconds",
        "method" => method,
        "route" => route.to_owned(),
        "status" => status.to_string()
    )
    .record(seconds);
}
