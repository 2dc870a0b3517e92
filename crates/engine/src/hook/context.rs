//! What a starting session is told of the other sessions of its project.

use super::HookError;
use chittysync_core::{short_id, Status, Timestamp};
use chittysync_store::StoredTodo;
use std::fmt::Write;

/// A few lines for Claude Code's `additionalContext`: the open todos other
/// sessions of the project hold, in progress first, each with the sessions
/// that hold it and how long ago it last changed. None when there are none.
pub(super) fn render(
    project: &str,
    session: &str,
    todos: &[StoredTodo],
    total: u64,
    now: Timestamp,
) -> Result<Option<String>, HookError> {
    if todos.is_empty() {
        return Ok(None);
    }
    let mut text = format!(
        "chittysync: other sessions of project `{project}` have {total} open todo{}:",
        if total == 1 { "" } else { "s" }
    );
    for todo in todos {
        let entry = todo.entry()?;
        let others: Vec<&str> = entry
            .sessions
            .iter()
            .filter(|s| s.as_str() != session)
            .map(|s| short_id(s))
            .collect();
        let state = match entry.status {
            Status::InProgress => "in progress",
            _ => "pending",
        };
        let _ = write!(
            text,
            "\n- [{state}] {} (session{} {}, {})",
            entry.content,
            if others.len() == 1 { "" } else { "s" },
            others.join(", "),
            age(entry.updated_at, now)
        );
    }
    let shown = todos.len() as u64;
    if total > shown {
        let _ = write!(
            text,
            "\n… and {} more: `chittysync todos --project {project} --status open`",
            total - shown
        );
    }
    Ok(Some(text))
}

fn age(then: Option<Timestamp>, now: Timestamp) -> String {
    then.map_or_else(|| "time unknown".to_string(), |t| t.age(now))
}
