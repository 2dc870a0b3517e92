//! The picture does not depend on how the facts arrive (issue 11, "The fold"):
//! the order files are read in, whether they came in one run or several, how
//! the Claude Code folder was spelled, or whether a session later `cd`s.

mod common;

use common::{todo_list, todo_write_line, user_line, Sandbox};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const S: &str = "e76f9758-eabc-4d1e-9a57-000000000001";
const CWD: &str = "/nonexistent/work/hybrid_sim";

fn transcript() -> String {
    format!("projects/-nonexistent-work-hybrid-sim/{S}.jsonl")
}

fn task(id: u32, subject: &str, status: &str) -> String {
    json!({"id": id.to_string(), "subject": subject, "description": "",
           "activeForm": format!("Doing {subject}"), "status": status,
           "blocks": [], "blockedBy": []})
    .to_string()
}

/// Five tasks in the session's own list, `tasks/<session>/`.
fn write_task_list(sb: &Sandbox) {
    for (id, subject, status) in [
        (1, "Build the solver", "completed"),
        (2, "Wire the solver to the UI", "in_progress"),
        (3, "Write solver tests", "pending"),
        (4, "Profile the solver", "pending"),
        (5, "Document the solver", "pending"),
    ] {
        sb.write(&format!("tasks/{S}/{id}.json"), task(id, subject, status));
    }
}

/// What a user sees of the todos: everything but the times, in output order.
fn picture(sb: &Sandbox) -> Vec<Value> {
    sb.todos(&[])
        .into_iter()
        .map(|t| {
            json!({"content": t["content"], "status": t["status"],
                   "project": t["project"], "sessions": t["sessions"]})
        })
        .collect()
}

fn example_home() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/claude-home")
}

/// How many observations the store in `home` holds, as `status` says.
fn observation_count(home: &Path) -> u64 {
    let out = Sandbox::bare_command()
        .arg("--home")
        .arg(home)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    status["store"]["observations"]
        .as_u64()
        .unwrap_or_else(|| panic!("status --json has no store.observations: {status}"))
}

#[test]
fn a_session_task_list_whose_other_files_are_gone_is_that_sessions() {
    let sb = Sandbox::new();
    write_task_list(&sb);
    sb.consolidate(&[]);
    let todos = sb.todos(&[]);
    assert_eq!(todos.len(), 5, "{todos:?}");
    for t in &todos {
        assert_eq!(
            t["project"], "general",
            "not a project named by the UUID: {t}"
        );
        assert_eq!(t["sessions"], json!([S]));
    }
    assert_eq!(sb.todos(&["--session", S]).len(), 5);
}

#[test]
fn task_lists_belong_to_their_session_whatever_the_order_of_runs() {
    let mut t = user_line(S, CWD, "2026-11-20T09:00:00.000Z", "plan the solver");
    t += &todo_write_line(
        S,
        CWD,
        "2026-11-20T09:00:01.000Z",
        &[("Read the paper", "completed")],
    );

    // All facts in one run.
    let one = Sandbox::new();
    write_task_list(&one);
    one.write(&transcript(), &t);
    one.consolidate(&[]);
    assert_eq!(one.todos(&["--session", S]).len(), 6);

    // The task list first, its transcript in a later run.
    let two = Sandbox::new();
    write_task_list(&two);
    two.consolidate(&[]);
    two.write(&transcript(), &t);
    two.consolidate(&[]);

    let expected = picture(&one);
    assert!(expected.iter().all(|t| t["project"] == "hybrid_sim"));
    assert_eq!(picture(&two), expected);
    // Reading everything again finds nothing new in either.
    for sb in [&one, &two] {
        let (summary, _) = sb.consolidate(&["--full"]);
        assert_eq!(summary["observations"], 0, "{summary}");
        assert_eq!(picture(sb), expected);
    }
}

#[test]
fn an_observation_is_stored_once_however_its_file_is_read() {
    let example = example_home();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let run = |dir: &Path, claude: &Path, extra: &[&str]| -> Value {
        let out = Sandbox::bare_command()
            .current_dir(dir)
            .arg("--claude-dir")
            .arg(claude)
            .arg("--home")
            .arg(&home)
            .args(["consolidate", "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let cwd = std::env::current_dir().unwrap();
    let first = run(&cwd, &example, &[]);
    let stored = observation_count(&home);
    assert_eq!(first["observations"].as_u64().unwrap(), stored);

    let full = run(&cwd, &example, &["--full"]);
    assert_eq!(
        full["observations"], 0,
        "a full re-read stores copies: {full}"
    );

    // The same folder by a relative path is the same files.
    let parent = example.parent().unwrap();
    let relative = run(parent, Path::new("claude-home"), &[]);
    assert_eq!(relative["files_changed"], 0, "{relative}");
    assert_eq!(relative["observations"], 0, "{relative}");
    assert_eq!(observation_count(&home), stored);

    // Two runs at once on a fresh home store each observation once.
    let fresh = tmp.path().join("fresh");
    let spawn = || -> std::process::Child {
        Sandbox::bare_command()
            .arg("--claude-dir")
            .arg(&example)
            .arg("--home")
            .arg(&fresh)
            .args(["consolidate", "--json"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    assert_eq!(observation_count(&fresh), stored);
}

#[test]
fn a_session_that_changes_folder_stays_in_its_project() {
    let sb = Sandbox::new();
    let sub = format!("{CWD}/hybrid_vsim");
    let mut t = user_line(S, CWD, "2026-11-20T09:00:00.000Z", "start");
    t += &todo_write_line(
        S,
        CWD,
        "2026-11-20T09:00:01.000Z",
        &[("Plan the port", "in_progress")],
    );
    t += &user_line(S, &sub, "2026-11-20T09:10:00.000Z", "cd hybrid_vsim");
    t += &todo_write_line(
        S,
        &sub,
        "2026-11-20T09:10:01.000Z",
        &[("Plan the port", "completed"), ("Port the mesh", "pending")],
    );
    sb.write(&transcript(), &t);
    sb.write(
        &format!("todos/{S}-agent-{S}.json"),
        todo_list(&[("Plan the port", "completed"), ("Port the mesh", "pending")]),
    );
    sb.consolidate(&[]);
    let projects: Vec<Value> = sb.todos(&[]).iter().map(|t| t["project"].clone()).collect();
    assert_eq!(projects, vec![json!("hybrid_sim"), json!("hybrid_sim")]);

    // Read a piece at a time: the later piece holds only the sub-folder.
    sb.append(
        &transcript(),
        &todo_write_line(
            S,
            &sub,
            "2026-11-20T09:20:00.000Z",
            &[
                ("Port the mesh", "in_progress"),
                ("Test the mesh", "pending"),
            ],
        ),
    );
    sb.consolidate(&[]);
    for t in sb.todos(&[]) {
        assert_eq!(t["project"], "hybrid_sim", "{t}");
    }
    let session = sb.json(&["sessions"]);
    let session = &session.as_array().unwrap()[0];
    assert_eq!(session["cwd"], CWD, "{session}");
}
