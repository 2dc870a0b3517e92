//! Rollback: restoring the fold as it was at an earlier point by appending
//! observations. History is never rewritten.
//!
//! The fold takes, per todo, each observer's latest word and keeps the highest
//! status (`completed > in_progress > pending > deleted`). A single new word
//! from a "user" observer could therefore raise a status but never lower it:
//! a todo completed by session A stays completed whatever anyone else says.
//! So a rollback speaks *for the observers that spoke since*: for every
//! observer whose latest word on the todo is not the one it had then, it
//! appends a word by that same observer (source `user`, this device) repeating
//! its earlier status — or `deleted` if the observer had not seen the todo
//! then. Afterwards every observer's latest word has the status it had then,
//! so the fold's status is the earlier one.
//!
//! The new words carry the earlier entry's content and activeForm and are
//! stamped after every word on the todo. Hence when one of them carries the
//! winning status it is the newest such word and gives the earlier content;
//! when none does, the winner is among the observers that did not speak since,
//! exactly as it was then. Timestamps (`updated_at`) and the sessions list
//! naturally show that the rollback happened.

use crate::{Observation, Source, Status, Timestamp, TodoEntry, TodoId, TodoState};
use serde::Serialize;
use std::collections::BTreeMap;

/// A todo that the rollback changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackChange {
    pub id: TodoId,
    pub project: String,
    pub content: String,
    /// The status shown now (`deleted` when hidden).
    pub from: Status,
    /// The status restored (`deleted` when the todo did not exist then).
    pub to: Status,
    /// The observations to append: one per observer that spoke since.
    pub observations: Vec<Observation>,
}

/// What a view shows of a todo: nothing when deleted.
fn shown(entry: &TodoEntry) -> Option<(Status, &str, Option<&str>)> {
    (entry.status != Status::Deleted).then_some((
        entry.status,
        entry.content.as_str(),
        entry.active_form.as_deref(),
    ))
}

/// The changes that make `now` show what `then` showed, for `project` only if
/// given. `then` must be the fold of a subset of the observations folded into
/// `now`. The observations are by `device`, stamped no earlier than `at`.
pub fn plan(
    now: &BTreeMap<TodoId, TodoState>,
    then: &BTreeMap<TodoId, TodoState>,
    project: Option<&str>,
    device: &str,
    at: Timestamp,
) -> Vec<RollbackChange> {
    let mut changes = Vec::new();
    for (id, state) in now {
        let Some(current) = state.resolve().map(|r| r.entry) else {
            continue;
        };
        if project.is_some_and(|p| current.project != p) {
            continue;
        }
        let earlier_state = then.get(id);
        let earlier = earlier_state.and_then(TodoState::resolve).map(|r| r.entry);
        if shown(&current) == earlier.as_ref().and_then(shown) {
            continue;
        }
        let (to, content, active_form) = match &earlier {
            Some(e) => (e.status, e.content.clone(), e.active_form.clone()),
            None => (
                Status::Deleted,
                current.content.clone(),
                current.active_form.clone(),
            ),
        };
        let newest = state
            .latest
            .values()
            .map(|o| o.observed_at.millis())
            .max()
            .unwrap_or(i64::MIN);
        let stamp = Timestamp(at.millis().max(newest.saturating_add(1)));
        let observations = state
            .latest
            .iter()
            .filter_map(|(observer, word)| {
                let old = earlier_state.and_then(|s| s.latest.get(observer));
                if old.is_some_and(|o| o.id == word.id) {
                    return None;
                }
                Some(Observation::new(
                    &current.project,
                    content.clone(),
                    active_form.clone(),
                    old.map_or(Status::Deleted, |o| o.status),
                    observer.clone(),
                    old.and_then(|o| o.session.clone())
                        .or_else(|| word.session.clone()),
                    device,
                    Source::User,
                    stamp,
                ))
            })
            .collect();
        changes.push(RollbackChange {
            id: id.clone(),
            project: current.project.clone(),
            content: current.content.clone(),
            from: current.status,
            to,
            observations,
        });
    }
    changes
}
