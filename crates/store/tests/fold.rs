//! The stored, incremental fold must equal a full fold of the same facts.

mod common;

use chittysync_core::{fold, Observation, Source, Status, Timestamp};
use chittysync_store::{Store, Via};
use common::{history_ids, ingest};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn observation(content: usize, observer: usize, status: Status, t: i64) -> Observation {
    observation_in("p", content, observer, status, t)
}

fn observation_in(
    project: &str,
    content: usize,
    observer: usize,
    status: Status,
    t: i64,
) -> Observation {
    Observation::new(
        project,
        format!("Todo {content}"),
        Some(format!("Doing {content} at {t}")),
        status,
        format!("s{observer}"),
        Some(format!("s{observer}")),
        "dev",
        Source::File,
        Timestamp(t),
    )
}

fn arb_observation() -> impl Strategy<Value = Observation> {
    (
        0usize..4,
        0usize..3,
        prop::sample::select(Status::ALL.to_vec()),
        0i64..6,
    )
        .prop_map(|(c, o, s, t)| observation(c, o, s, t))
}

/// Observations over two projects and more todos and observers.
fn arb_observation_in_projects() -> impl Strategy<Value = Observation> {
    (
        0usize..2,
        0usize..6,
        0usize..4,
        prop::sample::select(Status::ALL.to_vec()),
        0i64..8,
    )
        .prop_map(|(p, c, o, s, t)| observation_in(&format!("p{p}"), c, o, s, t))
}

fn stored_entries(store: &Store) -> Vec<(String, Option<String>)> {
    store
        .folded_todos()
        .unwrap()
        .into_iter()
        .map(|t| (t.entry_json, t.conflict_json))
        .collect()
}

fn core_entries(all: &[Observation]) -> Vec<(String, Option<String>)> {
    let mut resolved: Vec<_> = fold(all)
        .into_values()
        .filter_map(|s| s.resolve())
        .collect();
    resolved.sort_by_key(|r| (r.entry.sort_key(), r.entry.id.clone()));
    resolved
        .into_iter()
        .map(|r| {
            (
                serde_json::to_string(&r.entry).unwrap(),
                r.conflict.map(|c| serde_json::to_string(&c).unwrap()),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn incremental_equals_full(all in prop::collection::vec(arb_observation(), 1..40), cuts in prop::collection::vec(0usize..40, 0..5)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(all.len())).collect();
        cuts.push(0);
        cuts.push(all.len());
        cuts.sort_unstable();
        for pair in cuts.windows(2) {
            let tx = store.begin().unwrap();
            tx.ingest(&all[pair[0]..pair[1]], Via::Local).unwrap();
            tx.commit().unwrap();
        }
        // Ingesting everything again changes nothing.
        let tx = store.begin().unwrap();
        let again = tx.ingest(&all, Via::Local).unwrap();
        tx.commit().unwrap();
        prop_assert_eq!(again.new_observations, 0);

        let incremental = stored_entries(&store);
        prop_assert_eq!(&incremental, &core_entries(&all));

        let tx = store.begin().unwrap();
        tx.refold_all().unwrap();
        tx.commit().unwrap();
        prop_assert_eq!(stored_entries(&store), incremental);
    }
}

#[test]
fn history_is_oldest_first_and_as_of_folds_the_past() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let later = observation(1, 0, Status::Completed, 20);
    let earlier = observation(1, 0, Status::Pending, 10);
    let tx = store.begin().unwrap();
    let change = tx
        .ingest(&[later.clone(), earlier.clone()], Via::Local)
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(change.new_observations, 2);
    assert_eq!(change.changed_todos.len(), 1);

    let history = store.history(&later.todo_id).unwrap();
    let statuses: Vec<_> = history.iter().map(|h| h.observation.status).collect();
    assert_eq!(statuses, vec![Status::Pending, Status::Completed]);

    let past = store.observations_until(Timestamp(15)).unwrap();
    assert_eq!(past, vec![earlier]);
    let now = store.folded_todos().unwrap();
    assert_eq!(now[0].status, Status::Completed);
}

#[test]
fn a_second_process_sees_the_schema_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let mut store = Store::open(&path).unwrap();
        let tx = store.begin().unwrap();
        tx.ingest(&[observation(2, 1, Status::InProgress, 5)], Via::Local)
            .unwrap();
        tx.commit().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.observation_count().unwrap(), 1);
    assert_eq!(store.fold_generation().unwrap(), 1);
    assert!(Store::open_existing(&dir.path().join("absent.db"))
        .unwrap()
        .is_none());
}

