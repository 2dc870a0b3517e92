//! Prometheus metrics, served as text at `GET /metrics`.
//!
//! Each hub has its own registry rather than a process-global recorder, so two
//! hubs in one process (as in the scale-out tests) count separately.

use crate::server::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

pub(crate) struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    pub observations: IntCounter,
    pub duplicates: IntCounter,
    pub ws_clients: IntGauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let requests = IntCounterVec::new(
            Opts::new(
                "chittysync_hub_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let observations = IntCounter::new(
            "chittysync_hub_observations_ingested_total",
            "Observations stored by sync requests",
        )
        .expect("valid metric");
        let duplicates = IntCounter::new(
            "chittysync_hub_observations_duplicate_total",
            "Observations received again and ignored",
        )
        .expect("valid metric");
        let ws_clients = IntGauge::new("chittysync_hub_ws_clients", "Open WebSocket sessions")
            .expect("valid metric");
        let registry = Registry::new();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(observations.clone()),
            Box::new(duplicates.clone()),
            Box::new(ws_clients.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            observations,
            duplicates,
            ws_clients,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding counters and gauges into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Middleware: counts every request by its route template (not its path, so
/// ids in paths do not explode the label set) and answer status.
pub(crate) async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state
        .metrics
        .requests
        .with_label_values(&[route.as_str(), response.status().as_str()])
        .inc();
    response
}
