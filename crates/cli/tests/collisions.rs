//! Collisions and notifications (docs/COLLISIONS.md): the real
//! binary fed real-shaped hook payloads, a real command for `[notify]
//! command`, a real HTTP receiver for the webhook, the real daemon.

mod common;
mod live;

use common::{
    hook_event as event, hook_todo_write as todo_write, json_lines as events_in, todo_list,
    todo_write_line, Sandbox,
};
use live::{hook, hooks_log, wait_for, write_by_rename, Daemon};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const BILLING: &str = "Migrate the billing tables";

fn work_tree(sandbox: &Sandbox, name: &str) -> String {
    let dir = sandbox.dir.path().join("work").join(name);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    dir.to_str().unwrap().to_string()
}

/// Runs a hook that must succeed; its `additionalContext`, if it printed one.
fn context_of(sandbox: &Sandbox, hook_event: &str, payload: &str) -> Option<String> {
    let out = hook(sandbox, hook_event, payload, &[]);
    assert_eq!(out.status.code(), Some(0));
    if out.stdout.is_empty() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("hook output is JSON");
    let expected = match hook_event {
        "post-tool-use" => "PostToolUse",
        _ => "SessionStart",
    };
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], expected, "{v}");
    Some(
        v["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

fn config(sandbox: &Sandbox, text: &str) {
    std::fs::write(
        sandbox.home().join("config.toml"),
        format!("device = \"laptop\"\n{text}"),
    )
    .unwrap();
}

#[test]
fn a_second_session_taking_a_todo_in_progress_is_warned_once() {
    let sandbox = Sandbox::new();
    config(&sandbox, "");
    let api = work_tree(&sandbox, "api");
    let web = work_tree(&sandbox, "web");
    let (a, b) = (
        "aaaaaaaa-1111-4000-8000-000000000001",
        "bbbbbbbb-2222-4000-8000-000000000002",
    );

    // A stale session of the project (its transcript's last line is from
    // 2020) has the todo in progress: it is nobody's work now.
    let stale = "cccccccc-3333-4000-8000-000000000003";
    sandbox.write(
        &format!("projects/-work-api/{stale}.jsonl"),
        todo_write_line(
            stale,
            &api,
            "2020-01-01T00:00:00.000Z",
            &[(BILLING, "in_progress")],
        ),
    );
    sandbox.consolidate(&[]);

    // The first session takes it: nobody else active holds it.
    assert_eq!(
        context_of(
            &sandbox,
            "post-tool-use",
            &todo_write(
                a,
                &api,
                &[(BILLING, "in_progress"), ("Write docs", "pending")]
            )
        ),
        None
    );
    // Another project's session with the same words: another todo.
    assert_eq!(
        context_of(
            &sandbox,
            "post-tool-use",
            &todo_write("web-session", &web, &[(BILLING, "in_progress")])
        ),
        None
    );
    // The second session of the project takes it: warned, naming the first.
    let warning = context_of(
        &sandbox,
        "post-tool-use",
        &todo_write(b, &api, &[(BILLING, "in_progress")]),
    )
    .expect("the second session is warned");
    assert!(warning.contains(BILLING), "{warning}");
    assert!(warning.contains("session aaaaaaaa"), "{warning}");
    assert!(warning.contains("claude on laptop"), "{warning}");
    assert!(warning.contains("s ago"), "{warning}");
    assert!(
        !warning.contains("cccccccc"),
        "the stale session is not named: {warning}"
    );
    assert!(!warning.contains("web-session"), "{warning}");

    // Once: writing its plan again says nothing more.
    assert_eq!(
        context_of(
            &sandbox,
            "post-tool-use",
            &todo_write(b, &api, &[(BILLING, "in_progress")])
        ),
        None
    );
    // The first session, writing next, learns of the second — once too.
    let to_a = context_of(
        &sandbox,
        "post-tool-use",
        &todo_write(
            a,
            &api,
            &[(BILLING, "in_progress"), ("Write docs", "in_progress")],
        ),
    )
    .expect("the first session is told at its next write");
    assert!(to_a.contains("session bbbbbbbb"), "{to_a}");
    assert!(!to_a.contains("Write docs"), "{to_a}");
    assert_eq!(
        context_of(
            &sandbox,
            "post-tool-use",
            &todo_write(a, &api, &[(BILLING, "in_progress")])
        ),
        None
    );

    // `collisions --json` lists it, with both sessions.
    let list = sandbox.json(&["collisions"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["content"], BILLING);
    assert_eq!(list[0]["project"], "api");
    let sessions: Vec<&str> = list[0]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session"].as_str().unwrap())
        .collect();
    assert_eq!(sessions, [a, b]);
    assert_eq!(list[0]["sessions"][0]["agent"], "claude");
    assert_eq!(list[0]["sessions"][0]["device"], "laptop");
    assert!(list[0]["sessions"][0]["since"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(sandbox.json(&["collisions", "--project", "web"]), json!([]));
    let table = sandbox.ok(&["collisions"]);
    assert!(
        table.contains(BILLING) && table.contains("aaaaaaaa"),
        "{table}"
    );
    assert_eq!(sandbox.json(&["status"])["collisions"], 1);

    // A session starting in the project is told of the collision.
    let start = context_of(
        &sandbox,
        "session-start",
        &event("dddddddd-new", &api, "SessionStart"),
    )
    .expect("context");
    assert!(start.contains("collisions"), "{start}");
    assert!(
        start.contains(&format!("\"{BILLING}\": sessions aaaaaaaa")),
        "{start}"
    );

    // The first session ends: no collision is left, and a session taking the
    // todo now is warned of the second only.
    assert_eq!(
        context_of(&sandbox, "session-end", &event(a, &api, "SessionEnd")),
        None
    );
    assert_eq!(sandbox.json(&["collisions"]), json!([]));
    let e = "eeeeeeee-5555-4000-8000-000000000005";
    let to_e = context_of(
        &sandbox,
        "post-tool-use",
        &todo_write(e, &api, &[(BILLING, "in_progress")]),
    )
    .expect("warned");
    assert!(
        to_e.contains("session bbbbbbbb") && !to_e.contains("aaaaaaaa"),
        "{to_e}"
    );

    // Letting it go and taking it again warns again.
    assert_eq!(
        context_of(
            &sandbox,
            "post-tool-use",
            &todo_write(e, &api, &[(BILLING, "pending")])
        ),
        None
    );
    assert!(context_of(
        &sandbox,
        "post-tool-use",
        &todo_write(e, &api, &[(BILLING, "in_progress")])
    )
    .is_some());
    assert_eq!(hooks_log(&sandbox), "");
}

#[test]
fn a_completed_todo_is_no_collision() {
    let sandbox = Sandbox::new();
    let api = work_tree(&sandbox, "api");
    context_of(
        &sandbox,
        "post-tool-use",
        &todo_write("s-one", &api, &[(BILLING, "completed")]),
    );
    assert_eq!(
        context_of(
            &sandbox,
            "post-tool-use",
            &todo_write("s-two", &api, &[(BILLING, "in_progress")])
        ),
        None
    );
    assert_eq!(sandbox.json(&["collisions"]), json!([]));
}

/// Lines written to `path` so far (one event a line).
#[test]
fn the_notify_command_gets_each_collision_once_under_a_burst_of_writes() {
    let sandbox = Sandbox::new();
    let events = sandbox.dir.path().join("events.jsonl");
    // A real command: `tee -a FILE` copies the event it reads on stdin.
    config(
        &sandbox,
        &format!(
            "[notify]\nenabled = true\ncommand = [\"tee\", \"-a\", {:?}]\n",
            events.to_str().unwrap()
        ),
    );
    let api = work_tree(&sandbox, "api");
    for round in 0..10 {
        for session in ["s-one", "s-two"] {
            let extra = format!("Step {round}");
            context_of(
                &sandbox,
                "post-tool-use",
                &todo_write(
                    session,
                    &api,
                    &[(BILLING, "in_progress"), (&extra, "pending")],
                ),
            );
        }
        sandbox.ok(&["notify"]);
    }
    let got = events_in(&events);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "collision");
    assert_eq!(got[0]["content"], BILLING);
    assert_eq!(got[0]["project"], "api");
    assert_eq!(got[0]["device"], "laptop");
    assert_eq!(got[0]["sessions"].as_array().unwrap().len(), 2);

    // A third session joining is a new event; the same collision still is not.
    context_of(
        &sandbox,
        "post-tool-use",
        &todo_write("s-three", &api, &[(BILLING, "in_progress")]),
    );
    sandbox.ok(&["notify"]);
    sandbox.ok(&["notify"]);
    let got = events_in(&events);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["sessions"].as_array().unwrap().len(), 3);
}

#[test]
fn the_daemon_sends_a_collision_once_to_the_command() {
    let sandbox = Sandbox::new();
    let events = sandbox.dir.path().join("events.jsonl");
    config(
        &sandbox,
        &format!(
            "[daemon]\ndebounce_ms = 20\n[notify]\nenabled = true\ncommand = [\"tee\", \"-a\", {:?}]\n",
            events.to_str().unwrap()
        ),
    );
    let _daemon = Daemon::start(&sandbox);
    // Two sessions' todo files, rewritten in a burst as Claude Code does.
    for round in 0..15 {
        for session in ["11111111-aaaa", "22222222-bbbb"] {
            let extra = format!("Step {round}");
            write_by_rename(
                &sandbox
                    .claude()
                    .join(format!("todos/{session}-agent-{session}.json")),
                &todo_list(&[(BILLING, "in_progress"), (&extra, "pending")]),
            );
        }
    }
    wait_for("the collision's event", || !events_in(&events).is_empty());
    // A second collision after the burst: once its event is in, the first
    // one would have been sent again already if it were to be.
    for session in ["11111111-aaaa", "22222222-bbbb"] {
        write_by_rename(
            &sandbox
                .claude()
                .join(format!("todos/{session}-agent-{session}.json")),
            &todo_list(&[(BILLING, "in_progress"), ("Rotate the keys", "in_progress")]),
        );
    }
    wait_for("the second collision's event", || {
        events_in(&events).len() >= 2
    });
    let got = events_in(&events);
    let contents: Vec<&str> = got.iter().map(|e| e["content"].as_str().unwrap()).collect();
    assert_eq!(contents, [BILLING, "Rotate the keys"], "{got:?}");
}

/// A tiny HTTP server: answers the first `failures` requests 500, then 200,
/// and keeps every request's body.
fn receiver(failures: usize) -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/chittysync", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            assert!(
                request_line.starts_with("POST /hooks/chittysync "),
                "{request_line}"
            );
            let mut length = 0;
            let mut json = false;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                json |= lower == "content-type: application/json";
            }
            assert!(json, "the event is sent as JSON");
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            served += 1;
            let status = if served <= failures {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            if served > failures {
                kept.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

/// Sessions s-one and s-two of the project `api` both take the billing
/// migration in progress: one collision.
fn two_sessions_take_billing(sandbox: &Sandbox) {
    let api = work_tree(sandbox, "api");
    for session in ["s-one", "s-two"] {
        context_of(
            sandbox,
            "post-tool-use",
            &todo_write(session, &api, &[(BILLING, "in_progress")]),
        );
    }
}

#[test]
fn a_webhook_receives_the_event_after_a_failed_try() {
    let sandbox = Sandbox::new();
    let (url, bodies) = receiver(1);
    config(
        &sandbox,
        &format!("[notify]\nenabled = true\nwebhook = {url:?}\n"),
    );
    two_sessions_take_billing(&sandbox);
    let report = sandbox.json(&["notify"]);
    assert_eq!(report["sent"], 1, "{report}");
    assert_eq!(report["failed"], json!([]), "{report}");
    let got = bodies.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "collision");
    assert_eq!(got[0]["content"], BILLING);

    // `notify --test` sends a sample, whether or not anything collides.
    let out = sandbox.ok(&["notify", "--test"]);
    assert!(out.contains("sent    webhook http://127.0.0.1"), "{out}");
    let got = bodies.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["event"], "test");
}

#[test]
fn a_webhook_that_keeps_failing_is_retried_later_not_lost() {
    let sandbox = Sandbox::new();
    // Nothing listens there once the listener is dropped.
    let port = common::free_port();
    config(
        &sandbox,
        &format!("[notify]\nenabled = true\nwebhook = \"http://127.0.0.1:{port}/x\"\n"),
    );
    two_sessions_take_billing(&sandbox);
    let report = sandbox.json(&["notify"]);
    assert_eq!(report["sent"], 0, "{report}");
    assert_eq!(report["failed"].as_array().unwrap().len(), 1, "{report}");
    // Not due again at once: the next try waits its backoff.
    let report = sandbox.json(&["notify"]);
    assert_eq!(report["failed"], json!([]), "{report}");
    assert_eq!(report["sent"], 0, "{report}");
}

#[test]
fn bad_notify_settings_are_clear_errors() {
    let sandbox = Sandbox::new();
    let cases = [
        (
            "[notify]\nenabled = true\ncommand = []\n",
            "`command` is empty",
        ),
        ("[notify]\nwebhook = \"http://example.org/x\"\n", "loopback"),
        ("[notify]\nwebhook = \"ntfy.sh/me\"\n", "https://"),
        ("[notify]\ncommand = \"notify-send\"\n", "command"),
        ("[notify]\nenabled = true\n", "has no channel"),
    ];
    for (text, expected) in cases {
        config(&sandbox, text);
        let out = sandbox.run(&["notify", "--test"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {stderr}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
    // A command that cannot be run, and one that fails, are named.
    config(&sandbox, "[notify]\ncommand = [\"/no/such/program\"]\n");
    let out = sandbox.run(&["notify", "--test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("FAILED  command /no/such/program: cannot run it"),
        "{stdout}"
    );
    config(&sandbox, "[notify]\ncommand = [\"false\"]\n");
    let out = sandbox.run(&["notify", "--test"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("it failed"));
    // Off: `notify` says how to turn it on.
    config(&sandbox, "[notify]\ncommand = [\"cat\"]\n");
    sandbox.consolidate(&[]);
    let out = sandbox.run(&["notify"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("enabled = true"));
}

/// The bundled example as a fresh clone has it (every todo file written
/// just now): a new session taking the todo that session 812a5802 of its
/// `billing` project has in progress is warned, and the two are listed.
#[test]
fn two_sessions_collide_on_the_bundled_example() {
    let sandbox = Sandbox::new();
    config(&sandbox, "");
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/claude-home/.");
    let copied = std::process::Command::new("cp")
        .arg("-R")
        .arg(&example)
        .arg(sandbox.claude())
        .status()
        .unwrap();
    assert!(copied.success());
    sandbox.consolidate(&[]);
    let warning = context_of(
        &sandbox,
        "post-tool-use",
        &todo_write(
            "7a7a7a7a-0000-4000-8000-000000000001",
            "/home/dev/work/billing",
            &[("Backfill missing invoice numbers", "in_progress")],
        ),
    )
    .expect("warned");
    assert!(
        warning.contains("session 812a5802 (claude on laptop"),
        "{warning}"
    );
    let list = sandbox.json(&["collisions", "--project", "billing"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["content"], "Backfill missing invoice numbers");
    let sessions: Vec<&str> = list[0]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["session"].as_str().unwrap()[..8])
        .collect();
    assert_eq!(sessions, ["812a5802", "7a7a7a7a"]);
}
