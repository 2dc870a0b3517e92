//! The views of the picture as data — the todos, the sessions, the conflicts
//! and one todo's history — built once here for every reader: the CLI's
//! `--json` and the MCP server's tools give the same JSON (docs/DESIGN.md,
//! "Commands"; docs/MCP.md).

use crate::Reader;
use chittysync_core::agent::{agent_of, NAMESPACED};
use chittysync_core::{Conflict, Observation, Status, Timestamp, TodoEntry};
use chittysync_store::{SessionRecord, SpawnRecord, StoreError, StoredTodo};
use serde::Serialize;
use std::collections::HashMap;

/// Which todos a list shows. Deleted todos only when asked for by status.
#[derive(Debug, Clone, Default)]
pub struct TodoFilter {
    pub project: Option<String>,
    /// One status; `None`: every status but `deleted`.
    pub status: Option<StatusSet>,
    /// A session id, a prefix of it (four characters or more), or another
    /// agent's session id without its agent (`codex:`).
    pub session: Option<String>,
    pub agent: Option<String>,
}

/// The statuses a filter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusSet {
    One(Status),
    /// `pending` and `in_progress`.
    Open,
}

impl StatusSet {
    pub fn matches(self, status: Status) -> bool {
        match self {
            StatusSet::One(one) => status == one,
            StatusSet::Open => status.is_open(),
        }
    }
}

impl TodoFilter {
    pub fn wants(&self, entry: &TodoEntry) -> bool {
        let status_ok = match self.status {
            Some(set) => set.matches(entry.status),
            None => entry.status != Status::Deleted,
        };
        status_ok
            && self.project.as_ref().is_none_or(|p| &entry.project == p)
            && self
                .session
                .as_ref()
                .is_none_or(|s| entry.sessions.iter().any(|x| session_matches(s, x)))
            && self.agent.as_ref().is_none_or(|a| entry.agents.contains(a))
    }
}

/// Whether a session filter names this session (its id or a prefix of it).
pub fn session_matches(filter: &str, session: &str) -> bool {
    // Another agent's session is also named without its agent (`codex:`).
    let bare = match session.split_once(':') {
        Some((agent, rest)) if NAMESPACED.contains(&agent) => rest,
        _ => session,
    };
    [session, bare]
        .iter()
        .any(|s| *s == filter || (filter.len() >= 4 && s.starts_with(filter)))
}

