//! Two homes, one hub, all real: Claude Code files written in home A reach
//! home B's `todos.json` through a hub served on loopback, over SQLite and
//! over PostgreSQL; a hub killed mid-stream loses and repeats nothing; an
//! offline hub's backlog is pushed when it returns; the WebSocket wakes B.

mod common;

use chittysync_hubsync::{HubSyncError, HubSyncState, LiveHub};
use common::{free_addr, hub_counts, token, Home, TestDb, TestHub};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn two_homes_see_each_other(db: &TestDb) {
    let hub = TestHub::start_any(&db.url);
    let token = token(&db.url, "me");
    let mut a = Home::new("A", &hub.url, &token);
    let mut b = Home::new("B", &hub.url, &token);

    a.write_todos(
        "s-a1",
        &[("Write the parser", "in_progress"), ("Ship it", "pending")],
    );
    a.consolidate();
    let pushed = a.hub().sync_once(&mut a.engine).unwrap();
    assert_eq!(pushed.pushed, 2, "{pushed:?}");
    assert_eq!(pushed.duplicates, 0);

    let pulled = b.hub().sync_once(&mut b.engine).unwrap();
    assert_eq!(pulled.pulled, 2, "{pulled:?}");
    assert!(pulled.outputs_written);
    assert_eq!(
        b.status_of("Write the parser").as_deref(),
        Some("in_progress")
    );
    assert_eq!(b.status_of("Ship it").as_deref(), Some("pending"));

    // B's own session completes one; A learns it.
    b.write_todos("s-b1", &[("Ship it", "completed")]);
    b.consolidate();
    let report = b.hub().sync_once(&mut b.engine).unwrap();
    assert_eq!((report.pushed, report.pulled), (1, 0), "{report:?}");
    let report = a.hub().sync_once(&mut a.engine).unwrap();
    assert_eq!(report.pulled, 1, "{report:?}");
    assert_eq!(a.status_of("Ship it").as_deref(), Some("completed"));
    assert_eq!(a.todos_json(), b.todos_json(), "both homes fold alike");

    // Nothing new: nothing moves, both ways.
    let again = a.hub().sync_once(&mut a.engine).unwrap();
    assert_eq!((again.pushed, again.pulled, again.batches), (0, 0, 0));
    assert_eq!(hub_counts(&hub.url, &token), (3, 3));
    assert_eq!(a.observations(), 3);
    assert_eq!(b.observations(), 3);

    let state = HubSyncState::load(a.engine.reader(), &hub.url).unwrap();
    assert_eq!(state.backlog, 0);
    assert_eq!(state.pull_cursor, "3");
    assert!(state.last_sync.is_some());
}

#[test]
fn two_homes_sqlite() {
    two_homes_see_each_other(&TestDb::sqlite());
}

#[test]
fn two_homes_postgres() {
    two_homes_see_each_other(&TestDb::postgres());
}

