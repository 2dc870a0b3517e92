//! The three-way merge of two snapshots with a common ancestor (docs/DESIGN.md, "The three-way merge"), as git
//! merges a `todos.json` edited on two branches.
//!
//! Per todo: a side that did not change from the ancestor yields to the side that
//! did; when both changed differently, `completed` wins, then `in_progress`, then
//! the newer `updated_at`, and the case is reported. A todo on one side only is
//! kept. The result depends only on the inputs, never on their order in the files.

use crate::fold::{Conflict, ConflictSide};
use crate::key::normalize;
use crate::snapshot::{sort_entries, TodoEntry};
use crate::status::Status;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// The merged todos, sorted as in `todos.json`, and every conflict resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    pub todos: Vec<TodoEntry>,
    pub conflicts: Vec<Conflict>,
}

type Key = (String, String);

fn index(entries: &[TodoEntry]) -> BTreeMap<Key, &TodoEntry> {
    let mut map: BTreeMap<Key, &TodoEntry> = BTreeMap::new();
    for e in entries {
        let key = (e.project.clone(), normalize(&e.content));
        // A file listing a todo twice: keep the one that ranks higher, as the fold would.
        match map.get(&key) {
            Some(&existing) if rank(existing, e) != Ordering::Less => {}
            _ => {
                map.insert(key, e);
            }
        }
    }
    map
}

/// Orders two versions of a todo by the merge rule; `Greater` means `a` wins.
fn rank(a: &TodoEntry, b: &TodoEntry) -> Ordering {
    fn weight(s: Status) -> u8 {
        match s {
            Status::Completed => 2,
            Status::InProgress => 1,
            Status::Pending | Status::Deleted => 0,
        }
    }
    weight(a.status)
        .cmp(&weight(b.status))
        .then(a.updated_at.cmp(&b.updated_at))
        // Last resort, so the merge is symmetric: compare the whole entries.
        .then_with(|| {
            let ja = serde_json::to_string(a).unwrap_or_default();
            let jb = serde_json::to_string(b).unwrap_or_default();
            ja.cmp(&jb)
        })
}

fn rule_name(winner: &TodoEntry, loser: &TodoEntry) -> &'static str {
    if winner.status == loser.status {
        "newer-updated_at"
    } else if winner.status == Status::Completed {
        "completed-wins"
    } else if winner.status == Status::InProgress {
        "in_progress-wins"
    } else {
        "newer-updated_at"
    }
}

fn side(label: &str, e: &TodoEntry) -> ConflictSide {
    ConflictSide {
        observer: label.to_string(),
        session: e.sessions.first().cloned(),
        status: e.status,
        observed_at: e.updated_at.or(e.first_seen).unwrap_or_default(),
    }
}

/// Both sides changed the todo differently: the winner by the rule, knowing every
/// session either side knew and the earliest times either saw.
fn resolve_both_changed(ours: &TodoEntry, theirs: &TodoEntry) -> (TodoEntry, Conflict) {
    let (winner, loser) = if rank(ours, theirs) == Ordering::Less {
        (theirs, ours)
    } else {
        (ours, theirs)
    };
    let mut merged = winner.clone();
    let sessions: BTreeSet<String> = ours
        .sessions
        .iter()
        .chain(theirs.sessions.iter())
        .cloned()
        .collect();
    merged.sessions = sessions.into_iter().collect();
    merged.first_seen = min_opt(ours.first_seen, theirs.first_seen);
    merged.started_at = min_opt(ours.started_at, theirs.started_at);
    let conflict = Conflict {
        id: merged.id.clone(),
        content: merged.content.clone(),
        project: merged.project.clone(),
        resolution: merged.status,
        rule: rule_name(winner, loser).to_string(),
        sides: vec![side("ours", ours), side("theirs", theirs)],
    };
    (merged, conflict)
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Merges `ours` and `theirs`, which both descend from `base`.
pub fn merge_snapshots(
    base: &[TodoEntry],
    ours: &[TodoEntry],
    theirs: &[TodoEntry],
) -> MergeOutcome {
    let base = index(base);
    let ours = index(ours);
    let theirs = index(theirs);
    let keys: BTreeSet<&Key> = ours.keys().chain(theirs.keys()).collect();
    let mut todos = Vec::with_capacity(keys.len());
    let mut conflicts = Vec::new();
    for key in keys {
        let merged = match (ours.get(key), theirs.get(key)) {
            (Some(o), Some(t)) if o == t => (*o).clone(),
            (Some(o), Some(t)) => match base.get(key) {
                Some(b) if b == o => (*t).clone(),
                Some(b) if b == t => (*o).clone(),
                _ => {
                    let (entry, conflict) = resolve_both_changed(o, t);
                    conflicts.push(conflict);
                    entry
                }
            },
            (Some(only), None) | (None, Some(only)) => (*only).clone(),
            (None, None) => continue,
        };
        todos.push(merged);
    }
    sort_entries(&mut todos);
    MergeOutcome { todos, conflicts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn entry(content: &str, status: Status, updated: i64) -> TodoEntry {
        TodoEntry {
            id: crate::key::todo_id("p", content),
            content: content.into(),
            active_form: None,
            status,
            project: "p".into(),
            sessions: vec![],
            agents: vec![],
            first_seen: Some(Timestamp(1)),
            started_at: None,
            updated_at: Some(Timestamp(updated)),
            completed_at: None,
        }
    }

    #[test]
    fn unchanged_side_yields() {
        let base = vec![entry("a", Status::Pending, 1)];
        let ours = vec![entry("a", Status::Pending, 1)];
        let theirs = vec![entry("a", Status::Deleted, 5)];
        let out = merge_snapshots(&base, &ours, &theirs);
        assert_eq!(out.todos[0].status, Status::Deleted);
        assert!(out.conflicts.is_empty());
    }

    #[test]
    fn both_changed_completed_wins_and_is_reported() {
        let base = vec![entry("a", Status::Pending, 1)];
        let ours = vec![entry("a", Status::Completed, 2)];
        let theirs = vec![entry("a", Status::InProgress, 9)];
        let out = merge_snapshots(&base, &ours, &theirs);
        assert_eq!(out.todos[0].status, Status::Completed);
        assert_eq!(out.conflicts.len(), 1);
        assert_eq!(out.conflicts[0].rule, "completed-wins");
        let swapped = merge_snapshots(&base, &theirs, &ours);
        assert_eq!(swapped.todos, out.todos);
    }

    #[test]
    fn one_sided_todos_are_kept() {
        let base = vec![entry("a", Status::Pending, 1)];
        let ours = vec![entry("b", Status::Pending, 2)];
        let theirs = vec![entry("c", Status::Pending, 3)];
        let out = merge_snapshots(&base, &ours, &theirs);
        let names: Vec<_> = out.todos.iter().map(|t| t.content.as_str()).collect();
        assert_eq!(names, vec!["b", "c"]);
    }
}