#[test]
fn a_large_batch_over_a_stored_fold_equals_a_full_refold() {
    // Above the bulk threshold the states are loaded by one scan, not per todo.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let first: Vec<Observation> = (0..1500)
        .map(|c| observation(c, c % 3, Status::InProgress, 10))
        .collect();
    let second: Vec<Observation> = (0..1500)
        .map(|c| observation(c, (c + 1) % 3, Status::Completed, 20))
        .collect();
    for batch in [&first, &second] {
        let tx = store.begin().unwrap();
        tx.ingest(batch, Via::Local).unwrap();
        tx.commit().unwrap();
    }
    let incremental = stored_entries(&store);
    let mut all = first.clone();
    all.extend(second);
    assert_eq!(incremental, core_entries(&all));
    let entry: serde_json::Value = serde_json::from_str(&incremental[0].0).unwrap();
    assert_eq!(entry["status"], "completed");
    assert_eq!(entry["started_at"], "1970-01-01T00:00:00.010Z");
    assert_eq!(entry["completed_at"], "1970-01-01T00:00:00.020Z");
    assert_eq!(entry["sessions"].as_array().unwrap().len(), 2);
}

/// The indexes a store's schema holds, by name and definition.
fn indexes(path: &std::path::Path) -> Vec<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
}

#[test]
fn a_bulk_load_into_an_empty_store_equals_the_same_facts_in_small_batches() {
    // Above the bulk threshold, into an empty store, the indexes are built
    // after the rows: the log, the fold, the histories and the schema must
    // be those of batches too small for that (issue 13).
    let mut all: Vec<Observation> = (0..3000)
        .map(|i| {
            let status = Status::ALL[i % Status::ALL.len()];
            observation_in(
                &format!("p{}", i % 7),
                i % 900,
                i % 5,
                status,
                (i % 13) as i64,
            )
        })
        .collect();
    // The same observation twice in one batch is stored once.
    all.extend(all[..40].to_vec());
    let dir = tempfile::tempdir().unwrap();
    let (bulk_path, small_path) = (dir.path().join("bulk.db"), dir.path().join("small.db"));
    let mut bulk = Store::open(&bulk_path).unwrap();
    ingest(&mut bulk, &all);
    let mut small = Store::open(&small_path).unwrap();
    for batch in all.chunks(100) {
        ingest(&mut small, batch);
    }
    assert_eq!(stored_entries(&bulk), stored_entries(&small));
    assert_eq!(stored_entries(&bulk), core_entries(&all));
    assert_eq!(logged_ids(&bulk), logged_ids(&small));
    assert_eq!(bulk.observation_count().unwrap(), 3000);
    let todo = &all[17].todo_id;
    let ids = |store: &Store| history_ids(store, todo);
    assert_eq!(ids(&bulk), ids(&small));
    assert_eq!(
        bulk.fold_generation().unwrap() > 0,
        small.fold_generation().unwrap() > 0
    );
    drop((bulk, small));
    assert_eq!(indexes(&bulk_path), indexes(&small_path));
    assert!(indexes(&bulk_path).iter().any(|(n, _)| n == "todos_id"));

    // And the bulk-loaded store takes later changes like any other.
    let mut bulk = Store::open(&bulk_path).unwrap();
    let later = observation_in("p0", 0, 9, Status::Completed, 99);
    ingest(&mut bulk, std::slice::from_ref(&later));
    all.push(later);
    assert_eq!(stored_entries(&bulk), core_entries(&all));
}

