//! `chittysync projects`, `sessions` and `conflicts`.

use crate::context::Context;
use crate::output::{age, cell, print_json, short_id, status_style, Table, DIM};
use anyhow::Result;
use chittysync_core::{Conflict, Timestamp};
use chittysync_engine::{SessionRecord, StoredTodo};

pub fn projects(ctx: &Context, json: bool) -> Result<()> {
    let store = ctx.store_or_hint()?;
    let list = chittysync_engine::views::project_views(store.reader())?;
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

pub use chittysync_engine::views::{session_state, SessionState};

/// Every session with its state and open counts (the engine's view, with
/// this run's `stale_after`).
pub fn session_views(
    ctx: &Context,
    todos: &[StoredTodo],
    sessions: Vec<SessionRecord>,
) -> Vec<chittysync_engine::views::SessionView> {
    chittysync_engine::views::session_views(
        todos,
        sessions,
        Timestamp::now(),
        ctx.config.sessions.stale_after.as_millis() as i64,
    )
}

pub fn sessions(ctx: &Context, active: bool, stale: bool, json: bool) -> Result<()> {
    let handle = ctx.store_or_hint()?;
    let store = handle.reader();
    let todos = store.folded_todos()?;
    let mut views: Vec<chittysync_engine::views::SessionView> =
        session_views(ctx, &todos, store.sessions()?)
            .into_iter()
            .filter(|v| {
                (!active || v.state == SessionState::Active)
                    && (!stale || v.state == SessionState::Stale)
            })
            .collect();
    // Specialists chittysync started are marked with their start (docs/TOPICS.md).
    chittysync_engine::views::mark_spawned(&mut views, store.spawns()?);
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
        "SPECIALIST",
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
            cell(
                v.spawned
                    .as_ref()
                    .map_or_else(|| "-".into(), |sp| format!("{} #{}", sp.topic, sp.id)),
            ),
            cell(s.cwd.clone().unwrap_or_else(|| "-".into())),
        ]);
    }
    table.print();
    Ok(())
}

pub fn conflicts(ctx: &Context, json: bool) -> Result<()> {
    let store = ctx.store_or_hint()?;
    let list: Vec<Conflict> = chittysync_engine::views::conflicts(store.reader())?;
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
