//! The hub's request and response bodies, shared by the server and the
//! [`client`](crate::client), so the two cannot drift apart.
//!
//! Todos, conflicts and observations are the core's own types: the hub serves
//! exactly what the daemon computes. Cursors are strings: clients must treat
//! them as opaque (today they are the tenant's observation count).

use chittysync_core::{Conflict, Observation, TodoEntry};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/todos/sync`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SyncRequest {
    /// The device pushing (each observation also names its own device).
    pub device_id: String,
    #[schema(value_type = Vec<crate::schemas::ObservationDoc>)]
    pub observations: Vec<Observation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SyncResponse {
    /// Observations stored by this request.
    pub accepted: u64,
    /// Observations already stored (or repeated within the request), ignored.
    pub duplicates: u64,
    /// The tenant's cursor after this request.
    pub cursor: String,
    /// Conflicts among the todos this request named, after it.
    #[schema(value_type = Vec<crate::schemas::ConflictDoc>)]
    pub conflicts: Vec<Conflict>,
}

/// `GET /api/todos`: the fold of the tenant's observations, sorted by project,
/// then normalized content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TodosResponse {
    #[schema(value_type = Vec<crate::schemas::TodoEntryDoc>)]
    pub todos: Vec<TodoEntry>,
    #[schema(value_type = Vec<crate::schemas::ConflictDoc>)]
    pub conflicts: Vec<Conflict>,
}

/// `GET /api/todos/since/{cursor}`: observations in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SincePage {
    #[schema(value_type = Vec<crate::schemas::ObservationDoc>)]
    pub observations: Vec<Observation>,
    /// Where the next page starts (the cursor asked for if the page is empty).
    pub cursor: String,
    /// Whether more observations follow this page.
    pub more: bool,
}

/// `GET /api/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// Always `sync`.
    pub service: String,
    /// The hub's crate version.
    pub version: String,
    /// The tenant's todos are encrypted end to end (docs/ENCRYPTION.md): the
    /// hub cannot read their projects, so it does not count them.
    #[serde(default)]
    pub encrypted: bool,
    /// Observations stored.
    #[serde(default)]
    pub observations: u64,
    /// Devices that pushed any.
    #[serde(default)]
    pub devices: u64,
    /// `null` when `encrypted`: every sealed project is unique on the hub,
    /// so their number would say nothing.
    pub projects: Option<ProjectCounts>,
    pub sessions: SessionCounts,
    pub topics: TopicCounts,
    pub todos: TodoCounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectCounts {
    /// Projects with any stored observation.
    pub total: u64,
    /// Projects with an observation in the activity window (the last 24 hours).
    pub synced: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionCounts {
    /// Sessions named by any stored observation.
    pub total: u64,
    /// Sessions with an observation in the activity window (the last 24 hours).
    pub active: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopicCounts {
    /// Topics are projects: their number (`null` when `encrypted`).
    pub categories: Option<u64>,
    /// Conversations are sessions: their number.
    pub total_conversations: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TodoCounts {
    /// Todos that did not fold to `deleted`.
    pub total: u64,
    pub pending: u64,
    pub in_progress: u64,
    pub completed: u64,
}

/// `GET /api/project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectsResponse {
    pub projects: Vec<ProjectView>,
}

/// One project; counts are of folded todos, `deleted` ones left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectView {
    pub project: String,
    pub todos: u64,
    pub pending: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub sessions: u64,
    pub active_sessions: u64,
    /// The newest observation of any of its todos.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity: Option<chittysync_core::Timestamp>,
}

/// `GET /api/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionView>,
}

/// One session: where it ran, when, and its todos as folded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    pub session: String,
    /// The device of its newest observation.
    pub device: String,
    /// The project of its newest observation.
    pub project: String,
    #[schema(value_type = String, format = DateTime)]
    pub first_observed: chittysync_core::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_observed: chittysync_core::Timestamp,
    pub observations: u64,
    /// Observed within the activity window (the last 24 hours).
    pub active: bool,
    /// Folded todos listing this session, by their consolidated status.
    pub pending: u64,
    pub in_progress: u64,
    pub completed: u64,
}

/// `GET /api/topic`: topics are projects, conversations are sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopicsResponse {
    pub topics: Vec<TopicView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopicView {
    pub topic: String,
    pub conversations: u64,
    pub todos: u64,
    /// Todos still to do (`pending` or `in_progress`).
    pub open: u64,
    /// The project the topic is of (docs/TOPICS.md).
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub pending: u64,
    #[serde(default)]
    pub in_progress: u64,
    /// The sessions listing its open todos, sorted.
    #[serde(default)]
    pub sessions: Vec<String>,
}

/// `POST /api/orchestrate` (the body is optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrchestrateRequest {
    /// Plan only this project.
    #[serde(default)]
    pub project: Option<String>,
}

/// A plan: each project's pending todos spread over its active sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrchestratePlan {
    /// Sessions that received todos, by project then session.
    pub assignments: Vec<Assignment>,
    /// Pending todos of projects with no active session, in todo order.
    pub unassigned: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    pub session: String,
    pub project: String,
    /// Todo ids, in todo order.
    pub todos: Vec<String>,
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// Every error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// What a WebSocket client sends: `{"subscribe": {"since": "42"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientMessage {
    Subscribe(Subscribe),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribe {
    /// Replay observations after this cursor first; without it, only new ones.
    /// A string as served, or a number.
    #[serde(default, deserialize_with = "cursor_text")]
    pub since: Option<String>,
}

/// Accepts a cursor as a string or as a number.
fn cursor_text<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        String(String),
        Number(u64),
    }
    Ok(Option::<Text>::deserialize(de)?.map(|t| match t {
        Text::String(s) => s,
        Text::Number(n) => n.to_string(),
    }))
}

/// What the hub sends on a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The subscription is in place; pushes follow from `cursor`.
    Subscribed { cursor: String },
    /// New observations of the tenant, in arrival order.
    Observations {
        cursor: String,
        observations: Vec<Observation>,
    },
    /// A message the hub could not understand; the connection stays open.
    Error { error: String },
}
