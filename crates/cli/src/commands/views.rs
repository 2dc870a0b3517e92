//! `chittysync projects`, `sessions` and `conflicts`.

use crate::context::Context;
use crate::output::{age, cell, print_json, short_id, status_style, Table, DIM};
use anyhow::Result;
use chittysync_core::{Conflict, Status, Timestamp};
use chittysync_store::{SessionRecord, StoredTodo};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Default, Serialize)]
struct ProjectView {
    project: String,
    sessions: BTreeSet<String>,
    session_count: usize,
    todo_count: usize,
    pending: usize,
    in_progress: usize,
    completed: usize,
    conflicts: usize,
}

pub fn projects(ctx: &Context, json: bool) -> Result<()> {
    let store = ctx.store_or_hint()?;
    let mut views: BTreeMap<String, ProjectView> = BTreeMap::new();
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
    if json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("No projects yet.");
        return Ok(());
    }
    let mut table = Table::new(vec![
        "PROJECT",
        "SESSIONS",
        "TODOS",
        "PENDING",
        "ACTIVE",
        "DONE",
        "CONFLICTS",
    ]);
    for v in &list {
        table.row(vec![
            cell(v.project.clone()),
            cell(v.session_count.to_string()),
            cell(v.todo_count.to_string()),
            cell(v.pending.to_string()),
            cell(v.in_progress.to_string()),
            cell(v.completed.to_string()),
            cell(v.conflicts.to_string()),
        ]);
    }
    table.print();
    Ok(())
}

pub use chittysync_core::SessionState;

/// A session's state (SPEC §8): the rule is core's, shared with the
/// collisions and the hooks (docs/COLLISIONS.md).
pub fn session_state(s: &SessionRecord, now: Timestamp, stale_after_ms: i64) -> SessionState {
    chittysync_core::collision::session_state(&s.activity(), now, stale_after_ms)
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: SessionRecord,
    /// The agent the session ran in (`claude`, `codex`…).
    pub agent: &'static str,
    pub state: SessionState,
    pub open_todos: usize,
    pub in_progress: usize,
}

/// Every session with its state and open counts.
pub fn session_views(
    ctx: &Context,
    todos: &[StoredTodo],
    sessions: Vec<SessionRecord>,
) -> Vec<SessionView> {
    let now = Timestamp::now();
    let stale_after = ctx.config.sessions.stale_after.as_millis() as i64;
    let mut open: HashMap<&str, (usize, usize)> = HashMap::new();
    for t in todos.iter().filter(|t| t.status.is_open()) {
        for s in &t.sessions {
            let counts = open.entry(s.as_str()).or_default();
            counts.0 += 1;
            counts.1 += usize::from(t.status == Status::InProgress);
        }
    }
    sessions
        .into_iter()
        .map(|session| {
            let (open_todos, in_progress) =
                open.get(session.id.as_str()).copied().unwrap_or_default();
            SessionView {
                agent: chittysync_core::agent::agent_of(&session.id),
                state: session_state(&session, now, stale_after),
                session,
                open_todos,
                in_progress,
            }
        })
        .collect()
}

pub fn sessions(ctx: &Context, active: bool, stale: bool, json: bool) -> Result<()> {
    let store = ctx.store_or_hint()?;
    let todos = store.folded_todos()?;
    let views: Vec<SessionView> = session_views(ctx, &todos, store.sessions()?)
        .into_iter()
        .filter(|v| {
            (!active || v.state == SessionState::Active)
                && (!stale || v.state == SessionState::Stale)
        })
        .collect();
    if json {
        return print_json(&views);
    }
    if views.is_empty() {
        println!("No sessions match.");
        return Ok(());
    }
    let now = Timestamp::now();
    let mut table = Table::new(vec![
        "SESSION",
        "AGENT",
        "STATE",
        "DEVICE",
        "PROJECT",
        "LAST ACTIVE",
        "OPEN",
        "ACTIVE",
        "CWD",
    ]);
    for v in &views {
        let s = &v.session;
        let state_style = match v.state {
            SessionState::Active => crate::output::BOLD,
            _ => DIM,
        };
        table.row(vec![
            cell(short_id(&s.id).to_string()),
            cell(v.agent.to_string()),
            (format!("{:?}", v.state).to_lowercase(), state_style),
            cell(s.device.clone()),
            cell(
                s.project
                    .clone()
                    .or_else(|| s.task_list.clone())
                    .unwrap_or_else(|| "-".into()),
            ),
            cell(age(s.last_seen, now)),
            cell(v.open_todos.to_string()),
            cell(v.in_progress.to_string()),
            cell(s.cwd.clone().unwrap_or_else(|| "-".into())),
        ]);
    }
    table.print();
    Ok(())
}

pub fn conflicts(ctx: &Context, json: bool) -> Result<()> {
    let store = ctx.store_or_hint()?;
    let list: Vec<Conflict> = store
        .folded_todos()?
        .iter()
        .filter(|t| t.status != Status::Deleted)
        .filter_map(|t| t.conflict().transpose())
        .collect::<Result<_, _>>()?;
    if json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("No conflicts.");
        return Ok(());
    }
    let now = Timestamp::now();
    let mut table = Table::new(vec!["RESOLVED AS", "PROJECT", "SIDES", "ID", "CONTENT"]);
    for c in &list {
        let sides: Vec<String> = c
            .sides
            .iter()
            .map(|s| {
                format!(
                    "{} {} ({})",
                    short_id(s.session.as_deref().unwrap_or(&s.observer)),
                    s.status,
                    age(Some(s.observed_at), now)
                )
            })
            .collect();
        table.row(vec![
            (c.resolution.to_string(), status_style(c.resolution)),
            cell(c.project.clone()),
            cell(sides.join(", ")),
            cell(short_id(&c.id).to_string()),
            cell(c.content.clone()),
        ]);
    }
    table.print();
    println!(
        "{} conflicts, all resolved by rule `status-priority`",
        list.len()
    );
    Ok(())
}
