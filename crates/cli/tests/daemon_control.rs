//! `consolidate` asks a running daemon instead of scanning, and scans when
//! no daemon answers (issue 13; crates/daemon/src/control.rs). The real
//! binary, the real daemon.

mod common;
mod live;

use common::{todo_list, Sandbox};
use live::{output_has, wait_for, Daemon};
use std::os::unix::fs::PermissionsExt;

#[test]
fn consolidate_asks_the_running_daemon_and_scans_when_none_answers() {
    let sb = Sandbox::new();
    sb.write(
        "todos/s1-agent-s1.json",
        todo_list(&[("Asked of the daemon", "pending")]),
    );
    let (summary, _) = sb.consolidate(&[]);
    assert_eq!(summary["files_scanned"], 1, "no daemon: a scan");

    let mut daemon = Daemon::start(&sb);
    let socket = sb.home().join("daemon.sock");
    wait_for("the control socket", || socket.exists());
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the socket is its user's alone");

    sb.write(
        "todos/s2-agent-s2.json",
        todo_list(&[("Written while the daemon runs", "in_progress")]),
    );
    wait_for("the daemon took the write in", || {
        output_has(&sb, "Written while the daemon runs", "in_progress")
    });
    let (summary, _) = sb.consolidate(&[]);
    assert_eq!(
        summary["files_scanned"], 0,
        "answered by the daemon: no file stat'ed: {summary}"
    );
    assert_eq!(summary["unique_todos"], 2);
    assert_eq!(summary["sessions"], 2);
    let text = sb.ok(&["consolidate"]);
    assert!(text.contains("answered by the running daemon"), "{text}");
    assert!(text.contains("2 todos in"), "{text}");

    // `--full` reads everything again, daemon or not.
    let (summary, _) = sb.consolidate(&["--full"]);
    assert_eq!(summary["files_scanned"], 2);

    // Stopped, the daemon takes its socket away, and `consolidate` scans.
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait().success());
    assert!(!socket.exists());
    let (summary, _) = sb.consolidate(&[]);
    assert_eq!(summary["files_scanned"], 2);

    // A killed daemon leaves its socket: nobody answers it, `consolidate`
    // scans; the next daemon replaces it.
    let mut daemon = Daemon::start(&sb);
    daemon.signal(libc::SIGKILL);
    daemon.wait();
    assert!(socket.exists());
    let (summary, _) = sb.consolidate(&[]);
    assert_eq!(summary["files_scanned"], 2, "a dead socket: a scan");
    let _daemon = Daemon::start(&sb);
    wait_for("the next daemon's socket", || {
        let (summary, _) = sb.consolidate(&[]);
        summary["files_scanned"] == 0
    });
}
