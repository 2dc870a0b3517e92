//! `chittysync orchestrate [--project P] [--json]`: a plan spreading pending
//! todos over active sessions by load (docs/TOPICS.md). The plan is
//! core's ([`chittysync_core::orchestrate::orchestrate`]), the same as the
//! hub's `POST /api/orchestrate`; it is advice, nothing is sent to a session.

use crate::commands::views::{session_state, SessionState};
use crate::context::Context;
use crate::output::{cell, print_json, short_id, Table, DIM};
use anyhow::Result;
use chittysync_core::orchestrate::{orchestrate, ActiveSession};
use chittysync_core::{Timestamp, TodoEntry};
use std::collections::HashMap;

pub fn run(ctx: &Context, project: Option<&str>, json: bool) -> Result<()> {
    let handle = ctx.store_or_hint()?;
    let store = handle.reader();
    let todos: Vec<TodoEntry> = store
        .folded_todos()?
        .iter()
        .map(|t| t.entry())
        .collect::<Result<_, _>>()?;
    let now = Timestamp::now();
    let stale_ms = ctx.config.sessions.stale_after.as_millis() as i64;
    let active: Vec<ActiveSession> = store
        .sessions()?
        .into_iter()
        .filter(|s| session_state(s, now, stale_ms) == SessionState::Active)
        .filter_map(|s| {
            Some(ActiveSession {
                project: s.project.clone()?,
                session: s.id,
            })
        })
        .collect();
    let plan = orchestrate(&todos, &active, project);
    if json {
        return print_json(&plan);
    }
    let content: HashMap<&str, &str> = todos
        .iter()
        .map(|t| (t.id.as_str(), t.content.as_str()))
        .collect();
    if plan.assignments.is_empty() && plan.unassigned.is_empty() {
        println!("No pending todos to spread.");
        return Ok(());
    }
    let mut table = Table::new(vec!["SESSION", "PROJECT", "ID", "TODO"]);
    for a in &plan.assignments {
        for id in &a.todos {
            table.row(vec![
                cell(short_id(&a.session).to_string()),
                cell(a.project.clone()),
                cell(short_id(id).to_string()),
                cell(content.get(id.as_str()).copied().unwrap_or("").to_string()),
            ]);
        }
    }
    for id in &plan.unassigned {
        let project = todos
            .iter()
            .find(|t| &t.id == id)
            .map_or("", |t| t.project.as_str());
        table.row(vec![
            ("(no active session)".to_string(), DIM),
            cell(project.to_string()),
            cell(short_id(id).to_string()),
            cell(content.get(id.as_str()).copied().unwrap_or("").to_string()),
        ]);
    }
    table.print();
    let given: usize = plan.assignments.iter().map(|a| a.todos.len()).sum();
    println!(
        "{given} pending todo{} given to {} active session{}, {} unassigned",
        if given == 1 { "" } else { "s" },
        plan.assignments.len(),
        if plan.assignments.len() == 1 { "" } else { "s" },
        plan.unassigned.len()
    );
    Ok(())
}
