//! Prometheus metrics: every request counted and timed per route pattern, method and status
//! (the middleware), and, read when scraped, the pool, the change feed and the webhook queue
//! (`handler`).

pub mod handler;

use std::time::Instant;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web, Error,
};
use std::collections::HashMap;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// The service's metrics, shared by every worker.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Gauges read when scraped, by name.
    gauges: HashMap<&'static str, IntGauge>,
}

/// The gauges set when scraped, with their help text.
pub const GAUGES: [(&str, &str); 12] = [
    ("anct_db_pool_max_size", "Connections the pool may open"),
    ("anct_db_pool_size", "Connections open"),
    ("anct_db_pool_available", "Connections open and idle"),
    ("anct_db_pool_waiting", "Requests waiting for a connection"),
    (
        "anct_database_up",
        "1 when the scrape could query the database",
    ),
    (
        "anct_feed_head_position",
        "Position of the last committed change",
    ),
    (
        "anct_webhook_fanout_lag_changes",
        "Feed positions not yet turned into deliveries for the most behind enabled endpoint",
    ),
    (
        "anct_webhook_deliveries_pending",
        "Deliveries waiting for their first or next attempt",
    ),
    (
        "anct_webhook_deliveries_due",
        "Pending deliveries of enabled endpoints whose attempt is due now",
    ),
    (
        "anct_webhook_deliveries_failed",
        "Deliveries that exhausted their attempts",
    ),
    (
        "anct_webhook_oldest_pending_seconds",
        "Age of the oldest pending delivery",
    ),
    (
        "anct_webhook_endpoints_disabled",
        "Endpoints disabled by their client or after failing",
    ),
];

/// Latency buckets in seconds: fine below 50 ms, where a healthy API answers.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &labels,
        )
        .expect("a valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to its response",
            )
            .buckets(BUCKETS.to_vec()),
            &labels,
        )
        .expect("a valid metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        registry
            .register(Box::new(latency.clone()))
            .expect("registered once");
        let gauges = GAUGES
            .iter()
            .map(|(name, help)| {
                let gauge = IntGauge::new(*name, *help).expect("a valid metric");
                registry
                    .register(Box::new(gauge.clone()))
                    .expect("registered once");
                (*name, gauge)
            })
            .collect();
        Self {
            registry,
            requests,
            latency,
            gauges,
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Sets one of `GAUGES`.
    pub fn set(&self, name: &str, value: i64) {
        if let Some(gauge) = self.gauges.get(name) {
            gauge.set(value);
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let families = self.registry.gather();
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts and times every request under its route pattern (`/api/v1/sessions/{id}`), so the
/// number of series stays bounded whatever the paths clients send.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().as_str().to_string();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &result {
            Ok(response) => (
                response.request().match_pattern(),
                response.status().as_u16(),
            ),
            Err(error) => (None, error.as_response_error().status_code().as_u16()),
        };
        let route = route.unwrap_or_else(|| "unmatched".into());
        metrics.observe(&method, &route, status, started.elapsed().as_secs_f64());
    }
    result
}
