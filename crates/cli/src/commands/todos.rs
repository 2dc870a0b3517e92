//! `chittysync todos`

use super::git::PastPoint;
use crate::cli::{StatusFilter, TodosArgs};
use crate::context::Context;
use crate::output::{age, cell, print_json, short_id, status_style, Table};
use anyhow::Result;
use chittysync_core::{fold, snapshot::sort_entries, Status, Timestamp, TodoEntry};

impl StatusFilter {
    fn matches(self, status: Status) -> bool {
        match self {
            StatusFilter::Pending => status == Status::Pending,
            StatusFilter::InProgress => status == Status::InProgress,
            StatusFilter::Completed => status == Status::Completed,
            StatusFilter::Deleted => status == Status::Deleted,
            StatusFilter::Open => status.is_open(),
        }
    }
}

/// Whether a session filter names this session (its id or a prefix of it).
pub fn session_matches(filter: &str, session: &str) -> bool {
    // Another agent's session is also named without its agent (`codex:`).
    let bare = match session.split_once(':') {
        Some((agent, rest)) if chittysync_core::agent::NAMESPACED.contains(&agent) => rest,
        _ => session,
    };
    [session, bare]
        .iter()
        .any(|s| *s == filter || (filter.len() >= 4 && s.starts_with(filter)))
}

fn wanted(args: &TodosArgs, entry: &TodoEntry) -> bool {
    let status_ok = match args.status {
        Some(filter) => filter.matches(entry.status),
        None => entry.status != Status::Deleted,
    };
    status_ok
        && args.project.as_ref().is_none_or(|p| &entry.project == p)
        && args
            .session
            .as_ref()
            .is_none_or(|s| entry.sessions.iter().any(|x| session_matches(s, x)))
        && args.agent.as_ref().is_none_or(|a| entry.agents.contains(a))
}

/// The folded entries now, or as they were at `as_of`.
pub fn entries(ctx: &Context, as_of: Option<&PastPoint>) -> Result<Vec<TodoEntry>> {
    let store = ctx.store_or_hint()?;
    match as_of {
        None => store
            .folded_todos()?
            .iter()
            .map(|t| t.entry().map_err(Into::into))
            .collect(),
        Some(point) => {
            let past = point.observations(&store)?;
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
    let list: Vec<TodoEntry> = entries(ctx, as_of.as_ref())?
        .into_iter()
        .filter(|e| wanted(args, e))
        .collect();
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
