//! The real daemon on a temporary Claude folder: it sees writes, renames,
//! folders made after it started, deletions and bursts; one per home; stops
//! cleanly on SIGTERM; loses nothing to kill -9.

mod common;
mod live;

use common::{todo_list, todo_write_line, Sandbox};
use live::{heartbeat, output_has, output_todos, runs, wait_for, write_by_rename, Daemon};

#[test]
fn sees_writes_renames_new_folders_and_deletions() {
    let sandbox = Sandbox::new();
    // A fresh install: not even the Claude folder exists yet.
    std::fs::remove_dir_all(sandbox.claude()).unwrap();
    let _daemon = Daemon::start(&sandbox);

    let todos = sandbox.claude().join("todos");
    write_by_rename(
        &todos.join("s1-agent-s1.json"),
        &todo_list(&[("Write the parser", "in_progress")]),
    );
    wait_for("a todo written by rename into a new todos/", || {
        output_has(&sandbox, "Write the parser", "in_progress")
    });

    // A plain write in place.
    std::fs::write(
        todos.join("s1-agent-s1.json"),
        todo_list(&[("Write the parser", "completed")]),
    )
    .unwrap();
    wait_for("a todo rewritten in place", || {
        output_has(&sandbox, "Write the parser", "completed")
    });

    // tasks/<list>/ and projects/<folder>/ made after the start.
    sandbox.write(
        "tasks/team/1.json",
        r#"{"id":"1","subject":"Ship the release","status":"pending","blocks":[],"blockedBy":[]}"#,
    );
    wait_for("a task in a new list folder", || {
        output_has(&sandbox, "Ship the release", "pending")
    });
    sandbox.write(
        "projects/-work-api/s2.jsonl",
        todo_write_line(
            "s2",
            "/work/api",
            "2026-01-01T10:00:00.000Z",
            &[("Read the logs", "pending")],
        ),
    );
    wait_for("a transcript in a new project folder", || {
        output_has(&sandbox, "Read the logs", "pending")
    });
    sandbox.append(
        "projects/-work-api/s2.jsonl",
        &todo_write_line(
            "s2",
            "/work/api",
            "2026-01-01T10:05:00.000Z",
            &[("Read the logs", "completed")],
        ),
    );
    wait_for("a line appended to a transcript", || {
        output_has(&sandbox, "Read the logs", "completed")
    });

    // A deletion wakes the daemon and loses nothing.
    let before = runs(&sandbox);
    std::fs::remove_file(todos.join("s1-agent-s1.json")).unwrap();
    wait_for("a consolidation after a deletion", || {
        runs(&sandbox) > before
    });
    assert!(output_has(&sandbox, "Write the parser", "completed"));

    // The whole todos/ folder deleted and made again is watched anew.
    std::fs::remove_dir_all(&todos).unwrap();
    std::fs::create_dir_all(&todos).unwrap();
    write_by_rename(
        &todos.join("s3.json"),
        &todo_list(&[("Reborn folder", "pending")]),
    );
    wait_for("a todo in a folder made anew", || {
        output_has(&sandbox, "Reborn folder", "pending")
    });
    // The watcher library warns when a watched folder goes; the daemon
    // handles that, so its log does not carry the library's lines.
    let log = std::fs::read_to_string(sandbox.dir.path().join("daemon.err")).unwrap();
    assert!(!log.contains("notify::"), "{log}");
}

#[test]
fn a_claude_folder_given_by_a_relative_path_is_watched_and_read() {
    let sandbox = Sandbox::new();
    let mut command = Sandbox::bare_command();
    command
        .current_dir(sandbox.dir.path())
        .args(["--claude-dir", "claude", "--home", "home"]);
    let _daemon = Daemon::start_as(&sandbox, command);
    std::fs::write(
        sandbox.claude().join("todos/s1-agent-s1.json"),
        todo_list(&[("Found by a relative path", "pending")]),
    )
    .unwrap();
    wait_for(
        "a todo written under a relatively named Claude folder",
        || output_has(&sandbox, "Found by a relative path", "pending"),
    );
}

#[test]
fn a_burst_of_writes_is_consolidated_a_few_times_not_once_per_file() {
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.home().join("config.toml"),
        "[daemon]\ndebounce_ms = 300\n",
    )
    .unwrap();
    let _daemon = Daemon::start(&sandbox);
    let before = runs(&sandbox);
    let observations = || {
        heartbeat(&sandbox).unwrap()["counters"]["observations"]
            .as_u64()
            .unwrap()
    };
    let observed_before = observations();
    let files = 200;
    for i in 0..files {
        write_by_rename(
            &sandbox.claude().join(format!("todos/burst{i}.json")),
            &todo_list(&[(&format!("Burst item {i}"), "pending")]),
        );
    }
    wait_for("every file of the burst in todos.json", || {
        output_todos(&sandbox).len() == files
    });
    // The heartbeat is written just after the outputs.
    wait_for("the heartbeat to count the burst", || {
        observations() - observed_before == files as u64
    });
    let consolidations = runs(&sandbox) - before;
    assert!(
        (1..=files as u64 / 10).contains(&consolidations),
        "{files} writes took {consolidations} consolidations"
    );
}

#[test]
fn a_second_daemon_is_refused_naming_the_first() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox);
    let out = sandbox.run(&["daemon"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("pid {}", daemon.pid())),
        "the refusal does not name pid {}: {stderr}",
        daemon.pid()
    );
    // The refused one did not disturb the first.
    assert_eq!(heartbeat(&sandbox).unwrap()["pid"], daemon.pid());
}