/// The consolidated todos a filter wants, as `todos.json` lists them.
pub fn todo_entries(reader: Reader<'_>, filter: &TodoFilter) -> Result<Vec<TodoEntry>, StoreError> {
    let store = reader.store;
    // One project's todos are a range of the store's key (docs/BENCHMARKS.md,
    // "MCP server"): read only those.
    let stored = match &filter.project {
        Some(project) => store.project_todos(project)?,
        None => store.folded_todos()?,
    };
    let mut out = Vec::new();
    for todo in stored {
        // What the stored row tells is checked before its entry is parsed.
        let status_ok = match filter.status {
            Some(set) => set.matches(todo.status),
            None => todo.status != Status::Deleted,
        };
        if !status_ok || filter.project.as_ref().is_some_and(|p| &todo.project != p) {
            continue;
        }
        let entry = todo.entry()?;
        if filter.wants(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// One project as `projects --json` shows it: its sessions and counts of
/// the todos shown (deleted ones are not).
#[derive(Debug, Default, Serialize)]
pub struct ProjectView {
    pub project: String,
    pub sessions: std::collections::BTreeSet<String>,
    pub session_count: usize,
    pub todo_count: usize,
    pub pending: usize,
    pub in_progress: usize,
    pub completed: usize,
    pub conflicts: usize,
}

/// What the store holds, as `status` tells it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreTotals {
    pub observations: u64,
    pub todos: u64,
    pub projects: u64,
    pub sessions: u64,
    pub conflicts: u64,
}

/// The store's totals: observations kept, visible todos, projects, sessions
/// and conflicts.
pub fn store_totals(reader: Reader<'_>) -> Result<StoreTotals, StoreError> {
    let store = reader.store;
    let counts = store.fold_counts()?;
    Ok(StoreTotals {
        observations: store.observation_count()?,
        todos: counts.todos,
        projects: counts.projects,
        sessions: store.session_count()?,
        conflicts: counts.conflicts,
    })
}

/// How far back [`without_plans`] looks.
pub const WITHOUT_PLANS_DAYS: u64 = 7;

/// Sessions of the last [`WITHOUT_PLANS_DAYS`] that ran on a model without
/// default plan tools and wrote no plan, by model (docs/DESIGN.md, "Plan
/// tools"): the sessions whose plans the picture is missing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WithoutPlans {
    pub days: u64,
    pub sessions: u64,
    pub by_model: Vec<ModelCount>,
}

/// Sessions of one model in [`WithoutPlans`].
#[derive(Debug, Clone, Serialize)]
pub struct ModelCount {
    pub model: String,
    pub sessions: u64,
}

/// The sessions seen since [`WITHOUT_PLANS_DAYS`] before `now` that ran on a
/// model whose plan tools are off by default and never planned.
pub fn without_plans(reader: Reader<'_>, now: Timestamp) -> Result<WithoutPlans, StoreError> {
    let store = reader.store;
    let since = Timestamp(now.millis() - (WITHOUT_PLANS_DAYS * 86_400_000) as i64);
    let by_model: Vec<ModelCount> = store
        .unplanned_sessions_by_model(since)?
        .into_iter()
        .filter(|(model, _)| chittysync_core::plan_tools::on_by_default(model) == Some(false))
        .map(|(model, sessions)| ModelCount { model, sessions })
        .collect();
    Ok(WithoutPlans {
        days: WITHOUT_PLANS_DAYS,
        sessions: by_model.iter().map(|m| m.sessions).sum(),
        by_model,
    })
}

/// Every project with its counts, by name.
pub fn project_views(reader: Reader<'_>) -> Result<Vec<ProjectView>, StoreError> {
    let store = reader.store;
    let mut views: std::collections::BTreeMap<String, ProjectView> = Default::default();
    for t in store.folded_todos()? {
        if t.status == Status::Deleted {
            continue;
        }
        let v = views
            .entry(t.project.clone())
            .or_insert_with(|| ProjectView {
                project: t.project.clone(),
                ..ProjectView::default()
            });
        v.sessions.extend(t.sessions.iter().cloned());
        v.todo_count += 1;
        v.conflicts += usize::from(t.conflict_json.is_some());
        match t.status {
            Status::Pending => v.pending += 1,
            Status::InProgress => v.in_progress += 1,
            Status::Completed => v.completed += 1,
            Status::Deleted => {}
        }
    }
    let mut list: Vec<ProjectView> = views.into_values().collect();
    for v in &mut list {
        v.session_count = v.sessions.len();
    }
    Ok(list)
}

pub use chittysync_core::SessionState;

/// A session's state (docs/COLLISIONS.md): the rule is core's, shared with the
/// collisions and the hooks (docs/COLLISIONS.md).
pub fn session_state(s: &SessionRecord, now: Timestamp, stale_after_ms: i64) -> SessionState {
    chittysync_core::collision::session_state(&s.activity(), now, stale_after_ms)
}

/// One session as `sessions --json` shows it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: SessionRecord,
    /// The agent the session ran in (`claude`, `codex`…).
    pub agent: &'static str,
    pub state: SessionState,
    pub open_todos: usize,
    pub in_progress: usize,
    /// The specialist start this session was, when chittysync started it
    /// (docs/TOPICS.md); null otherwise. See [`mark_spawned`].
    pub spawned: Option<SpawnRecord>,
}

/// Marks the sessions chittysync started as specialists: each start linked
/// to a session (by its hooks or its folder, docs/TOPICS.md) is that
/// session's `spawned`.
pub fn mark_spawned(views: &mut [SessionView], spawns: Vec<SpawnRecord>) {
    let mut by_session: HashMap<String, SpawnRecord> = spawns
        .into_iter()
        .filter_map(|s| Some((s.session.clone()?, s)))
        .collect();
    for v in views {
        v.spawned = by_session.remove(&v.session.id);
    }
}

/// Every session with its state and open counts.
pub fn session_views(
    todos: &[StoredTodo],
    sessions: Vec<SessionRecord>,
    now: Timestamp,
    stale_after_ms: i64,
) -> Vec<SessionView> {
    let todos = todos.iter().map(|t| (t.status, t.sessions.as_slice()));
    session_views_of(todos, sessions, now, stale_after_ms)
}

/// [`session_views`] of todos given by their status and sessions (the
/// dashboard keeps parsed entries, not stored rows).
pub fn session_views_of<'a>(
    todos: impl Iterator<Item = (Status, &'a [String])>,
    sessions: Vec<SessionRecord>,
    now: Timestamp,
    stale_after_ms: i64,
) -> Vec<SessionView> {
    let mut open: HashMap<&str, (usize, usize)> = HashMap::new();
    for (status, sessions_of) in todos.filter(|(status, _)| status.is_open()) {
        for s in sessions_of {
            let counts = open.entry(s.as_str()).or_default();
            counts.0 += 1;
            counts.1 += usize::from(status == Status::InProgress);
        }
    }
    sessions
        .into_iter()
        .map(|session| {
            let (open_todos, in_progress) =
                open.get(session.id.as_str()).copied().unwrap_or_default();
            SessionView {
                agent: agent_of(&session.id),
                state: session_state(&session, now, stale_after_ms),
                session,
                open_todos,
                in_progress,
                spawned: None,
            }
        })
        .collect()
}

