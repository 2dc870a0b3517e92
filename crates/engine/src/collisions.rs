//! Collisions (docs/COLLISIONS.md): which todos are in progress in
//! two or more active sessions at once, and what a session writing its plan
//! is told of them. The rule is core's ([`chittysync_core::collision`]); here
//! it meets the store.

use crate::Engine;
use crate::Reader;
use chittysync_core::collision::{self, Activity, SessionState};
use chittysync_core::{Collision, Status, Timestamp};
use chittysync_store::{NewWord, Store, StoreError, TodoWords, Tx};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// What the collision rule asks the store, inside a write transaction (the
/// hooks) or outside (the views).
pub(crate) trait Lookup {
    fn since(&self, todo_id: &str, observer: &str) -> Result<Option<Timestamp>, StoreError>;
    fn activity(&self, session: &str) -> Result<Option<Activity>, StoreError>;
}

impl Lookup for Store {
    fn since(&self, todo_id: &str, observer: &str) -> Result<Option<Timestamp>, StoreError> {
        self.in_progress_since(todo_id, observer)
    }
    fn activity(&self, session: &str) -> Result<Option<Activity>, StoreError> {
        self.session_activity(session)
    }
}

impl Lookup for Tx<'_> {
    fn since(&self, todo_id: &str, observer: &str) -> Result<Option<Timestamp>, StoreError> {
        self.in_progress_since(todo_id, observer)
    }
    fn activity(&self, session: &str) -> Result<Option<Activity>, StoreError> {
        self.session_activity(session)
    }
}

/// The collision on one todo at `now`, if there is one.
pub(crate) fn collision_of(
    store: &impl Lookup,
    mut todo: TodoWords,
    now: Timestamp,
    stale_after: Duration,
) -> Result<Option<Collision>, StoreError> {
    if todo.folded != Status::InProgress {
        return Ok(None);
    }
    // Cheap first: fewer than two sessions holding it, whatever their state.
    let mut holding: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for w in todo.words.iter().filter(|w| w.status == Status::InProgress) {
        if let Some(s) = w.session.as_deref() {
            let last = holding.entry(s).or_insert(w.observed_at);
            *last = (*last).max(w.observed_at);
        }
    }
    if holding.len() < 2 {
        return Ok(None);
    }
    let stale_ms = stale_after.as_millis() as i64;
    let mut active: BTreeMap<String, bool> = BTreeMap::new();
    for (session, last_word) in &holding {
        // A session of another device (known through git or the hub) may be
        // known here only by its words: its last word is its last activity.
        let activity = store.activity(session)?.unwrap_or(Activity {
            last_seen: Some(*last_word),
            ..Activity::default()
        });
        let state = collision::session_state(&activity, now, stale_ms);
        active.insert(session.to_string(), state == SessionState::Active);
    }
    if active.values().filter(|a| **a).count() < 2 {
        return Ok(None);
    }
    for w in &mut todo.words {
        let held = w.status == Status::InProgress
            && w.session.as_ref().is_some_and(|s| active[s.as_str()]);
        if held {
            w.since = store.since(&todo.todo_id, &w.observer)?;
        }
    }
    Ok(collision::collision(
        &todo.todo_id,
        &todo.project,
        &todo.content,
        todo.folded,
        &todo.words,
        |s| active.get(s).copied().unwrap_or(false),
    ))
}

impl Engine {
    /// The collisions at `now`, of one project or of all, ordered by project,
    /// then by when they began.
    pub fn collisions(
        &self,
        project: Option<&str>,
        now: Timestamp,
        stale_after: Duration,
    ) -> Result<Vec<Collision>, StoreError> {
        collisions_in(self.reader(), project, now, stale_after)
    }
}

/// The collisions of a store (see [`Engine::collisions`]); for readers that
/// have a store and no engine.
pub fn collisions_in(
    reader: Reader<'_>,
    project: Option<&str>,
    now: Timestamp,
    stale_after: Duration,
) -> Result<Vec<Collision>, StoreError> {
    let store = reader.store;
    let mut out = Vec::new();
    // Older than this, a session is not active (core's `session_state`).
    let active_since = Timestamp(now.millis() - stale_after.as_millis() as i64);
    for todo in store.contested_todos(project, active_since)? {
        out.extend(collision_of(store, todo, now, stale_after)?);
    }
    out.sort_by(|a, b| {
        (a.project.as_str(), a.since(), a.content.as_str()).cmp(&(
            b.project.as_str(),
            b.since(),
            b.content.as_str(),
        ))
    });
    Ok(out)
}

