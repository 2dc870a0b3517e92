//! The fold: many observations of a todo become one state (docs/DESIGN.md, "The fold").
//!
//! [`TodoState`] is an accumulator: applying observations in any order, any
//! number of times, gives the same state, so the store can keep it on disk and
//! apply only what is new (incremental equals full), and the hub and the git
//! merge reach the same answer from the same facts.

use crate::key::TodoId;
use crate::observation::Observation;
use crate::snapshot::TodoEntry;
use crate::status::Status;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The rule that resolves observers that disagree.
pub const STATUS_PRIORITY_RULE: &str = "status-priority";

/// Everything the fold needs to know about one todo.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TodoState {
    /// Each observer's current word: its latest observation of this todo.
    pub latest: BTreeMap<String, Observation>,
    /// The earliest time anyone saw the todo.
    pub first_seen: Option<Timestamp>,
    /// The earliest time anyone saw it `in_progress`.
    pub started_at: Option<Timestamp>,
    /// The earliest time anyone saw it `completed` (its `completed_at` while it is).
    pub first_completed: Option<Timestamp>,
    /// Every session that ever saw it (a task's file names none; its calls do).
    pub sessions: BTreeSet<String>,
}

/// One observer's side of a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictSide {
    pub observer: String,
    pub session: Option<String>,
    pub status: Status,
    pub observed_at: Timestamp,
}

/// A todo whose observers' latest statuses disagree, and how it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub id: TodoId,
    pub content: String,
    pub project: String,
    pub resolution: Status,
    pub rule: String,
    pub sides: Vec<ConflictSide>,
}

/// The folded state of one todo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub entry: TodoEntry,
    pub conflict: Option<Conflict>,
}

fn min_time(a: Option<Timestamp>, b: Timestamp) -> Option<Timestamp> {
    Some(a.map_or(b, |a| a.min(b)))
}

impl TodoState {
    /// Takes one observation into account. Commutative and idempotent.
    pub fn apply(&mut self, obs: &Observation) {
        self.take(Cow::Borrowed(obs));
    }

    /// [`TodoState::apply`] of an observation the caller is done with: kept
    /// without a copy if it is its observer's current word, which is then
    /// returned (a fold of the whole log reads each observation once).
    pub fn apply_owned(&mut self, obs: Observation) -> Option<&Observation> {
        self.take(Cow::Owned(obs))
    }

    fn take(&mut self, obs: Cow<'_, Observation>) -> Option<&Observation> {
        self.first_seen = min_time(self.first_seen, obs.observed_at);
        match obs.status {
            Status::InProgress => self.started_at = min_time(self.started_at, obs.observed_at),
            Status::Completed => {
                self.first_completed = min_time(self.first_completed, obs.observed_at)
            }
            Status::Pending | Status::Deleted => {}
        }
        if let Some(session) = &obs.session {
            if !self.sessions.contains(session) {
                self.sessions.insert(session.clone());
            }
        }
        self.offer_latest(obs)
    }

    /// Merges another accumulator of the same todo into this one.
    pub fn absorb(&mut self, other: &TodoState) {
        if let Some(t) = other.first_seen {
            self.first_seen = min_time(self.first_seen, t);
        }
        if let Some(t) = other.started_at {
            self.started_at = min_time(self.started_at, t);
        }
        if let Some(t) = other.first_completed {
            self.first_completed = min_time(self.first_completed, t);
        }
        self.sessions.extend(other.sessions.iter().cloned());
        for obs in other.latest.values() {
            self.offer_latest(Cow::Borrowed(obs));
        }
    }

    /// Keeps `obs` as its observer's current word if it is newer than what
    /// we have, and returns it then.
    fn offer_latest(&mut self, obs: Cow<'_, Observation>) -> Option<&Observation> {
        match self.latest.get(&obs.observer) {
            Some(current) if current.recency_key() >= obs.recency_key() => None,
            Some(_) => {
                let current = self.latest.get_mut(&obs.observer)?;
                *current = obs.into_owned();
                Some(current)
            }
            None => Some(
                self.latest
                    .entry(obs.observer.clone())
                    .or_insert(obs.into_owned()),
            ),
        }
    }

