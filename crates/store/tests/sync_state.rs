//! A store written before the one sync state (crates/store/src/sync_state.rs)
//! kept each backend's cursors and errors under keys of its own: they are
//! read into the `git` and `hub` records, until those are first written.

use chittysync_core::Timestamp;
use chittysync_store::sync_state::{SyncEvent, SyncState};
use chittysync_store::Store;

/// The meta values an earlier version of gitsync, hubsync and the daemon's
/// notifier wrote, as they wrote them.
const OLD_KEYS: &[(&str, &str)] = &[
    ("git.export_seq", "42"),
    (
        "git.imported_commit",
        "0123456789abcdef0123456789abcdef01234567",
    ),
    (
        "git.snapshot",
        "7 1111111111111111111111111111111111111111 2222222222222222222222222222222222222222",
    ),
    (
        "git.last_push",
        r#"{"at":"2026-11-30T10:00:00.000Z","detail":"0123456789abcdef0123456789abcdef01234567"}"#,
    ),
    (
        "git.last_error",
        r#"{"at":"2026-11-30T11:00:00.000Z","detail":"cannot reach the remote"}"#,
    ),
    (
        "git.last_restore",
        r#"{"at":"2026-11-29T09:00:00.000Z","detail":"logs/x/1.jsonl: 2 lines restored"}"#,
    ),
    (
        "notify.sync_failing.git",
        r#"{"since":"2026-11-30T10:30:00.000Z","error":"cannot reach the remote"}"#,
    ),
    ("hub.url", "http://Hub.example:7878/"),
    ("hub.push_seq", "40"),
    ("hub.pull_cursor", "17"),
    (
        "hub.last_sync",
        r#"{"at":"2026-11-30T12:00:00.000Z","pushed":3,"pulled":5}"#,
    ),
    // Older than the last sync: the hub answered since, so no failure runs.
    (
        "hub.last_error",
        r#"{"at":"2026-11-30T08:00:00.000Z","message":"the hub failed (503)"}"#,
    ),
];

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(serde_json::json!(rfc3339)).unwrap()
}

fn old_store(dir: &std::path::Path) -> Store {
    let mut store = Store::open(&dir.join("chittysync.db")).unwrap();
    let tx = store.begin().unwrap();
    for (key, value) in OLD_KEYS {
        tx.set_meta(key, value).unwrap();
    }
    tx.commit().unwrap();
    store
}

#[test]
fn the_old_git_keys_are_read_into_the_git_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_store(dir.path());
    let git = store.sync_state("git").unwrap();
    assert_eq!(git.push_cursor, 42);
    assert_eq!(
        git.pull_cursor.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(
        git.last_push,
        Some(SyncEvent {
            at: at("2026-11-30T10:00:00.000Z"),
            detail: "0123456789abcdef0123456789abcdef01234567".into()
        })
    );
    assert_eq!(
        git.last_error.as_ref().map(|e| e.detail.as_str()),
        Some("cannot reach the remote")
    );
    // The notifier's clock of the failures is the record's.
    assert_eq!(git.failing_since, Some(at("2026-11-30T10:30:00.000Z")));
    assert!(git.notes["snapshot"].starts_with("7 1111"));
    assert!(git.notes["last_restore"].contains("2 lines restored"));
    assert_eq!(git.target, None);
}

#[test]
fn the_old_hub_keys_are_read_into_the_hub_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_store(dir.path());
    let hub = store.sync_state("hub").unwrap();
    assert_eq!(hub.target.as_deref(), Some("http://hub.example:7878"));
    assert_eq!(hub.push_cursor, 40);
    assert_eq!(hub.pull_cursor.as_deref(), Some("17"));
    assert_eq!(
        hub.last_sync,
        Some(SyncEvent {
            at: at("2026-11-30T12:00:00.000Z"),
            detail: "3 pushed, 5 pulled".into()
        })
    );
    assert_eq!((hub.last_error, hub.failing_since), (None, None));
}

#[test]
fn a_hub_error_after_the_last_sync_is_a_failure_under_way() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = old_store(dir.path());
    let tx = store.begin().unwrap();
    tx.set_meta(
        "hub.last_error",
        r#"{"at":"2026-11-30T13:00:00.000Z","message":"cannot reach the hub"}"#,
    )
    .unwrap();
    tx.commit().unwrap();
    let hub = store.sync_state("hub").unwrap();
    assert_eq!(hub.last_error.unwrap().detail, "cannot reach the hub");
    assert_eq!(hub.failing_since, Some(at("2026-11-30T13:00:00.000Z")));
}

#[test]
fn once_written_the_record_is_what_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = old_store(dir.path());
    let tx = store.begin().unwrap();
    let mut git = tx.sync_state("git").unwrap();
    git.answered();
    git.push_cursor = 50;
    tx.set_sync_state("git", &git).unwrap();
    tx.commit().unwrap();
    let git = store.sync_state("git").unwrap();
    assert_eq!((git.push_cursor, git.last_error), (50, None));
    assert_eq!(
        git.pull_cursor.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    // The hub's record is its own, still read from its old keys.
    assert_eq!(store.sync_state("hub").unwrap().push_cursor, 40);
    // A store that never synced has empty records.
    let fresh = Store::open(&dir.path().join("new.db")).unwrap();
    assert_eq!(fresh.sync_state("git").unwrap(), SyncState::default());
}
