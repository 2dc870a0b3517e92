//! `chittysync todos`

use super::git::PastPoint;
use crate::cli::{StatusFilter, TodosArgs};
use crate::context::Context;
use crate::output::{age, cell, print_json, short_id, status_style, Table};
use anyhow::Result;
use chittysync_core::{fold, snapshot::sort_entries, Status, Timestamp, TodoEntry};
use chittysync_engine::views::{todo_entries, StatusSet, TodoFilter};

impl StatusFilter {
    /// The engine's status set for this filter.
    fn set(self) -> StatusSet {
        match self {
            StatusFilter::Pending => StatusSet::One(Status::Pending),
            StatusFilter::InProgress => StatusSet::One(Status::InProgress),
            StatusFilter::Completed => StatusSet::One(Status::Completed),
            StatusFilter::Deleted => StatusSet::One(Status::Deleted),
            StatusFilter::Open => StatusSet::Open,
        }
    }
}

/// What the arguments ask for, as the engine's filter (the same the MCP
/// server and the dashboard use).
fn filter(args: &TodosArgs) -> TodoFilter {
    TodoFilter {
        project: args.project.clone(),
        status: args.status.map(StatusFilter::set),
        session: args.session.clone(),
        agent: args.agent.clone(),
    }
}

/// The folded entries now, or as they were at `as_of`.
pub fn entries(ctx: &Context, as_of: Option<&PastPoint>) -> Result<Vec<TodoEntry>> {
    let handle = ctx.store_or_hint()?;
    let store = handle.reader();
    match as_of {
        None => store
            .folded_todos()?
            .iter()
            .map(|t| t.entry().map_err(Into::into))
            .collect(),
        Some(point) => {
            let past = point.observations(store)?;
            let mut entries: Vec<TodoEntry> = fold(&past)
                .into_values()
                .filter_map(|s| s.resolve())
                .map(|r| r.entry)
                .collect();
            sort_entries(&mut entries);
            Ok(entries)
        }
    }
}

pub fn run(ctx: &Context, args: &TodosArgs) -> Result<()> {
    let now = Timestamp::now();
    let as_of = args
        .as_of
        .as_deref()
        .map(|t| PastPoint::parse(ctx, t, now))
        .transpose()?;
    let wanted = filter(args);
    let list: Vec<TodoEntry> = match &as_of {
        None => todo_entries(ctx.store_or_hint()?.reader(), &wanted)?,
        Some(point) => entries(ctx, Some(point))?
            .into_iter()
            .filter(|e| wanted.wants(e))
            .collect(),
    };
    if args.json.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("No todos match.");
        return Ok(());
    }
    let mut table = Table::new(vec![
        "STATUS", "PROJECT", "UPDATED", "SESSIONS", "ID", "CONTENT",
    ]);
    for e in &list {
        let sessions = match e.sessions.as_slice() {
            [] => "-".to_string(),
            [one] => short_id(one).to_string(),
            [one, rest @ ..] => format!("{}+{}", short_id(one), rest.len()),
        };
        table.row(vec![
            (e.status.to_string(), status_style(e.status)),
            cell(e.project.clone()),
            cell(age(e.updated_at, now)),
            cell(sessions),
            cell(short_id(&e.id).to_string()),
            cell(e.content.clone()),
        ]);
    }
    table.print();
    Ok(())
}
