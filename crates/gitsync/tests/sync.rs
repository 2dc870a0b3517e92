//! The git sync through the library, on real repositories.

mod common;

use chittysync_gitsync::{layout, Integration};
use common::{bare_remote, commit_count, logged_lines, Device};
use std::time::Instant;

#[test]
fn a_sync_with_nothing_new_makes_no_commit() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut a = Device::new(root.path(), "a", &remote);
    a.observe("api", 10);
    let first = a.sync.sync_once(&mut a.engine).unwrap();
    assert_eq!(first.exported, 10);
    assert!(first.commit.is_some() && first.pushed);
    let commits = commit_count(&remote, "main");

    let started = Instant::now();
    let again = a.sync.sync_once(&mut a.engine).unwrap();
    let elapsed = started.elapsed();
    assert!(again.commit.is_none(), "{again:?}");
    assert!(!again.pushed);
    assert_eq!(again.integration, Integration::UpToDate);
    assert_eq!(commit_count(&remote, "main"), commits);
    // Generous for a debug build on a loaded machine; the benchmark measures release.
    assert!(elapsed.as_millis() < 500, "{elapsed:?}");
}

#[test]
fn devices_see_each_other_and_agree_byte_for_byte() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut a = Device::new(root.path(), "laptop", &remote);
    let mut b = Device::new(root.path(), "desktop", &remote);
    a.observe("api", 5);
    b.observe("web", 7);
    // Set up apart, they still share the first commit: b fast-forwards.
    a.sync.sync_once(&mut a.engine).unwrap();
    let merged = b.sync.sync_once(&mut b.engine).unwrap();
    assert_eq!(merged.imported, 5);
    assert_eq!(merged.integration, Integration::FastForward);
    let caught_up = a.sync.sync_once(&mut a.engine).unwrap();
    assert_eq!(caught_up.imported, 7);
    assert!(
        caught_up.commit.is_none(),
        "the snapshot b committed is ours too"
    );

    assert_eq!(a.observations(), 12);
    assert_eq!(b.observations(), 12);
    for file in [layout::TODOS_FILE, layout::COORDINATION_FILE] {
        assert_eq!(a.repo_file(file), b.repo_file(file), "{file}");
    }
    // The home outputs were refolded with the other device's todos.
    let todos: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.locations.home.join("todos.json")).unwrap())
            .unwrap();
    assert_eq!(todos["todos"].as_array().unwrap().len(), 12);
    assert!(a
        .sync
        .repo_path()
        .join(layout::shard_path("desktop", 1))
        .is_file());
}

#[test]
fn an_unreachable_remote_queues_commits_until_it_returns() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut a = Device::new(root.path(), "a", &remote);
    a.observe("api", 3);
    a.sync.sync_once(&mut a.engine).unwrap();

    let away = root.path().join("moved-away.git");
    std::fs::rename(&remote, &away).unwrap();
    a.observe("api", 4);
    let offline = a.sync.sync_once(&mut a.engine).unwrap();
    assert!(offline.offline.is_some(), "{offline:?}");
    assert!(
        offline.commit.is_some(),
        "local work is committed all the same"
    );
    assert_eq!(offline.ahead, 1);
    // 10 s, with jitter: between half of it and all of it.
    let retry = offline.retry_in_ms.expect("a retry is scheduled");
    assert!((5_000..=10_000).contains(&retry), "{retry}");
    a.observe("web", 2);
    assert_eq!(a.sync.sync_once(&mut a.engine).unwrap().ahead, 2);
    let status = chittysync_gitsync::status(a.sync.settings(), Some(a.engine.reader()))
        .unwrap()
        .unwrap();
    assert_eq!(status.ahead, 2);
    assert!(status.last_error.is_some());

    std::fs::rename(&away, &remote).unwrap();
    let back = a.sync.sync_once(&mut a.engine).unwrap();
    assert!(back.pushed && back.offline.is_none(), "{back:?}");
    assert_eq!(back.ahead, 0);
    let status = chittysync_gitsync::status(a.sync.settings(), Some(a.engine.reader()))
        .unwrap()
        .unwrap();
    assert!(status.last_error.is_none() && status.last_push.is_some());

    // Everything reached the remote: a new device clones all nine.
    let mut c = Device::new(root.path(), "c", &remote);
    assert_eq!(c.sync.sync_once(&mut c.engine).unwrap().imported, 9);
}

