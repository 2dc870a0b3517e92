//! A store written by an earlier schema is brought up to date in place, its
//! data kept and usable.

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_store::{Store, Via};

fn observation(content: &str, status: Status, t: i64) -> Observation {
    Observation::new(
        "api",
        content.to_string(),
        None,
        status,
        "s1".to_string(),
        Some("s1".to_string()),
        "laptop",
        Source::File,
        Timestamp(t),
    )
}

#[test]
fn a_store_of_the_first_schema_is_upgraded_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chittysync.db");
    let mut store = Store::open(&path).unwrap();
    let tx = store.begin().unwrap();
    tx.ingest(
        &[
            observation("Ship it", Status::Pending, 1),
            observation("Test it", Status::InProgress, 1),
        ],
        Via::Local,
    )
    .unwrap();
    tx.commit().unwrap();
    drop(store);

    // Back to the first schema: what a store written before migrations 2
    // to 7 holds, with fold rows that do not name their agents.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE spawns;
         DROP TABLE notify_events;
         DROP TABLE collision_warnings;
         ALTER TABLE sessions DROP COLUMN model;
         ALTER TABLE sessions DROP COLUMN planned;
         ALTER TABLE files DROP COLUMN cursor;
         UPDATE todos SET entry = json_remove(entry, '$.agents');
         DROP INDEX todos_generation;
         ALTER TABLE todos DROP COLUMN generation;
         DROP INDEX todos_open;
         CREATE INDEX todos_open ON todos (project, status, updated_at);
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);

    let mut store = Store::open(&path).unwrap();
    let contents: Vec<String> = store
        .folded_todos()
        .unwrap()
        .iter()
        .map(|t| t.entry().unwrap().content)
        .collect();
    assert_eq!(contents, vec!["Ship it", "Test it"]);
    // Migration 4 folds the log again: every row names its agents.
    for todo in store.folded_todos().unwrap() {
        assert_eq!(todo.entry().unwrap().agents, vec!["claude"]);
    }
    let (open, total) = store
        .open_todos_of_others("api", "someone-else", Timestamp(0), 10)
        .unwrap();
    assert_eq!((open.len(), total), (2, 2));

    let before = store.fold_generation().unwrap();
    let tx = store.begin().unwrap();
    tx.ingest(&[observation("Ship it", Status::Completed, 2)], Via::Local)
        .unwrap();
    tx.commit().unwrap();
    let changed: Vec<String> = store
        .todos_changed_since(before)
        .unwrap()
        .iter()
        .map(|t| t.entry().unwrap().content)
        .collect();
    assert_eq!(changed, vec!["Ship it"]);
}

/// Runs that open a new store at the same moment all get it, with one schema
/// (two `consolidate` at once on a fresh home; issue 11).
#[test]
fn many_processes_opening_a_new_store_at_once_all_succeed() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home").join("chittysync.db");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let opens: Vec<_> = (0..6)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&path).map(|_| ())
                })
            })
            .collect();
        for open in opens {
            let result = open.join().unwrap();
            assert!(result.is_ok(), "round {round}: {}", result.unwrap_err());
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.observation_count().unwrap(), 0);
    }
}
