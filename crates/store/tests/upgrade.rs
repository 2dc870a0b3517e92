//! A store written by an earlier schema is brought up to date in place, its
//! data kept and usable.

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_store::{LoggedObservation, Store, Via};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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

fn observation_by(content: &str, status: Status, t: i64, session: &str) -> Observation {
    Observation::new(
        "api",
        content.to_string(),
        None,
        status,
        session.to_string(),
        Some(session.to_string()),
        "laptop",
        Source::File,
        Timestamp(t),
    )
}

fn log_files(path: &Path) -> [PathBuf; 2] {
    let log = PathBuf::from(format!("{}.log", path.display()));
    let idx = PathBuf::from(format!("{}.log.idx", path.display()));
    [log, idx]
}

/// Every logged observation, whichever way it came, in `seq` order.
fn logged(store: &Store) -> Vec<LoggedObservation> {
    let mut all: Vec<LoggedObservation> = [Via::Local, Via::Git, Via::Hub]
        .into_iter()
        .flat_map(|via| store.observations_after(0, via, 1 << 20).unwrap())
        .collect();
    all.sort_by_key(|l| l.seq);
    all
}

/// The `observations` table and its index as migration 001 made them.
fn schema_1_observations() -> &'static str {
    let sql = include_str!("../migrations/001_initial.sql");
    let end = sql
        .find("-- Each observer's current word")
        .expect("001 makes `latest` next");
    &sql[..end]
}

/// Turns a store of today back into one of schema 8, the last that kept its
/// observations in SQLite: the `observations` table with every row at its
/// `seq` (moved by `gap` from the fourth on, as a store whose numbers are
/// not dense), `latest` without the columns 009 added, no `log_index`, no
/// log file and no log tail (010).
fn back_to_schema_8(path: &Path, gap: i64) {
    let store = Store::open(path).unwrap();
    let rows = logged(&store);
    drop(store);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "{}
        DROP TABLE log_tail;
        DROP TABLE log_index;
        ALTER TABLE latest DROP COLUMN status;
        ALTER TABLE latest DROP COLUMN session;
        DELETE FROM meta WHERE key LIKE 'log.%';
        PRAGMA user_version = 8;",
        schema_1_observations()
    ))
    .unwrap();
    let moved = |seq: i64| if seq > 3 { seq + gap } else { seq };
    for l in &rows {
        let o = &l.observation;
        conn.execute(
            "INSERT INTO observations (seq, id, todo_id, project, content, active_form, status,
                 observer, session, device, source, observed_at, via)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            rusqlite::params![
                moved(l.seq),
                o.id,
                o.todo_id,
                o.project,
                o.content,
                o.active_form,
                o.status.as_str(),
                o.observer,
                o.session,
                o.device,
                o.source.as_str(),
                o.observed_at.millis(),
                l.via
            ],
        )
        .unwrap();
    }
    conn.execute("UPDATE latest SET seq = seq + ?1 WHERE seq > 3", [gap])
        .unwrap();
    drop(conn);
    for file in log_files(path) {
        if let Err(e) = std::fs::remove_file(file) {
            assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        }
    }
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
    // to 9 holds, with fold rows that do not name their agents.
    back_to_schema_8(&path, 0);
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