fn in_project(project: &str, content: &str, status: Status, t: i64) -> Observation {
    Observation::new(
        project,
        content.to_string(),
        None,
        status,
        "s1".to_string(),
        Some("s1".to_string()),
        "dev",
        Source::File,
        Timestamp(t),
    )
}

/// Ingests, and moves whatever is in the log's tail into the log file.
fn ingest_into_file(store: &mut Store, observations: &[Observation]) {
    let tx = store.begin().unwrap();
    tx.ingest(observations, Via::Local).unwrap();
    tx.settle_log().unwrap();
    tx.commit().unwrap();
}

/// The contents of the todos changed after `generation`, in output order.
fn changed_since(store: &Store, generation: u64) -> Vec<String> {
    store
        .todos_changed_since(generation)
        .unwrap()
        .into_iter()
        .map(|t| format!("{} {}", t.project, t.entry().unwrap().content))
        .collect()
}

#[test]
fn the_todos_a_change_touched_are_named_by_generation() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap();
    ingest(
        &mut store,
        &[
            in_project("beta", "Two", Status::Pending, 1),
            in_project("alpha", "One", Status::Pending, 1),
            in_project("beta", "Three", Status::Pending, 1),
        ],
    );
    let before = store.fold_generation().unwrap();
    assert_eq!(
        changed_since(&store, 0),
        vec!["alpha One", "beta Three", "beta Two"]
    );

    let completed = in_project("beta", "Two", Status::Completed, 2);
    ingest(&mut store, std::slice::from_ref(&completed));
    assert_eq!(changed_since(&store, before), vec!["beta Two"]);

    let after = store.fold_generation().unwrap();
    assert_eq!(after, before + 1);
    ingest(&mut store, &[completed]);
    assert!(
        changed_since(&store, after).is_empty(),
        "an observation already held changes nothing"
    );

    let epoch = store.fold_epoch().unwrap();
    let tx = store.begin().unwrap();
    tx.refold_all().unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store.fold_epoch().unwrap(),
        epoch + 1,
        "a refold starts a new epoch"
    );
    assert_eq!(changed_since(&store, after).len(), 3);
}

// The log and the fold kept by the store do not depend on the order or the
// batches the observations came in (issue 13): whatever way a set of
// observations is stored — shuffled, cut into transactions, some twice, the
// store closed and opened again between them — the log holds that set once
// and the stored fold equals core's fold of it.

fn logged_ids(store: &Store) -> BTreeSet<String> {
    store
        .observations_after(0, Via::Local, 1 << 20)
        .unwrap()
        .into_iter()
        .map(|l| l.observation.id)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_order_and_batching_gives_the_same_log_and_fold(
        (all, shuffled) in prop::collection::vec(arb_observation_in_projects(), 1..60)
            .prop_flat_map(|all| (Just(all.clone()), Just(all).prop_shuffle())),
        cuts in prop::collection::vec(0usize..60, 0..6),
        repeat in prop::collection::vec(0usize..60, 0..8),
        reopen in any::<bool>(),
        abandon in any::<bool>(),
        settle in prop::collection::vec(any::<bool>(), 7),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&path).unwrap();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(shuffled.len())).collect();
        cuts.extend([0, shuffled.len()]);
        cuts.sort_unstable();
        for (i, pair) in cuts.windows(2).enumerate() {
            // Some batches move the log's tail into the log file; the
            // others leave their records in the tail.
            let settle = |tx: &chittysync_store::Tx<'_>| {
                if settle[i] {
                    tx.settle_log().unwrap();
                }
            };
            let mut batch = shuffled[pair[0]..pair[1]].to_vec();
            // Some observations come again (a file read twice, a sync echo).
            batch.extend(repeat.iter().filter_map(|&i| shuffled.get(i)).cloned());
            if abandon {
                // A run that appends to the log and dies before its commit
                // (its transaction dropped): its appends are never counted,
                // and the next writer cuts them.
                let tx = store.begin().unwrap();
                tx.ingest(&shuffled, Via::Hub).unwrap();
                settle(&tx);
                drop(tx);
            }
            let tx = store.begin().unwrap();
            tx.ingest(&batch, Via::Local).unwrap();
            settle(&tx);
            tx.commit().unwrap();
            if reopen {
                drop(store);
                store = Store::open(&path).unwrap();
            }
        }
        let ids: BTreeSet<String> = all.iter().map(|o| o.id.clone()).collect();
        prop_assert_eq!(logged_ids(&store), ids.clone());
        prop_assert_eq!(store.observation_count().unwrap(), ids.len() as u64);
        prop_assert_eq!(stored_entries(&store), core_entries(&all));

        // Each todo's history is its observations, each once.
        for todo in all.iter().map(|o| o.todo_id.as_str()).collect::<BTreeSet<_>>() {
            let history: BTreeSet<String> =
                store.history(todo).unwrap().into_iter().map(|l| l.observation.id).collect();
            let expected: BTreeSet<String> =
                all.iter().filter(|o| o.todo_id == todo).map(|o| o.id.clone()).collect();
            prop_assert_eq!(history, expected);
        }
        // The past, as `--as-of` folds it, is the fold of what was observed by then.
        let until = store.observations_until(Timestamp(3)).unwrap();
        let by_then: Vec<Observation> =
            all.iter().filter(|o| o.observed_at <= Timestamp(3)).cloned().collect();
        prop_assert_eq!(core_entries(&until), core_entries(&by_then));
        // Nothing came by the hub: the abandoned runs left nothing.
        prop_assert!(store.observations_after(0, Via::Hub, 1 << 20).unwrap().is_empty());
        // The log folded again from the start gives the same fold.
        let tx = store.begin().unwrap();
        tx.refold_all().unwrap();
        tx.commit().unwrap();
        prop_assert_eq!(stored_entries(&store), core_entries(&all));
    }
}

