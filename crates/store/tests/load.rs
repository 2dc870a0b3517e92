//! A load into an empty store (a cold run) runs with a rollback journal when
//! no other connection has the store open, so that each page is written once
//! instead of into the WAL and again by its checkpoint; the store is in WAL
//! mode again after it (docs/ARCHITECTURE.md, "How a cold run is stored").

mod common;

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_store::{Store, Tx, Via};
use common::{history_ids, ingest};
use std::path::{Path, PathBuf};

fn observations(count: usize) -> Vec<Observation> {
    (0..count)
        .map(|n| {
            Observation::new(
                ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"][n % 900 % 7],
                format!("Todo number {} of a long plan", n % 900),
                None,
                Status::ALL[n % 4],
                format!("s{}", n % 40),
                Some(format!("s{}", n % 40)),
                "dev",
                Source::File,
                Timestamp(1_000 + n as i64),
            )
        })
        .collect()
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// The journal mode the database file records, read by a connection of its own.
fn journal_mode(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

/// Loads `all` as a cold run does, in two batches; leaves the transaction open.
fn load(tx: &Tx<'_>, all: &[Observation]) {
    let mut load = tx.begin_bulk_load().unwrap().expect("an empty store");
    let (first, last) = all.split_at(all.len() / 2);
    tx.bulk_add(&mut load, first, Via::Local).unwrap();
    tx.finish_bulk_load(load, last, Via::Local).unwrap();
}

/// A new store in a folder of its own, and the observations to load into it.
fn fresh_store() -> (tempfile::TempDir, PathBuf, Vec<Observation>, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    (dir, path, observations(6_000), store)
}

/// The store's fold equals the same observations folded a batch at a time
/// through the WAL, in a store of its own: what any load must end equal to.
fn assert_folded_as_incrementally(store: &Store, dir: &Path, all: &[Observation]) {
    let mut incremental = Store::open(&dir.join("incremental.db")).unwrap();
    for batch in all.chunks(500) {
        ingest(&mut incremental, batch);
    }
    assert_eq!(
        store.folded_todos().unwrap(),
        incremental.folded_todos().unwrap()
    );
}

#[test]
fn a_load_alone_writes_a_rollback_journal_not_the_wal_and_leaves_the_store_in_wal() {
    let (dir, path, all, mut store) = fresh_store();
    assert_eq!(journal_mode(&path), "wal");

    let tx = store.begin_load().unwrap();
    load(&tx, &all);
    // Written through a rollback journal: the WAL was checkpointed and
    // removed when the store left it.
    assert!(beside(&path, "-journal").exists());
    assert!(!beside(&path, "-wal").exists());
    tx.commit().unwrap();

    assert!(!beside(&path, "-journal").exists());
    assert_eq!(journal_mode(&path), "wal");
    assert_eq!(store.folded_todos().unwrap().len(), 900);
    assert_folded_as_incrementally(&store, dir.path(), &all);
    // The store goes on as any other: a later write goes through the WAL.
    ingest(&mut store, &observations(6_010)[6_000..]);
    assert!(beside(&path, "-wal").exists());
    drop(store);
    let reopened = Store::open(&path).unwrap();
    assert_eq!(
        reopened
            .observations_until(Timestamp(i64::MAX))
            .unwrap()
            .len(),
        6_010
    );
}

#[test]
fn with_another_connection_open_a_load_stays_in_wal() {
    let (dir, path, all, mut store) = fresh_store();
    // Another process's store, open (a daemon, a hook): leaving WAL would
    // take the database from under it, so the load does not.
    let other = Store::open(&path).unwrap();

    let tx = store.begin_load().unwrap();
    load(&tx, &all);
    assert!(!beside(&path, "-journal").exists());
    assert!(beside(&path, "-wal").exists());
    tx.commit().unwrap();

    assert_eq!(journal_mode(&path), "wal");
    assert_eq!(other.folded_todos().unwrap().len(), 900);
    assert_folded_as_incrementally(&store, dir.path(), &all);
}

#[test]
fn a_load_rolled_back_leaves_an_empty_store_that_opens_in_wal() {
    let (dir, path, all, mut store) = fresh_store();
    {
        let tx = store.begin_load().unwrap();
        load(&tx, &all);
        assert!(beside(&path, "-journal").exists());
        // Dropped without a commit, as an error mid-run drops it.
    }
    assert!(!beside(&path, "-journal").exists());
    assert_eq!(journal_mode(&path), "wal");
    assert!(store.folded_todos().unwrap().is_empty());
    drop(store);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(journal_mode(&path), "wal");
    assert!(store.folded_todos().unwrap().is_empty());
    assert!(store
        .observations_until(Timestamp(i64::MAX))
        .unwrap()
        .is_empty());
    // Still empty, so the next load may run alone again, and stores all.
    let tx = store.begin_load().unwrap();
    load(&tx, &all);
    tx.commit().unwrap();
    assert_folded_as_incrementally(&store, dir.path(), &all);
}

#[test]
fn a_load_into_a_store_that_holds_data_stays_in_wal() {
    let (dir, path, all, mut store) = fresh_store();
    ingest(&mut store, &all[..10]);

    let tx = store.begin_load().unwrap();
    assert!(tx.begin_bulk_load().unwrap().is_none());
    tx.ingest(&all[10..], Via::Local).unwrap();
    assert!(!beside(&path, "-journal").exists());
    tx.commit().unwrap();
    assert_eq!(journal_mode(&path), "wal");
    assert_folded_as_incrementally(&store, dir.path(), &all);
}

/// A load keeps the index of the log it writes at its end compactly, ids
/// of the usual form as numbers; ids of another form (not made by this
/// program) are kept as text, and every observation of either is found in
/// its todo's history afterwards, as after an incremental ingest.
#[test]
fn a_load_indexes_ids_of_any_form() {
    let (dir, _path, mut all, mut store) = fresh_store();
    for (n, obs) in all.iter_mut().enumerate().filter(|(n, _)| n % 97 == 0) {
        obs.id = format!("Legacy-{n}");
        if n % 2 == 0 {
            obs.todo_id = format!("legacy todo {}", n % 5);
        }
    }
    let tx = store.begin().unwrap();
    load(&tx, &all);
    tx.commit().unwrap();

    let mut incremental = Store::open(&dir.path().join("incremental.db")).unwrap();
    for batch in all.chunks(500) {
        ingest(&mut incremental, batch);
    }
    let mut todos: Vec<&str> = all.iter().map(|o| o.todo_id.as_str()).collect();
    todos.sort();
    todos.dedup();
    assert!(todos.iter().any(|t| t.starts_with("legacy")));
    for todo in todos {
        let ids = history_ids(&store, todo);
        let mut expected: Vec<String> = all
            .iter()
            .filter(|o| o.todo_id == todo)
            .map(|o| o.id.clone())
            .collect();
        expected.sort();
        expected.dedup();
        assert_eq!(ids, expected, "{todo}");
        assert_eq!(ids, history_ids(&incremental, todo), "{todo}");
    }
}