/// A store of schema 8 — the observations in SQLite — moves them into the
/// log file as it opens (migration 009; issue 13): every observation at its
/// `seq` (the sync cursors name them), the same histories, the same fold,
/// the collision queries answered from `latest`, and a second copy of an
/// old observation still refused. A log file left by an upgrade killed
/// before its commit is cut, not trusted.
#[test]
fn a_store_of_schema_8_moves_its_observations_into_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chittysync.db");
    let mut store = Store::open(&path).unwrap();
    let facts = vec![
        observation_by("Ship it", Status::Pending, 1, "s1"),
        observation_by("Test it", Status::InProgress, 2, "s1"),
        observation_by("Test it", Status::InProgress, 3, "s2"),
        observation_by("Ship it", Status::InProgress, 4, "s1"),
        observation_by("Ship it", Status::Completed, 5, "s2"),
        observation_by("Write docs", Status::Pending, 6, "s2"),
    ];
    let tx = store.begin().unwrap();
    tx.ingest(&facts[..3], Via::Local).unwrap();
    tx.commit().unwrap();
    let tx = store.begin().unwrap();
    tx.ingest(&facts[3..5], Via::Hub).unwrap();
    tx.ingest(&facts[5..], Via::Git).unwrap();
    tx.commit().unwrap();
    let todos = store.folded_todos().unwrap();
    let contested = store.contested_todos(Some("api"), Timestamp(0)).unwrap();
    assert_eq!(
        contested.len(),
        1,
        "two sessions hold 'Test it' in progress"
    );
    drop(store);

    back_to_schema_8(&path, 10);
    // What an upgrade killed before its commit left: appends the store
    // never counted.
    let [log, _] = log_files(&path);
    std::fs::write(&log, b"CSOBSv1\n\x10\0\0\0half a record").unwrap();
    let seqs_before: Vec<i64> = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT seq FROM observations ORDER BY seq")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<rusqlite::Result<Vec<i64>>>().unwrap()
    };
    assert_eq!(seqs_before, vec![1, 2, 3, 14, 15, 16]);

    let mut store = Store::open(&path).unwrap();
    let after = logged(&store);
    assert_eq!(after.iter().map(|l| l.seq).collect::<Vec<_>>(), seqs_before);
    assert_eq!(
        after
            .iter()
            .map(|l| l.observation.clone())
            .collect::<Vec<_>>(),
        facts
    );
    assert_eq!(
        after.iter().map(|l| l.via.as_str()).collect::<Vec<_>>(),
        ["local", "local", "local", "hub", "hub", "git"]
    );
    assert_eq!(store.observation_count().unwrap(), 6);
    assert_eq!(store.observations_after(14, Via::Hub, 10).unwrap().len(), 1);
    assert_eq!(store.folded_todos().unwrap(), todos);
    let ship = &facts[0].todo_id;
    let history: Vec<i64> = store.history(ship).unwrap().iter().map(|l| l.seq).collect();
    assert_eq!(history, vec![1, 14, 15]);
    assert_eq!(
        store.contested_todos(Some("api"), Timestamp(0)).unwrap(),
        contested
    );
    assert_eq!(
        store.in_progress_since(&facts[1].todo_id, "s1").unwrap(),
        Some(Timestamp(2))
    );
    for file in log_files(&path) {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }

    // An old fact read again is stored once; a new one comes after them all.
    let tx = store.begin().unwrap();
    let late = observation_by("Write docs", Status::Completed, 7, "s2");
    let change = tx
        .ingest(&[facts[0].clone(), late.clone()], Via::Local)
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(change.new_observations, 1);
    let last = logged(&store).pop().unwrap();
    assert_eq!((last.seq, last.observation), (17, late));
    assert_eq!(store.observation_count().unwrap(), 7);
}

/// A store of schema 9 (its observations in the log file, no tail) gains
/// the log's tail (010) with its records where they were; the next small
/// write goes to the tail, after them.
#[test]
fn a_store_of_schema_9_gains_the_tail_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chittysync.db");
    let mut store = Store::open(&path).unwrap();
    let facts = [
        observation("Ship it", Status::Pending, 1),
        observation("Test it", Status::InProgress, 2),
        observation("Ship it", Status::Completed, 3),
    ];
    let tx = store.begin().unwrap();
    tx.ingest(&facts, Via::Local).unwrap();
    tx.settle_log().unwrap();
    tx.commit().unwrap();
    let todos = store.folded_todos().unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE log_tail; PRAGMA user_version = 9;")
        .unwrap();
    drop(conn);
    let [log, _] = log_files(&path);
    let log_before = std::fs::read(&log).unwrap();

    let mut store = Store::open(&path).unwrap();
    assert_eq!(
        logged(&store)
            .into_iter()
            .map(|l| (l.seq, l.observation))
            .collect::<Vec<_>>(),
        vec![
            (1, facts[0].clone()),
            (2, facts[1].clone()),
            (3, facts[2].clone())
        ]
    );
    assert_eq!(store.folded_todos().unwrap(), todos);
    let late = observation("Test it", Status::Completed, 4);
    let tx = store.begin().unwrap();
    tx.ingest(std::slice::from_ref(&late), Via::Local).unwrap();
    tx.commit().unwrap();
    assert_eq!(std::fs::read(&log).unwrap(), log_before);
    let last = logged(&store).pop().unwrap();
    assert_eq!((last.seq, last.observation), (4, late));
    assert_eq!(store.observation_count().unwrap(), 4);
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