#[test]
fn kept_fold_counts_follow_the_fold() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    ingest(
        &mut store,
        &[
            in_project("api", "One", Status::Pending, 1),
            in_project("web", "Two", Status::Completed, 1),
        ],
    );
    let counted = store.keep_fold_counts().unwrap();
    assert_eq!(
        (counted.todos, counted.projects, counted.pending),
        (2, 2, 1)
    );
    assert_eq!(store.fold_counts().unwrap(), counted, "read back as kept");
    // A change of the fold is counted again, not read from what was kept.
    ingest(&mut store, &[in_project("api", "One", Status::Deleted, 2)]);
    let after = store.fold_counts().unwrap();
    assert_eq!((after.todos, after.projects, after.deleted), (1, 1, 1));
    assert_eq!(store.keep_fold_counts().unwrap(), after);
    assert_eq!(store.fold_counts().unwrap(), after);
}

/// The log's offsets file is a cache: lost or damaged, every read still
/// finds its record (by walking the log), and the next writer rebuilds it
/// (docs/ARCHITECTURE.md, "The store"). A log cut short under what the
/// store counts is refused by name, not read as less.
#[test]
fn the_log_survives_its_offsets_and_refuses_a_cut() {
    let all: Vec<Observation> = (0..40)
        .map(|i| observation(i % 7, i % 3, Status::ALL[i % 4], i as i64))
        .collect();
    let todos: BTreeSet<String> = all.iter().map(|o| o.todo_id.clone()).collect();
    let histories = |store: &Store| -> Vec<i64> {
        let mut seqs: Vec<i64> = todos
            .iter()
            .flat_map(|t| store.history(t).unwrap())
            .map(|l| l.seq)
            .collect();
        seqs.sort_unstable();
        seqs
    };
    let stored = || {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&path).unwrap();
        ingest_into_file(&mut store, &all[..20]);
        ingest_into_file(&mut store, &all[20..]);
        assert_eq!(histories(&store), (1..=40).collect::<Vec<i64>>());
        (dir, path)
    };

    for damage in [&b""[..], &[0xffu8; 100][..], &[0u8; 8 * 60][..]] {
        let (dir, path) = stored();
        let idx = dir.path().join("s.db.log.idx");
        std::fs::write(&idx, damage).unwrap();
        let mut store = Store::open(&path).unwrap();
        assert_eq!(histories(&store), (1..=40).collect::<Vec<i64>>());
        assert_eq!(
            store.observations_after(35, Via::Local, 10).unwrap().len(),
            5
        );
        let entries = stored_entries(&store);
        ingest_into_file(&mut store, &[observation(1, 9, Status::Completed, 99)]);
        assert_eq!(std::fs::metadata(&idx).unwrap().len(), 8 * 41);
        assert_eq!(
            store.observations_after(40, Via::Local, 10).unwrap()[0].seq,
            41
        );
        let tx = store.begin().unwrap();
        tx.refold_all().unwrap();
        drop(tx);
        assert_ne!(stored_entries(&store), entries);
    }

    // The log cut under the length the store counts: a clear error naming it.
    let (dir, path) = stored();
    let log = dir.path().join("s.db.log");
    let file = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len - 10).unwrap();
    let mut store = Store::open(&path).unwrap();
    let tx = store.begin().unwrap();
    tx.ingest(&[observation(2, 9, Status::Completed, 99)], Via::Local)
        .unwrap();
    let err = tx.settle_log().unwrap_err().to_string();
    assert!(err.contains("s.db.log"), "{err}");
    assert!(err.contains("40 observations"), "{err}");
}