    /// The todo's consolidated entry and its conflict, if any. `None` before any
    /// observation was applied.
    pub fn resolve(&self) -> Option<Resolved> {
        let status = self.latest.values().map(|o| o.status).max()?;
        // Content comes from the newest observation carrying the winning status;
        // at equal times the smaller observer id (the map is ordered by it).
        let mut winner: Option<&Observation> = None;
        for obs in self.latest.values().filter(|o| o.status == status) {
            if winner.is_none_or(|w| obs.observed_at > w.observed_at) {
                winner = Some(obs);
            }
        }
        let winner = winner?;
        let updated_at = self.latest.values().map(|o| o.observed_at).max();
        let completed_at = self.first_completed.filter(|_| status == Status::Completed);
        let entry = TodoEntry {
            id: winner.todo_id.clone(),
            content: winner.content.clone(),
            active_form: winner.active_form.clone(),
            status,
            project: winner.project.clone(),
            sessions: self.sessions.iter().cloned().collect(),
            agents: self
                .latest
                .keys()
                .map(|observer| crate::agent::agent_of(observer))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(str::to_string)
                .collect(),
            first_seen: self.first_seen,
            started_at: self.started_at,
            updated_at,
            completed_at,
        };
        let disagree = self.latest.values().any(|o| o.status != status);
        let conflict = disagree.then(|| Conflict {
            id: entry.id.clone(),
            content: entry.content.clone(),
            project: entry.project.clone(),
            resolution: status,
            rule: STATUS_PRIORITY_RULE.to_string(),
            sides: self
                .latest
                .values()
                .map(|o| ConflictSide {
                    observer: o.observer.clone(),
                    session: o.session.clone(),
                    status: o.status,
                    observed_at: o.observed_at,
                })
                .collect(),
        });
        Some(Resolved { entry, conflict })
    }
}

/// Folds a set of observations into per-todo states, keyed by todo id.
pub fn fold<'a>(
    observations: impl IntoIterator<Item = &'a Observation>,
) -> BTreeMap<TodoId, TodoState> {
    let mut states: BTreeMap<TodoId, TodoState> = BTreeMap::new();
    for obs in observations {
        states.entry(obs.todo_id.clone()).or_default().apply(obs);
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Source;

    fn obs(observer: &str, status: Status, t: i64) -> Observation {
        Observation::new(
            "api",
            "Write tests".into(),
            None,
            status,
            observer.into(),
            Some(observer.into()),
            "dev",
            Source::File,
            Timestamp(t),
        )
    }

    fn resolve(all: &[Observation]) -> Resolved {
        fold(all).into_values().next().unwrap().resolve().unwrap()
    }

    #[test]
    fn completion_is_not_undone_by_a_stale_copy() {
        let r = resolve(&[
            obs("a", Status::Completed, 10),
            obs("b", Status::Pending, 20),
        ]);
        assert_eq!(r.entry.status, Status::Completed);
        let c = r.conflict.unwrap();
        assert_eq!(c.sides.len(), 2);
        assert_eq!(c.rule, "status-priority");
        assert_eq!(r.entry.completed_at, Some(Timestamp(10)));
        assert_eq!(r.entry.sessions, vec!["a", "b"]);
    }

    #[test]
    fn an_observer_reopens_its_own_todo() {
        let r = resolve(&[
            obs("a", Status::Completed, 10),
            obs("a", Status::Pending, 20),
        ]);
        assert_eq!(r.entry.status, Status::Pending);
        assert!(r.conflict.is_none());
        assert_eq!(r.entry.completed_at, None);
    }

    #[test]
    fn same_instant_counts_once_with_higher_status() {
        let r = resolve(&[
            obs("a", Status::InProgress, 10),
            obs("a", Status::Pending, 10),
        ]);
        assert_eq!(r.entry.status, Status::InProgress);
        assert!(r.conflict.is_none());
        assert_eq!(r.entry.started_at, Some(Timestamp(10)));
    }

    #[test]
    fn deleted_only_when_everyone_deleted() {
        let r = resolve(&[obs("a", Status::Deleted, 10), obs("b", Status::Pending, 5)]);
        assert_eq!(r.entry.status, Status::Pending);
        let r = resolve(&[obs("a", Status::Deleted, 10)]);
        assert_eq!(r.entry.status, Status::Deleted);
    }
}