#[test]
fn sigterm_stops_cleanly_and_releases_the_lock() {
    let sandbox = Sandbox::new();
    let mut daemon = Daemon::start(&sandbox);
    let status = sandbox.json(&["status"]);
    assert_eq!(status["daemon"]["alive"], true);
    assert_eq!(status["daemon"]["pid"], daemon.pid());

    daemon.signal(libc::SIGTERM);
    assert_eq!(daemon.wait().code(), Some(0));
    let beat = heartbeat(&sandbox).unwrap();
    assert!(!beat["stopped_at"].is_null(), "{beat}");
    let status = sandbox.json(&["status"]);
    assert_eq!(status["daemon"]["alive"], false);
    let text = sandbox.ok(&["status"]);
    assert!(text.contains("not running (stopped"), "{text}");

    // The lock is free: another daemon starts, and SIGINT stops it too.
    let mut again = Daemon::start(&sandbox);
    again.signal(libc::SIGINT);
    assert_eq!(again.wait().code(), Some(0));
}

#[test]
fn kill_9_loses_nothing_and_the_next_start_catches_up() {
    let sandbox = Sandbox::new();
    let mut daemon = Daemon::start(&sandbox);
    // Many files, and the kill while the daemon is busy with them.
    let files = 300;
    for i in 0..files {
        sandbox.write(
            &format!("todos/k{i}.json"),
            todo_list(&[(&format!("Killed item {i}"), "pending")]),
        );
    }
    daemon.signal(libc::SIGKILL);
    daemon.wait();
    // Written while no daemon runs.
    sandbox.write(
        "todos/late.json",
        todo_list(&[("Written while down", "in_progress")]),
    );
    let text = sandbox.ok(&["status"]);
    assert!(text.contains("ended without stopping"), "{text}");

    let _daemon = Daemon::start(&sandbox);
    wait_for("every file in todos.json after the restart", || {
        output_todos(&sandbox).len() == files + 1
    });
    assert!(output_has(&sandbox, "Written while down", "in_progress"));
}

#[test]
fn bad_files_are_warnings_in_the_log_not_a_crash() {
    let sandbox = Sandbox::new();
    let mut daemon = Daemon::start(&sandbox);
    sandbox.write("todos/broken.json", "[{\"content\": ");
    sandbox.write("todos/good.json", todo_list(&[("Still read", "pending")]));
    wait_for("the good file beside a broken one", || {
        output_has(&sandbox, "Still read", "pending")
    });
    let logs = sandbox.home().join("logs");
    let log = || -> String {
        std::fs::read_dir(&logs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("daemon")
            })
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    };
    wait_for("a warning naming the broken file in the log", || {
        log()
            .lines()
            .any(|l| l.contains("WARN") && l.contains("broken.json"))
    });
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "the daemon died"
    );
    assert_eq!(heartbeat(&sandbox).unwrap()["counters"]["errors"], 0);
}

#[test]
fn a_failed_consolidation_is_counted_and_shown_by_status_not_fatal() {
    let sandbox = Sandbox::new();
    // An output path the daemon cannot replace: a folder where todos.json goes.
    std::fs::create_dir_all(sandbox.home().join("todos.json/blocked")).unwrap();
    sandbox.write("todos/s1.json", todo_list(&[("Blocked output", "pending")]));
    let mut daemon = Daemon::start(&sandbox);
    let beat = heartbeat(&sandbox).unwrap();
    assert_eq!(beat["counters"]["errors"], 1, "{beat}");
    assert!(
        beat["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("todos.json"),
        "{beat}"
    );
    let out = sandbox.run(&["status"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the daemon's last error"), "{stderr}");
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "the daemon died"
    );

    // Once the home is fixed, the next change goes through.
    std::fs::remove_dir_all(sandbox.home().join("todos.json")).unwrap();
    sandbox.write("todos/s2.json", todo_list(&[("After the fix", "pending")]));
    wait_for("the outputs after the home was fixed", || {
        output_has(&sandbox, "After the fix", "pending")
            && output_has(&sandbox, "Blocked output", "pending")
    });
}

#[test]
fn sees_other_agents_folders_made_after_it_started() {
    let sandbox = Sandbox::new();
    let _daemon = Daemon::start(&sandbox);
    // Codex is installed while the daemon runs: its day folder is new.
    let day = sandbox.dir.path().join(".codex/sessions/2026/11/20");
    std::fs::create_dir_all(&day).unwrap();
    let session = "0199a213-81c0-7800-8aa1-bbab2a035a53";
    let line = |at: &str, kind: &str, payload: serde_json::Value| {
        format!(
            "{}\n",
            serde_json::json!({"timestamp": at, "type": kind, "payload": payload})
        )
    };
    let plan = |at: &str, status: &str| {
        let arguments =
            serde_json::json!({"plan": [{"step": "Port the codec", "status": status}]}).to_string();
        line(
            at,
            "response_item",
            serde_json::json!({"type": "function_call", "name": "update_plan",
                               "arguments": arguments, "call_id": at}),
        )
    };
    let rollout = day.join(format!("rollout-2026-11-20T09-00-00-{session}.jsonl"));
    let mut text = line(
        "2026-11-20T09:00:00.000Z",
        "session_meta",
        serde_json::json!({"id": session, "cwd": "/work/codec"}),
    );
    text += &plan("2026-11-20T09:00:01.000Z", "in_progress");
    write_by_rename(&rollout, &text);
    wait_for("a Codex plan in a folder made after the start", || {
        output_has(&sandbox, "Port the codec", "in_progress")
    });
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&rollout)
        .unwrap();
    std::io::Write::write_all(
        &mut file,
        plan("2026-11-20T09:05:00.000Z", "completed").as_bytes(),
    )
    .unwrap();
    wait_for("a plan appended to a Codex rollout", || {
        output_has(&sandbox, "Port the codec", "completed")
    });
}