/// The log is never written through a symbolic link put in its place: the
/// write is refused, naming the log, and the file the link points to is
/// left as it was (docs/ARCHITECTURE.md, "The store").
#[test]
fn a_link_in_place_of_the_log_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    ingest_into_file(&mut store, &[observation(1, 1, Status::Pending, 1)]);
    let log = dir.path().join("s.db.log");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::rename(&log, &elsewhere).unwrap();
    let before = std::fs::read(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &log).unwrap();
    let tx = store.begin().unwrap();
    tx.ingest(&[observation(2, 1, Status::Pending, 2)], Via::Local)
        .unwrap();
    let err = tx.settle_log().unwrap_err();
    // The cause (a link refused) is told once: in the message, not chained.
    let message = err.to_string();
    let prefix = format!(
        "cannot read or write the observation log {}: ",
        log.display()
    );
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.len() > prefix.len(), "{message}");
    assert!(std::error::Error::source(&err).is_none(), "{err:?}");
    drop(tx);
    assert_eq!(std::fs::read(&elsewhere).unwrap(), before);
}

/// Bytes this thread has read through system calls so far (`rchar` of
/// `/proc/thread-self/io`): a count of work, not of time.
fn bytes_read_by_this_thread() -> u64 {
    let io = std::fs::read_to_string("/proc/thread-self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .parse()
        .unwrap()
}

/// The offsets file is a cache (docs/ARCHITECTURE.md, "The store"): without
/// it — deleted, or a FIFO or a link in its place — a todo's history reads
/// the same, walking the log once rather than once a record, never waiting
/// on the FIFO; the next write into the file puts a regular offsets file
/// back in its place.
#[test]
fn a_history_without_its_offsets_file_walks_the_log_once() {
    const RECORDS: usize = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    let observations: Vec<Observation> = (0..RECORDS)
        .map(|i| observation(1, i, Status::Pending, i as i64))
        .collect();
    let todo = observations[0].todo_id.to_string();
    ingest_into_file(&mut store, &observations);
    let expected = store.history(&todo).unwrap();
    assert_eq!(expected.len(), RECORDS);
    drop(store);
    let log_bytes = std::fs::metadata(dir.path().join("s.db.log"))
        .unwrap()
        .len();
    // What the history reads with its offsets, in a fresh handle.
    let with_offsets = {
        let store = Store::open(&path).unwrap();
        let before = bytes_read_by_this_thread();
        store.history(&todo).unwrap();
        bytes_read_by_this_thread() - before
    };
    let offsets = dir.path().join("s.db.log.idx");
    for (written, case) in ["missing", "a FIFO", "a link to /dev/zero"]
        .into_iter()
        .enumerate()
    {
        std::fs::remove_file(&offsets).unwrap();
        match case {
            "a FIFO" => {
                let made = std::process::Command::new("mkfifo").arg(&offsets).status();
                assert!(made.unwrap().success(), "mkfifo");
            }
            "a link to /dev/zero" => std::os::unix::fs::symlink("/dev/zero", &offsets).unwrap(),
            _ => {}
        }
        let mut store = Store::open(&path).unwrap();
        let before = bytes_read_by_this_thread();
        let history = store.history(&todo).unwrap();
        let read = bytes_read_by_this_thread() - before;
        assert_eq!(history.len(), expected.len(), "{case}");
        for (got, want) in history.iter().zip(&expected) {
            assert_eq!(got.observation.id, want.observation.id, "{case}");
            assert_eq!(got.seq, want.seq, "{case}");
        }
        // One walk more than with the offsets; a walk a record would be
        // RECORDS / 2 times the log.
        assert!(
            read <= with_offsets + 2 * log_bytes,
            "{case}: {read} bytes read, {with_offsets} with the offsets, log {log_bytes}"
        );
        ingest_into_file(&mut store, &[observation(2, written, Status::Pending, 0)]);
        assert!(
            std::fs::symlink_metadata(&offsets).unwrap().is_file(),
            "{case}: the offsets file is a file again"
        );
        assert_eq!(
            std::fs::metadata(&offsets).unwrap().len(),
            8 * (RECORDS + written + 1) as u64,
            "{case}"
        );
    }
}

/// A log cut inside a record (by hand, by a disk that lied) is refused on
/// read naming the file, the record and where the file ends, not read as
/// less (docs/ARCHITECTURE.md, "What is durable when").
#[test]
fn a_log_cut_inside_a_record_is_refused_saying_where_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    let observations: Vec<Observation> = (0..400)
        .map(|i| observation(1, i, Status::Pending, i as i64))
        .collect();
    let todo = observations[0].todo_id.to_string();
    ingest_into_file(&mut store, &observations);
    drop(store);
    let log = dir.path().join("s.db.log");
    let full = std::fs::metadata(&log).unwrap().len();
    let cut = full - 10;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(cut)
        .unwrap();
    let store = Store::open(&path).unwrap();
    let err = store.history(&todo).unwrap_err().to_string();
    assert!(err.contains(&log.display().to_string()), "{err}");
    assert!(
        err.contains(&format!(
            "it would end at byte {full}, the file ends at byte {cut}"
        )),
        "{err}"
    );
}