/// The sessions of one project (`None`: of every project), each with its
/// state and open counts and the contents of the todos it has in progress —
/// counted over that project's todos alone — as the MCP `sessions` tool shows
/// them (docs/MCP.md). One project reads only its own rows.
pub fn sessions_at_work(
    reader: Reader<'_>,
    project: Option<&str>,
    now: Timestamp,
    stale_after_ms: i64,
) -> Result<Vec<(SessionView, Vec<String>)>, StoreError> {
    let store = reader.store;
    let (todos, sessions) = match project {
        Some(p) => (store.project_todos(p)?, store.project_sessions(p)?),
        None => (store.folded_todos()?, store.sessions()?),
    };
    let mut working: HashMap<&str, Vec<String>> = HashMap::new();
    for t in todos.iter().filter(|t| t.status == Status::InProgress) {
        let content = t.entry()?.content;
        for s in &t.sessions {
            working.entry(s.as_str()).or_default().push(content.clone());
        }
    }
    let mut views = session_views(&todos, sessions, now, stale_after_ms);
    mark_spawned(&mut views, store.spawns()?);
    Ok(views
        .into_iter()
        .map(|view| {
            let on = working.remove(view.session.id.as_str()).unwrap_or_default();
            (view, on)
        })
        .collect())
}

/// Every conflict of the todos shown (deleted ones are not), as `conflicts --json`.
pub fn conflicts(reader: Reader<'_>) -> Result<Vec<Conflict>, StoreError> {
    project_conflicts(reader, None)
}

/// The conflicts of one project's todos shown (`None`: of every project).
pub fn project_conflicts(
    reader: Reader<'_>,
    project: Option<&str>,
) -> Result<Vec<Conflict>, StoreError> {
    let store = reader.store;
    let todos = match project {
        Some(p) => store.project_todos(p)?,
        None => store.folded_todos()?,
    };
    todos
        .iter()
        .filter(|t| t.status != Status::Deleted)
        .filter_map(|t| t.conflict().transpose())
        .collect()
}

/// One observation of a todo's history.
#[derive(Debug, Serialize)]
pub struct HistoryStep {
    #[serde(flatten)]
    pub observation: Observation,
    /// The agent that wrote it (`claude`, `codex`…; docs/SOURCES.md).
    pub agent: &'static str,
    /// The sub-agent, when the observer is one (`<session>/<agent>`).
    pub sub_agent: Option<String>,
    /// How it reached this store: local, git or hub.
    pub via: String,
    /// Whether this observation changed its observer's status (or was its first word).
    pub change: bool,
}

/// A todo and every observation of it, oldest first, as `history --json`.
#[derive(Debug, Serialize)]
pub struct TodoHistory {
    pub todo: TodoEntry,
    pub observations: Vec<HistoryStep>,
}

/// The sub-agent an observer names (`<session>/<agent>`), if it is one.
pub fn sub_agent_of(observer: &str) -> Option<String> {
    if observer.starts_with("task:") || observer.starts_with("mcp:") {
        return None;
    }
    observer.split_once('/').map(|(_, agent)| agent.to_string())
}

/// The histories of the todos whose id or content matches `query` (empty: none).
pub fn histories(reader: Reader<'_>, query: &str) -> Result<Vec<TodoHistory>, StoreError> {
    let store = reader.store;
    let ids = store.find_todos(query)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut folded: HashMap<String, TodoEntry> = HashMap::new();
    for t in store.todos_by_ids(&ids)? {
        folded.insert(t.todo_id.clone(), t.entry()?);
    }
    let mut out = Vec::new();
    for id in &ids {
        let Some(todo) = folded.remove(id) else {
            continue;
        };
        let mut last_status: HashMap<String, Status> = HashMap::new();
        let observations = store
            .history(id)?
            .into_iter()
            .map(|logged| {
                let o = logged.observation;
                let change = last_status.insert(o.observer.clone(), o.status) != Some(o.status);
                HistoryStep {
                    agent: agent_of(&o.observer),
                    sub_agent: sub_agent_of(&o.observer),
                    via: logged.via,
                    change,
                    observation: o,
                }
            })
            .collect();
        out.push(TodoHistory { todo, observations });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_filters_take_ids_prefixes_and_bare_agent_ids() {
        assert!(session_matches("abcd", "abcdef"));
        assert!(!session_matches("abc", "abcdef"));
        assert!(session_matches("0199", "codex:0199a213"));
        assert!(session_matches("codex:0199a213", "codex:0199a213"));
        assert!(!session_matches("0199", "mcp:0199"));
    }
}
