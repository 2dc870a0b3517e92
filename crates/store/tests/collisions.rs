//! The store's candidates for a collision (docs/COLLISIONS.md): todos in
//! progress that two sessions hold and that two sessions that may still be
//! active saw. Core decides the rest; the store must never leave out a todo
//! that could be a collision.

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_store::{SessionUpdate, Store, Via};

const MINUTE: i64 = 60_000;

fn word(project: &str, content: &str, session: &str, status: Status, t: i64) -> Observation {
    Observation::new(
        project,
        content.to_string(),
        None,
        status,
        session.to_string(),
        Some(session.to_string()),
        "dev",
        Source::Hook,
        Timestamp(t),
    )
}

fn seen(id: &str, last_seen: Option<i64>, started_at: Option<i64>) -> SessionUpdate {
    SessionUpdate {
        id: id.to_string(),
        device: "dev".to_string(),
        seen_from: last_seen.map(Timestamp),
        seen_to: last_seen.map(Timestamp),
        started_at: started_at.map(Timestamp),
        ..SessionUpdate::default()
    }
}

fn contested(store: &Store, project: Option<&str>, since: i64) -> Vec<String> {
    let mut contents: Vec<String> = store
        .contested_todos(project, Timestamp(since))
        .unwrap()
        .into_iter()
        .map(|t| t.content)
        .collect();
    contents.sort();
    contents
}

#[test]
fn only_todos_two_sessions_that_may_be_active_hold_are_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let now = 1_000 * MINUTE;
    let since = now - 30 * MINUTE;
    let tx = store.begin().unwrap();
    // a and b seen lately; c last seen long ago; s started lately and never
    // seen since; n known with no time at all; u not known here (another
    // device's session, judged by its words).
    tx.update_session(&seen("a", Some(now - MINUTE), None))
        .unwrap();
    tx.update_session(&seen("b", Some(since), None)).unwrap();
    tx.update_session(&seen("c", Some(since - 1), None))
        .unwrap();
    tx.update_session(&seen("n", None, None)).unwrap();
    tx.update_session(&SessionUpdate {
        started_at: Some(Timestamp(now - 2 * MINUTE)),
        ..seen("s", None, None)
    })
    .unwrap();
    let held =
        |content: &str, session: &str, t: i64| word("p", content, session, Status::InProgress, t);
    let words = [
        // Both active: a candidate, though their words are old.
        held("Both active", "a", since - 60 * MINUTE),
        held("Both active", "b", since - 50 * MINUTE),
        // One of them stale: not one.
        held("One stale", "a", now - MINUTE),
        held("One stale", "c", now - MINUTE),
        // Known without a time: stale.
        held("One timeless", "a", now - MINUTE),
        held("One timeless", "n", now - MINUTE),
        // Started lately, not seen since: may be active.
        held("One only started", "a", now - MINUTE),
        held("One only started", "s", now - MINUTE),
        // Not known here: may be active, whatever its words say.
        held("One unknown", "a", now - MINUTE),
        held("One unknown", "u", since - 90 * MINUTE),
        // Two active sessions saw it, only one holds it: not one.
        held("One holder", "a", now - MINUTE),
        word("p", "One holder", "b", Status::Pending, now - MINUTE),
        // Another project.
        word("q", "Elsewhere", "a", Status::InProgress, now - MINUTE),
        word("q", "Elsewhere", "b", Status::InProgress, now - MINUTE),
    ];
    tx.ingest(&words, Via::Local).unwrap();
    tx.commit().unwrap();

    assert_eq!(
        contested(&store, Some("p"), since),
        ["Both active", "One only started", "One unknown"]
    );
    assert_eq!(
        contested(&store, None, since),
        [
            "Both active",
            "Elsewhere",
            "One only started",
            "One unknown"
        ]
    );
    // A day earlier every known session may be active; `n` never is.
    assert_eq!(
        contested(&store, Some("p"), since - 24 * 60 * MINUTE),
        [
            "Both active",
            "One only started",
            "One stale",
            "One unknown"
        ]
    );
}
