//! The home's lock and heartbeat, as `status` and a second daemon see them.

use chittysync_core::Timestamp;
use chittysync_daemon::{lock_path, DaemonError, DaemonLock, DaemonStatus, Heartbeat};

#[test]
fn one_lock_per_home_naming_its_holder_and_freed_on_drop() {
    let home = tempfile::tempdir().unwrap();
    assert!(!DaemonStatus::of(home.path()).unwrap().alive);

    let lock = DaemonLock::acquire(home.path()).unwrap();
    let pid = std::process::id();
    let text = std::fs::read_to_string(lock_path(home.path())).unwrap();
    assert_eq!(text.trim(), pid.to_string());

    match DaemonLock::acquire(home.path()) {
        Err(e @ DaemonError::AlreadyRunning { .. }) => {
            assert!(e.to_string().contains(&format!("pid {pid}")), "{e}");
        }
        other => panic!("a second lock was not refused: {other:?}"),
    }
    let status = DaemonStatus::of(home.path()).unwrap();
    assert!(status.alive);
    assert_eq!(status.pid, Some(pid));

    drop(lock);
    assert!(!DaemonStatus::of(home.path()).unwrap().alive);
    assert_eq!(std::fs::read_to_string(lock_path(home.path())).unwrap(), "");
    DaemonLock::acquire(home.path()).unwrap();
}

#[test]
fn heartbeat_round_trips_and_counts() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(Heartbeat::read(home.path()), None);
    let mut beat = Heartbeat::new(Timestamp(1_000));
    beat.record_error("disk full".into(), Timestamp(2_000));
    beat.write(home.path(), Timestamp(3_000)).unwrap();
    let read = Heartbeat::read(home.path()).unwrap();
    assert_eq!(read, beat);
    assert_eq!(read.updated_at, Timestamp(3_000));
    assert_eq!(read.counters.errors, 1);
    assert_eq!(read.last_error.unwrap().message, "disk full");
    let status = DaemonStatus::of(home.path()).unwrap();
    assert!(!status.alive);
    assert_eq!(status.pid, Some(std::process::id()));
}