/// What a session's plan write is told (docs/COLLISIONS.md): the collisions its write
/// is in, each other session once. `new` is what the write appended. A todo
/// the session let go forgets its warnings, so taking it again warns again.
pub(crate) fn warn_writer(
    tx: &Tx<'_>,
    session: &str,
    new: &[NewWord],
    now: Timestamp,
    stale_after: Duration,
) -> Result<Vec<Collision>, StoreError> {
    let mut touched: Vec<&str> = new
        .iter()
        .filter(|w| w.session.as_deref() == Some(session))
        .map(|w| w.todo_id.as_str())
        .collect();
    touched.sort_unstable();
    touched.dedup();
    let mut told = Vec::new();
    for todo_id in touched {
        let collision = match tx.todo_words(todo_id)? {
            Some(todo) => collision_of(tx, todo, now, stale_after)?,
            None => None,
        };
        let Some(mut c) = collision.filter(|c| c.sessions.iter().any(|h| h.session == session))
        else {
            tx.forget_warnings(todo_id, session)?;
            continue;
        };
        let mut fresh = Vec::new();
        for h in &c.sessions {
            if h.session == session || tx.note_warning(todo_id, session, &h.session, now)? {
                fresh.push(h.clone());
            }
        }
        if fresh.len() > 1 {
            c.sessions = fresh;
            told.push(c);
        }
    }
    Ok(told)
}

/// The PostToolUse warning: one line per collision, naming the others.
pub(crate) fn render_warning(collisions: &[Collision], session: &str, now: Timestamp) -> String {
    let mut text = String::from(
        "chittysync: collision — another session has the same todo in progress. Check with the user (or pick other work) before going on:",
    );
    for c in collisions {
        let _ = write!(
            text,
            "\n- \"{}\" (project `{}`): {}",
            c.content,
            c.project,
            collision::describe_others(c, session, now)
        );
    }
    text
}

/// How many collisions a starting session is told of, at most.
const START_LINES: usize = 10;

/// The SessionStart lines: the project's collisions, the newest first, at
/// most [`START_LINES`] (then the command that lists them all).
pub(crate) fn render_for_start(
    collisions: &[Collision],
    project: &str,
    now: Timestamp,
) -> Option<String> {
    if collisions.is_empty() {
        return None;
    }
    let mut text = format!(
        "chittysync: {} todo{} of project `{project}` {} in progress in several sessions at once (collisions):",
        collisions.len(),
        if collisions.len() == 1 { "" } else { "s" },
        if collisions.len() == 1 { "is" } else { "are" },
    );
    let mut newest: Vec<&Collision> = collisions.iter().collect();
    newest.sort_by_key(|c| std::cmp::Reverse(c.since()));
    for c in newest.into_iter().take(START_LINES) {
        let sessions: Vec<String> = c
            .sessions
            .iter()
            .map(|h| h.describe("since", now))
            .collect();
        let _ = write!(
            text,
            "\n- \"{}\": sessions {}",
            c.content,
            sessions.join(", ")
        );
    }
    if collisions.len() > START_LINES {
        let _ = write!(
            text,
            "\n… and {} more: `chittysync collisions --project {project}`",
            collisions.len() - START_LINES
        );
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_core::Holder;

    fn collision(n: i64) -> Collision {
        let holder = |s: &str| Holder {
            session: s.to_string(),
            agent: "claude",
            device: "laptop".to_string(),
            since: Timestamp(n * 1000),
            last: Timestamp(n * 1000),
        };
        Collision {
            todo_id: format!("t{n}"),
            project: "api".into(),
            content: format!("Todo {n}"),
            sessions: vec![holder("aaaaaaaa-1"), holder("bbbbbbbb-2")],
        }
    }

    #[test]
    fn a_starting_session_is_told_the_newest_ten() {
        let list: Vec<Collision> = (0..12).map(collision).collect();
        let text = render_for_start(&list, "api", Timestamp(60_000)).unwrap();
        assert!(text.starts_with("chittysync: 12 todos of project `api` are in progress"));
        assert!(text.contains(
            "\n- \"Todo 11\": sessions aaaaaaaa (claude on laptop, since 49s ago), bbbbbbbb"
        ));
        assert!(!text.contains("\"Todo 1\""), "{text}");
        assert!(
            text.ends_with("… and 2 more: `chittysync collisions --project api`"),
            "{text}"
        );
        assert_eq!(render_for_start(&[], "api", Timestamp(0)), None);
        let warning = render_warning(&list[..1], "aaaaaaaa-1", Timestamp(60_000));
        assert!(warning.ends_with("- \"Todo 0\" (project `api`): session bbbbbbbb (claude on laptop, in progress since 1m ago)"), "{warning}");
    }
}
