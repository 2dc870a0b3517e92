//! The views: `GET /api/status`, `/api/project`, `/api/session`, `/api/topic`,
//! and the plan of `POST /api/orchestrate`. Each reads the tenant's fold and
//! sessions and hands them to [`crate::views`].

use super::parse_json;
use crate::api::{
    ErrorBody, OrchestratePlan, OrchestrateRequest, ProjectsResponse, SessionsResponse,
    StatusResponse, TopicsResponse,
};
use crate::error::ApiError;
use crate::server::AppState;
use crate::store::{SessionRecord, TenantId};
use crate::views::{self, Folded};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::{Extension, Json};
use chittysync_core::Timestamp;

/// The tenant's fold and sessions, read concurrently.
async fn read(
    state: &AppState,
    tenant: TenantId,
) -> Result<(Folded, Vec<SessionRecord>), ApiError> {
    let (states, sessions) = tokio::try_join!(
        state.store.todo_states(tenant),
        state.store.sessions(tenant)
    )?;
    Ok((Folded::new(&states), sessions))
}

/// The fold and sessions, for a view that needs the todos' text: refused
/// (409) when the tenant's todos are sealed (docs/ENCRYPTION.md).
async fn read_text(
    state: &AppState,
    tenant: TenantId,
) -> Result<(Folded, Vec<SessionRecord>), ApiError> {
    let (folded, sessions) = read(state, tenant).await?;
    if folded
        .todos
        .iter()
        .any(|t| chittysync_crypt::is_sealed_text(&t.project))
    {
        return Err(ApiError::Encrypted);
    }
    Ok((folded, sessions))
}

/// Counts of what the tenant has stored.
#[utoipa::path(
    get,
    path = "/api/status",
    tag = "views",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts; active and synced mean observed in the last 24 hours", body = StatusResponse),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
    )
)]
pub(super) async fn status(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
) -> Result<Json<StatusResponse>, ApiError> {
    let (folded, sessions) = read(&state, tenant).await?;
    Ok(Json(views::status(&folded, &sessions, Timestamp::now())))
}

/// Per project: todo counts by status, sessions, last activity.
#[utoipa::path(
    get,
    path = "/api/project",
    tag = "views",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Projects by name", body = ProjectsResponse),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 409, description = "The tenant's todos are encrypted end to end: the hub cannot read them", body = ErrorBody),
    )
)]
pub(super) async fn projects(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
) -> Result<Json<ProjectsResponse>, ApiError> {
    let (folded, sessions) = read_text(&state, tenant).await?;
    Ok(Json(ProjectsResponse {
        projects: views::projects(&folded, &sessions, Timestamp::now()),
    }))
}

/// Per session: device, project, first and last observation, todo counts.
#[utoipa::path(
    get,
    path = "/api/session",
    tag = "views",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sessions by id", body = SessionsResponse),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 409, description = "The tenant's todos are encrypted end to end: the hub cannot read them", body = ErrorBody),
    )
)]
pub(super) async fn sessions(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
) -> Result<Json<SessionsResponse>, ApiError> {
    let (folded, sessions) = read_text(&state, tenant).await?;
    Ok(Json(SessionsResponse {
        sessions: views::sessions(&folded, &sessions, Timestamp::now()),
    }))
}

/// Topics (projects) with their conversations (sessions) and todo counts.
#[utoipa::path(
    get,
    path = "/api/topic",
    tag = "views",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Topics by name", body = TopicsResponse),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 409, description = "The tenant's todos are encrypted end to end: the hub cannot read them", body = ErrorBody),
    )
)]
pub(super) async fn topics(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
) -> Result<Json<TopicsResponse>, ApiError> {
    let (folded, sessions) = read_text(&state, tenant).await?;
    Ok(Json(TopicsResponse {
        topics: views::topics(&state.topic_rules, &folded, &sessions),
    }))
}

/// A deterministic plan spreading pending todos over active sessions. The body
/// is optional; an empty one plans every project.
#[utoipa::path(
    post,
    path = "/api/orchestrate",
    tag = "views",
    request_body(content = Option<OrchestrateRequest>, description = "Optional"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The plan", body = OrchestratePlan),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 409, description = "The tenant's todos are encrypted end to end: the hub cannot read them", body = ErrorBody),
        (status = 422, description = "Wrong shape", body = ErrorBody),
    )
)]
pub(super) async fn orchestrate(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<OrchestratePlan>, ApiError> {
    let body = body?;
    let request: OrchestrateRequest = if body.trim_ascii().is_empty() {
        OrchestrateRequest::default()
    } else {
        parse_json(&body)?
    };
    let (folded, sessions) = read_text(&state, tenant).await?;
    let only = request.project.as_deref().filter(|p| !p.is_empty());
    Ok(Json(views::orchestrate(
        &folded,
        &sessions,
        Timestamp::now(),
        only,
    )))
}