/// An export reads the log a page at a time (`observations_after` with a
/// limit, as git and hub syncs page through it): each page reads on from
/// where the last ended and stops at its limit, so paging through the log
/// reads it about once — not the rest of the log after every page. Counted
/// in bytes this thread read, not in time.
#[test]
fn paging_through_the_log_reads_it_about_once() {
    const RECORDS: usize = 60_000;
    const PAGE: usize = 6_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    let observations: Vec<Observation> = (0..RECORDS)
        .map(|i| observation(i % 100, i / 100, Status::Pending, i as i64))
        .collect();
    ingest_into_file(&mut store, &observations);
    drop(store);
    let log_bytes = std::fs::metadata(dir.path().join("s.db.log"))
        .unwrap()
        .len();
    // With its offsets file, then without it: a page whose first record the
    // offsets cannot find starts from the log's start once, not every page.
    for case in ["with offsets", "without offsets"] {
        if case == "without offsets" {
            std::fs::remove_file(dir.path().join("s.db.log.idx")).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let before = bytes_read_by_this_thread();
        let (mut after, mut seen) = (0, 0);
        loop {
            let page = store.observations_after(after, Via::Local, PAGE).unwrap();
            seen += page.len();
            match page.last() {
                Some(last) if page.len() == PAGE => after = last.seq,
                _ => break,
            }
        }
        let read = bytes_read_by_this_thread() - before;
        assert_eq!(seen, RECORDS, "{case}");
        // The rest of the log after every page, or the log up to every
        // page, would be about (pages + 1) / 2 times it: 5.5 here.
        assert!(
            read < 3 * log_bytes,
            "{case}: {read} bytes read for a log of {log_bytes}"
        );
    }
}