#[test]
fn a_hub_killed_mid_stream_loses_and_repeats_nothing() {
    const N: usize = 12_000;
    let db = TestDb::sqlite();
    let hub = TestHub::start_any(&db.url);
    let addr = hub.addr;
    let url = hub.url.clone();
    let token = token(&db.url, "me");
    let mut a = Home::new("A", &url, &token);
    let mut b = Home::new("B", &url, &token);
    a.observe_many(N);
    assert_eq!(a.observations(), N as u64);

    // A pushes in small batches on a thread of its own, retrying until done.
    let pusher = std::thread::spawn(move || {
        let mut sync = a.hub().with_push_batch(100);
        let mut failures = 0;
        let mut pushed = 0;
        let mut duplicates = 0;
        let started = Instant::now();
        loop {
            match sync.sync_once(&mut a.engine) {
                Ok(report) => {
                    pushed += report.pushed;
                    duplicates += report.duplicates;
                    break;
                }
                Err(e) => {
                    assert!(e.is_transient(), "{e}");
                    failures += 1;
                    assert!(started.elapsed() < Duration::from_secs(120), "{e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        (a, pushed, duplicates, failures)
    });

    // Kill the hub once part of the stream is stored, restart it on the same port.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (stored, _) = hub_counts(&url, &token);
        if stored >= N / 4 {
            assert!(stored < N, "the kill must come mid-stream");
            break;
        }
        assert!(Instant::now() < deadline, "the push never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    hub.kill();
    std::thread::sleep(Duration::from_millis(300));
    let hub = TestHub::start(&db.url, addr);

    let (a, pushed, duplicates, failures) = pusher.join().unwrap();
    eprintln!(
        "after the kill: {failures} failed syncs, then {pushed} pushed, {duplicates} duplicates"
    );
    assert!(failures >= 1, "the push saw the hub go");
    // Everything stored once: the hub's count is its observations, all distinct.
    assert_eq!(hub_counts(&hub.url, &token), (N, N));
    // The last, successful sync resumed from the cursor: it sent only what
    // the hub had not acknowledged (a batch cut by the kill comes back as
    // duplicates if the hub had stored it before dying).
    assert!(
        pushed > 0 && (pushed + duplicates) < N as u64,
        "{pushed} + {duplicates}"
    );
    let state = HubSyncState::load(a.engine.reader(), &hub.url).unwrap();
    assert_eq!(state.backlog, 0);

    let report = b.hub().sync_once(&mut b.engine).unwrap();
    assert_eq!(report.pulled as usize, N);
    assert_eq!(
        b.observations() as usize,
        N,
        "B holds each observation once"
    );
    assert_eq!(a.todos_json(), b.todos_json());
    drop(a);
}

/// Homes A and B of one user, set up for a hub on `db` that is not served
/// yet: the address it will serve on (a free port) and its URL.
fn homes_before_their_hub(db: &TestDb) -> (SocketAddr, String, Home, Home) {
    let token = token(&db.url, "me");
    let addr = free_addr();
    let url = format!("http://{addr}");
    let a = Home::new("A", &url, &token);
    let b = Home::new("B", &url, &token);
    (addr, url, a, b)
}

#[test]
fn an_offline_hub_gets_the_backlog_when_it_returns() {
    let db = TestDb::sqlite();
    let (addr, url, mut a, mut b) = homes_before_their_hub(&db);

    a.write_todos(
        "s1",
        &[("Offline one", "pending"), ("Offline two", "completed")],
    );
    a.consolidate();
    let mut sync = a.hub();
    let error = sync.sync_once(&mut a.engine).unwrap_err();
    assert!(
        matches!(error, HubSyncError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(error.to_string().contains(&url), "{error}");
    let state = HubSyncState::load(a.engine.reader(), &url).unwrap();
    assert_eq!(state.backlog, 2);
    assert!(state.last_error.is_some());
    assert!(state.last_sync.is_none());
    // Work goes on offline.
    a.write_todos("s2", &[("Offline three", "in_progress")]);
    a.consolidate();
    assert_eq!(
        HubSyncState::load(a.engine.reader(), &url).unwrap().backlog,
        3
    );

    let hub = TestHub::start(&db.url, addr);
    let report = sync.sync_once(&mut a.engine).unwrap();
    assert_eq!(report.pushed, 3);
    assert_eq!(
        HubSyncState::load(a.engine.reader(), &url).unwrap().backlog,
        0
    );
    b.hub().sync_once(&mut b.engine).unwrap();
    assert_eq!(b.status_of("Offline three").as_deref(), Some("in_progress"));
    assert_eq!(b.todos_json().len(), 3);
    drop(hub);
}

#[test]
fn a_bad_token_is_a_typed_refusal() {
    let db = TestDb::sqlite();
    let hub = TestHub::start_any(&db.url);
    let _ = token(&db.url, "me");
    let mut a = Home::new("A", &hub.url, "cst_not_a_token");
    a.write_todos("s1", &[("Refused", "pending")]);
    a.consolidate();
    let error = a.hub().sync_once(&mut a.engine).unwrap_err();
    assert!(
        matches!(error, HubSyncError::Unauthorized { .. }),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert!(error.to_string().contains("hub token create"), "{error}");
    let state = HubSyncState::load(a.engine.reader(), &hub.url).unwrap();
    assert_eq!(state.backlog, 1, "nothing counted as pushed");
    assert!(a.hub().health(Duration::from_secs(2)).is_ok());
}

#[test]
fn the_websocket_wakes_the_other_home_and_retries_back_off() {
    let db = TestDb::sqlite();
    let (addr, _, mut a, mut b) = homes_before_their_hub(&db);

    // B follows a hub that is not there yet: its sync fails and a retry wake comes.
    let (tx, wakes) = mpsc::channel::<()>();
    let mut live = LiveHub::start(&b.config, &b.locations, move || {
        let _ = tx.send(());
    })
    .unwrap()
    .expect("configured");
    assert!(live.sync(&mut b.engine).is_err());
    wakes
        .recv_timeout(Duration::from_secs(5))
        .expect("a retry wake after the backoff");

    let hub = TestHub::start(&db.url, addr);
    // The subscription comes up (and wakes); a sync now succeeds.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let _ = wakes.recv_timeout(Duration::from_millis(500));
        if live.sync(&mut b.engine).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "B never reached the hub");
    }
    // Let the subscription settle, then drain stale wakes.
    std::thread::sleep(Duration::from_millis(300));
    while wakes.try_recv().is_ok() {}
    live.sync(&mut b.engine).unwrap();

    a.write_todos("s1", &[("Live todo", "in_progress")]);
    a.consolidate();
    a.hub().sync_once(&mut a.engine).unwrap();
    wakes
        .recv_timeout(Duration::from_secs(5))
        .expect("A's push wakes B");
    live.sync(&mut b.engine).unwrap();
    assert_eq!(b.status_of("Live todo").as_deref(), Some("in_progress"));

    // B's own pushes do not wake B.
    while wakes.try_recv().is_ok() {}
    b.write_todos("s2", &[("B's own", "pending")]);
    b.consolidate();
    live.sync(&mut b.engine).unwrap();
    assert!(wakes.recv_timeout(Duration::from_millis(500)).is_err());
    drop(live);
    drop(hub);
}

/// A local observation stamped a year ahead (a bad clock, a forged file) is
/// left out of the push — the hub would refuse the whole batch with 422 —
/// and does not hold back the observations after it.
#[test]
fn an_observation_stamped_far_ahead_is_skipped_not_a_block() {
    use chittysync_core::{Observation, Source, Status, Timestamp};
    let db = TestDb::sqlite();
    let hub = TestHub::start_any(&db.url);
    let token = token(&db.url, "me");
    let mut a = Home::new("A", &hub.url, &token);
    let year = 365 * 24 * 60 * 60 * 1000;
    let at = |content: &str, ms: i64| {
        Observation::new(
            "api",
            content.to_string(),
            None,
            Status::Pending,
            "s1".to_string(),
            Some("s1".to_string()),
            "A",
            Source::File,
            Timestamp(ms),
        )
    };
    let now = Timestamp::now().millis();
    chittysync_testkit::store_local(
        &mut a.engine,
        &[at("From next year", now + year), at("From today", now)],
    );
    let report = a.hub().sync_once(&mut a.engine).unwrap();
    assert_eq!((report.pushed, report.skipped_future), (1, 1));
    assert_eq!(hub_counts(&hub.url, &token).0, 1);
    // Nothing is retried: the next sync has nothing to push.
    let again = a.hub().sync_once(&mut a.engine).unwrap();
    assert_eq!((again.pushed, again.skipped_future), (0, 0));
}
