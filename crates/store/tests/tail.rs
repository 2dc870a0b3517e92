//! The log's tail (docs/ARCHITECTURE.md, "The store"): small writes stay in
//! SQLite until the tail is full, then move into the log file keeping their
//! numbers, and readers see every record whichever side it is on.

mod common;

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_store::{Store, Via};
use common::{history_ids, ingest};
use std::path::Path;

fn observation(n: usize, t: i64) -> Observation {
    Observation::new(
        "p",
        format!("Todo {}", n % 17),
        None,
        Status::ALL[n % 4],
        format!("s{}", n % 5),
        Some(format!("s{}", n % 5)),
        "dev",
        Source::File,
        Timestamp(t),
    )
}

fn seqs(store: &Store) -> Vec<i64> {
    store
        .observations_after(0, Via::Local, 1 << 20)
        .unwrap()
        .iter()
        .map(|l| l.seq)
        .collect()
}

/// Rows in the tail, and the bytes of records in the log file (past its
/// 8-byte magic).
fn sides(path: &Path) -> (i64, u64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let rows = conn
        .query_row("SELECT count(*) FROM log_tail", [], |r| r.get(0))
        .unwrap();
    let log = std::fs::metadata(format!("{}.log", path.display()))
        .map_or(0, |m| m.len().saturating_sub(8));
    (rows, log)
}

#[test]
fn small_writes_stay_in_the_tail_until_it_is_full_then_move_keeping_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    let all: Vec<Observation> = (0..600).map(|n| observation(n, n as i64)).collect();

    // A hook's write: the log file is not opened, let alone fsynced.
    ingest(&mut store, &all[..2]);
    assert_eq!(sides(&path), (2, 0));
    assert_eq!(seqs(&store), vec![1, 2]);

    // Writes of two, until the tail would pass its bound: the write that
    // would moves the tail into the file first, and goes on there.
    let mut most = 0;
    for pair in all[2..].chunks(2) {
        ingest(&mut store, pair);
        let (rows, _) = sides(&path);
        most = most.max(rows);
    }
    let (rows, log) = sides(&path);
    assert!(log > 0, "the tail never moved into the file");
    assert!(
        (200..=256).contains(&most),
        "the tail held up to {most} rows"
    );
    assert!(rows < most, "the tail was never emptied");
    assert_eq!(seqs(&store), (1..=600).collect::<Vec<i64>>());
    assert_eq!(store.observation_count().unwrap(), 600);

    // Everything read across both sides, as one store built at once holds it.
    let whole_dir = tempfile::tempdir().unwrap();
    let mut whole = Store::open(&whole_dir.path().join("s.db")).unwrap();
    ingest(&mut whole, &all);
    assert_eq!(store.folded_todos().unwrap(), whole.folded_todos().unwrap());
    let todo = &all[3].todo_id;
    let ids = |store: &Store| history_ids(store, todo);
    assert_eq!(ids(&store), ids(&whole));
    assert_eq!(store.observations_until(Timestamp(299)).unwrap().len(), 300);
    let after: Vec<i64> = store
        .observations_after(590, Via::Local, 100)
        .unwrap()
        .iter()
        .map(|l| l.seq)
        .collect();
    assert_eq!(after, (591..=600).collect::<Vec<i64>>());

    // The tail moved into the file by hand, then folded again from the log.
    let tx = store.begin().unwrap();
    tx.settle_log().unwrap();
    tx.refold_all().unwrap();
    tx.commit().unwrap();
    assert_eq!(sides(&path).0, 0);
    assert_eq!(seqs(&store), (1..=600).collect::<Vec<i64>>());
    assert_eq!(store.folded_todos().unwrap(), whole.folded_todos().unwrap());
}

/// A reader with its own connection sees every record while another
/// process's writes go to the tail and move it into the file: the file's
/// end and the tail are read in one statement, so no record is between
/// them.
#[test]
fn a_reader_sees_every_record_while_the_tail_moves_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut writer = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for n in 0..400 {
                let tx = writer.begin().unwrap();
                tx.ingest(&[observation(n, n as i64)], Via::Local).unwrap();
                if n % 7 == 0 {
                    tx.settle_log().unwrap();
                }
                tx.commit().unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut last = 0;
        let mut reads = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || reads == 0 {
            let seen = seqs(&reader);
            let n = seen.len() as i64;
            assert_eq!(seen, (1..=n).collect::<Vec<i64>>(), "a record was missed");
            assert!(n >= last);
            last = n;
            reads += 1;
            // Records looked up one by one, as a hook does: the rows this
            // reader saw in the tail earlier may be in the file by now.
            let todo = reads % 17;
            let history = reader
                .history(&observation(todo, 0).todo_id)
                .unwrap()
                .iter()
                .map(|l| (l.seq, l.observation.observed_at.0))
                .collect::<Vec<_>>();
            let expected = (0..history.len())
                .map(|k| {
                    let n = (todo + 17 * k) as i64;
                    (n + 1, n)
                })
                .collect::<Vec<_>>();
            assert_eq!(history, expected, "a record looked up by its number");
        }
    });
    assert_eq!(seqs(&reader), (1..=400).collect::<Vec<i64>>());
}

/// A tail row damaged behind the store's back (a body cut short, another
/// record's bytes) is refused with an error naming the table and the
/// record; the store still opens, and the other records are read.
#[test]
fn a_damaged_tail_row_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    let all: Vec<Observation> = (0..3).map(|n| observation(n, n as i64)).collect();
    ingest(&mut store, &all);
    assert_eq!(sides(&path), (3, 0));
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM log_tail WHERE seq = 2", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "UPDATE log_tail SET body = ?1 WHERE seq = 2",
        [&body[..body.len() / 2]],
    )
    .unwrap();
    // Record 3's bytes where record 1's should be.
    conn.execute(
        "UPDATE log_tail SET body = (SELECT body FROM log_tail WHERE seq = 3) WHERE seq = 1",
        [],
    )
    .unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    let cut = store.history(&all[1].todo_id).unwrap_err().to_string();
    assert!(
        cut.contains("log_tail") && cut.contains("record 2"),
        "the error names the table and the record: {cut}"
    );
    let swapped = store.history(&all[0].todo_id).unwrap_err().to_string();
    assert!(
        swapped.contains("log_tail")
            && swapped.contains("record 1")
            && swapped.contains("holds record 3"),
        "{swapped}"
    );
    assert_eq!(
        history_ids(&store, &all[2].todo_id),
        vec![all[2].id.clone()]
    );
}
