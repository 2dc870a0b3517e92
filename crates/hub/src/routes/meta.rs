//! Routes about the hub itself, open without a token: health, the OpenAPI
//! description and Prometheus metrics. None of them shows tenant data.

use crate::api::Health;
use crate::server::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use std::sync::Arc;

/// The serialized OpenAPI description, made once when the router is built.
#[derive(Clone)]
pub(super) struct OpenApiJson(pub Arc<String>);

/// Liveness: answers as long as the process serves HTTP.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "meta",
    responses((status = 200, description = "The hub is up", body = Health))
)]
pub(super) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
    })
}

/// This description.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
pub(super) async fn openapi(Extension(doc): Extension<OpenApiJson>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
}

/// Prometheus text: requests by route and status, observations ingested and
/// duplicated, open WebSocket sessions.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "meta",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
