//! Pushing observations and reading todos back: `POST /api/todos/sync`,
//! `GET /api/todos`, `GET /api/todos/since/{cursor}`.

use super::{parse_cursor, JsonBody};
use crate::api::{ErrorBody, SincePage, SyncRequest, SyncResponse, TodosResponse};
use crate::error::ApiError;
use crate::limits::{IngestPermit, FUTURE_SKEW_MS};
use crate::server::AppState;
use crate::store::TenantId;
use crate::views::Folded;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use chittysync_core::{Status, Timestamp, WireError};
use serde::Deserialize;
use utoipa::IntoParams;

/// A page holds this many observations unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 1000;
/// …and never more than this.
const MAX_PAGE: u32 = 10_000;

/// Validates every observation (the whole request is refused if one is
/// invalid, so a client never has to work out which part was stored), then
/// stores them idempotently by id.
#[utoipa::path(
    post,
    path = "/api/todos/sync",
    tag = "todos",
    request_body = SyncRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored; duplicates ignored", body = SyncResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 413, description = "Body over the hub's limit", body = ErrorBody),
        (status = 422, description = "Wrong shape or invalid observation; names the field", body = ErrorBody),
    )
)]
pub(super) async fn sync(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    // Before the body: the slots bound how many bodies are in memory at once.
    _slots: IngestPermit,
    JsonBody(request): JsonBody<SyncRequest>,
) -> Result<Json<SyncResponse>, ApiError> {
    if request.device_id.trim().is_empty() {
        return Err(ApiError::Unprocessable(
            "device_id: must be a non-empty string".into(),
        ));
    }
    let now = Timestamp::now();
    let latest = Timestamp(now.millis() + FUTURE_SKEW_MS);
    let batch = request
        .observations
        .into_iter()
        .enumerate()
        .map(|(i, obs)| {
            // A sealed observation is checked for its shape: its text is
            // not the hub's to read (docs/ENCRYPTION.md).
            let obs = chittysync_crypt::validated_wire(obs)
                .map_err(|WireError::Field { field, problem }| {
                    ApiError::Unprocessable(format!("observations[{i}].{field}: {problem}"))
                })?;
            if obs.observed_at > latest {
                return Err(ApiError::Unprocessable(format!(
                    "observations[{i}].observed_at: {} is more than 24 hours ahead of the hub's clock ({})",
                    obs.observed_at.to_rfc3339(),
                    now.to_rfc3339()
                )));
            }
            Ok(obs)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let received = batch.len();
    let ingested = state.store.ingest(tenant, batch, now).await?;
    state.metrics.observations.inc_by(ingested.accepted);
    state.metrics.duplicates.inc_by(ingested.duplicates);
    tracing::debug!(
        device = request.device_id,
        received,
        accepted = ingested.accepted,
        "sync"
    );
    Ok(Json(SyncResponse {
        accepted: ingested.accepted,
        duplicates: ingested.duplicates,
        cursor: ingested.cursor.to_string(),
        conflicts: ingested.conflicts,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct TodosQuery {
    /// Only this project's todos.
    project: Option<String>,
    /// Only todos with this folded status; `deleted` ones appear only when asked for.
    #[param(value_type = Option<String>)]
    status: Option<Status>,
}

/// The fold of the tenant's observations, computed by the core's fold.
#[utoipa::path(
    get,
    path = "/api/todos",
    tag = "todos",
    params(TodosQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Todos sorted by project, then content", body = TodosResponse),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 422, description = "Unknown status", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    query: Result<Query<TodosQuery>, QueryRejection>,
) -> Result<Json<TodosResponse>, ApiError> {
    let Query(query) = query?;
    let folded = Folded::new(&state.store.todo_states(tenant).await?);
    let project = query.project.as_deref().filter(|p| !p.is_empty());
    let (todos, conflicts) = folded.select(project, query.status);
    Ok(Json(TodosResponse { todos, conflicts }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct SinceQuery {
    /// Page size (default 1000, at most 10000).
    limit: Option<u32>,
}

/// The tenant's observations after a cursor, in arrival order.
#[utoipa::path(
    get,
    path = "/api/todos/since/{cursor}",
    tag = "todos",
    params(
        ("cursor" = String, Path, description = "A cursor the hub returned; `0` for the beginning"),
        SinceQuery
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of observations", body = SincePage),
        (status = 400, description = "Not a cursor", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 422, description = "Bad limit", body = ErrorBody),
    )
)]
pub(super) async fn since(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    Path(cursor): Path<String>,
    query: Result<Query<SinceQuery>, QueryRejection>,
) -> Result<Json<SincePage>, ApiError> {
    let Query(query) = query?;
    let cursor = parse_cursor(&cursor)?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let page = state.store.since(tenant, cursor, limit).await?;
    Ok(Json(SincePage {
        observations: page.observations,
        cursor: page.cursor.to_string(),
        more: page.more,
    }))
}