#[test]
fn a_reinstalled_device_recovers_its_own_history() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut first = Device::new(root.path(), "laptop", &remote);
    first.observe("api", 6);
    first.sync.sync_once(&mut first.engine).unwrap();
    drop(first);
    std::fs::remove_dir_all(root.path().join("laptop")).unwrap();

    let mut again = Device::new(root.path(), "laptop", &remote);
    let report = again.sync.sync_once(&mut again.engine).unwrap();
    assert_eq!(report.imported, 6);
    assert_eq!(report.exported, 0, "imported lines are not written back");
}

#[test]
fn the_daemon_schedule_batches_commits() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut a = Device::new(root.path(), "a", &remote);
    let t0 = Instant::now();
    a.observe("api", 1);
    assert!(a
        .sync
        .commit_if_due(&mut a.engine, t0)
        .unwrap()
        .unwrap()
        .commit
        .is_some());
    a.observe("api", 1);
    // Within the commit interval (default 1 min): not due.
    let later = t0 + std::time::Duration::from_secs(30);
    assert!(a
        .sync
        .commit_if_due(&mut a.engine, later)
        .unwrap()
        .is_none());
    let due = t0 + std::time::Duration::from_secs(61);
    let report = a.sync.commit_if_due(&mut a.engine, due).unwrap().unwrap();
    assert_eq!(report.exported, 1);
    assert!(!report.pushed, "commits wait for the push interval");
    assert_eq!(report.ahead, 3, "the first commit and two batches");
    let pushed = a.sync.push_if_due(&mut a.engine, due).unwrap().unwrap();
    assert!(pushed.pushed);
    assert!(a.sync.push_if_due(&mut a.engine, due).unwrap().is_none());
}

#[test]
fn a_replaced_sync_repository_loses_and_repeats_nothing() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut a = Device::new(root.path(), "a", &remote);
    a.observe("api", 5);
    a.sync.sync_once(&mut a.engine).unwrap();
    // Three more are committed while the remote is away, then the
    // repository is thrown away before they were pushed.
    let away = root.path().join("away.git");
    std::fs::rename(&remote, &away).unwrap();
    a.observe("api", 3);
    assert_eq!(a.sync.sync_once(&mut a.engine).unwrap().ahead, 1);
    std::fs::remove_dir_all(a.sync.repo_path()).unwrap();
    std::fs::rename(&away, &remote).unwrap();

    a.reopen(&remote);
    let report = a.sync.sync_once(&mut a.engine).unwrap();
    assert_eq!(report.exported, 3, "{report:?}");
    assert!(report.pushed);
    assert_eq!(logged_lines(&remote, "main"), 8);
}

#[test]
fn a_new_store_on_an_existing_repository_repeats_nothing() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut a = Device::new(root.path(), "a", &remote);
    a.observe("api", 5);
    a.sync.sync_once(&mut a.engine).unwrap();
    let known = a
        .engine
        .reader()
        .observations_until(chittysync_core::Timestamp(i64::MAX))
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(a.locations.home.join(format!("chittysync.db{suffix}")));
    }
    a.reopen(&remote);
    // Consolidating the same files again gives the same observations.
    chittysync_testkit::store_local(&mut a.engine, &known);
    let report = a.sync.sync_once(&mut a.engine).unwrap();
    assert_eq!(report.exported, 0, "{report:?}");
    assert_eq!(logged_lines(&remote, "main"), 5);
}
