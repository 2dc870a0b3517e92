//! `chittysync collisions [--project P] [--json]`: the todos in progress in
//! two or more active sessions at once (docs/COLLISIONS.md).

use crate::context::Context;
use crate::output::{age, cell, print_json, short_id, Table, BOLD};
use anyhow::Result;
use chittysync_core::{Collision, Timestamp};
use serde::Serialize;

/// A collision as `--json` prints it: times in RFC 3339.
#[derive(Serialize)]
struct CollisionView<'a> {
    todo_id: &'a str,
    project: &'a str,
    content: &'a str,
    /// When its second session took it.
    since: Timestamp,
    sessions: Vec<HolderView<'a>>,
}

#[derive(Serialize)]
struct HolderView<'a> {
    session: &'a str,
    agent: &'a str,
    device: &'a str,
    since: Timestamp,
    last_seen: Timestamp,
}

/// The collisions now (of a project, or all).
pub fn current(ctx: &Context, project: Option<&str>) -> Result<Vec<Collision>> {
    let Some(store) = ctx.existing_store()? else {
        return Ok(Vec::new());
    };
    Ok(chittysync_engine::collisions_in(
        store.reader(),
        project,
        Timestamp::now(),
        ctx.config.sessions.stale_after,
    )?)
}

pub fn run(ctx: &Context, project: Option<&str>, json: bool) -> Result<()> {
    let list = current(ctx, project)?;
    if json {
        let views: Vec<CollisionView<'_>> = list
            .iter()
            .map(|c| CollisionView {
                todo_id: &c.todo_id,
                project: &c.project,
                content: &c.content,
                since: c.since(),
                sessions: c
                    .sessions
                    .iter()
                    .map(|h| HolderView {
                        session: &h.session,
                        agent: h.agent,
                        device: &h.device,
                        since: h.since,
                        last_seen: h.last,
                    })
                    .collect(),
            })
            .collect();
        return print_json(&views);
    }
    if list.is_empty() {
        println!("No collisions: no todo is in progress in two active sessions at once.");
        return Ok(());
    }
    let now = Timestamp::now();
    let mut table = Table::new(vec!["PROJECT", "SINCE", "SESSIONS", "ID", "CONTENT"]);
    for c in &list {
        let sessions: Vec<String> = c
            .sessions
            .iter()
            .map(|h| {
                format!(
                    "{} ({} on {}, {})",
                    short_id(&h.session),
                    h.agent,
                    h.device,
                    age(Some(h.since), now)
                )
            })
            .collect();
        table.row(vec![
            cell(c.project.clone()),
            cell(age(Some(c.since()), now)),
            cell(sessions.join(", ")),
            cell(short_id(&c.todo_id).to_string()),
            (c.content.clone(), BOLD),
        ]);
    }
    table.print();
    println!(
        "{} collision{}: a todo in progress in several active sessions at once",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    Ok(())
}
