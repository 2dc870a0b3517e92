//! Plans of every agent (docs/SOURCES.md), through the real binary: the bundled
//! example home, one picture across agents, incremental reads, broken files.

mod common;

use common::{todo_write_line, user_line, Sandbox};
use serde_json::{json, Value};
use std::path::Path;

/// Copies a folder, symbolic links as links.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The example homes, copied: reading OpenCode's database may add its
/// `-wal` and `-shm` beside it, which must not happen in the repository.
fn example_home(sb: &Sandbox) -> std::path::PathBuf {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let root = sb.dir.path().join("examples");
    copy_tree(&examples.join("claude-home"), &root.join("claude-home"));
    copy_tree(&examples.join("agents-home"), &root.join("agents-home"));
    root.join("agents-home")
}

fn on_home(sb: &Sandbox, agents_home: &Path, args: &[&str]) -> std::process::Output {
    Sandbox::bare_command()
        .arg("--agents-home")
        .arg(agents_home)
        .arg("--home")
        .arg(sb.home())
        .args(args)
        .output()
        .unwrap()
}

fn json_on(sb: &Sandbox, agents_home: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = on_home(sb, agents_home, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_agents_example_folds_into_one_picture() {
    let sb = Sandbox::new();
    let home = example_home(&sb);
    let out = on_home(&sb, &home, &["consolidate", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["unique_todos"], 64, "{summary} {stderr}");
    assert_eq!(summary["projects"], 6);
    assert_eq!(summary["conflicts"], 24);
    assert_eq!(summary["sessions"], 40);
    // The broken file of each agent is named with its problem.
    for named in [
        "rollout-2026-11-16T11-20-45-01a1e416-8e4f-7c95-b6bc-b3c74db64d53.jsonl:11: update_plan call whose arguments are not valid JSON",
        "session-2026-11-18T09-30-6f444993.jsonl:5: corrupt line",
        "0dacbd74-d726-482e-b7a0-3e13348b6c89.jsonl:6: invalid JSON",
        "ses_3ffb5a049fffJPZ62MhVQfsyVE.json: invalid JSON",
    ] {
        assert!(stderr.contains(named), "missing warning {named}: {stderr}");
    }

    let todos = json_on(&sb, &home, &["todos"]);
    let todos = todos.as_array().unwrap();
    let shared: Vec<&Value> = todos
        .iter()
        .filter(|t| t["agents"].as_array().unwrap().len() > 1)
        .collect();
    assert_eq!(shared.len(), 18);
    let webhooks = todos
        .iter()
        .find(|t| {
            t["content"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("add a page on webhooks")
        })
        .expect("the docs-site todo three agents share");
    assert_eq!(webhooks["agents"], json!(["claude", "gemini", "opencode"]));
    assert_eq!(
        webhooks["project"], "docs-site",
        "a hashed Gemini folder is matched"
    );

    // Filters and views name the agents.
    for agent in ["claude", "codex", "gemini", "qwen", "opencode"] {
        let only = json_on(&sb, &home, &["todos", "--agent", agent]);
        let only = only.as_array().unwrap();
        assert!(!only.is_empty(), "{agent}");
        assert!(only
            .iter()
            .all(|t| t["agents"].as_array().unwrap().contains(&json!(agent))));
    }
    let sessions = json_on(&sb, &home, &["sessions"]);
    let mut agents: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["agent"].as_str().unwrap())
        .collect();
    agents.sort();
    agents.dedup();
    assert_eq!(agents, ["claude", "codex", "gemini", "opencode", "qwen"]);
    let history = json_on(&sb, &home, &["history", "Add a page on webhooks"]);
    let mut seen: Vec<&str> = history[0]["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["agent"].as_str().unwrap())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["claude", "gemini", "opencode"]);

    // Nothing changed: no file is opened again, nothing is stored twice.
    let again = json_on(&sb, &home, &["consolidate"]);
    assert_eq!(again["files_changed"], 0, "{again}");
    let full = json_on(&sb, &home, &["consolidate", "--full"]);
    assert_eq!(full["observations"], 0, "{full}");
}

const CODEX_SESSION: &str = "0199a213-81c0-7800-8aa1-bbab2a035a53";

fn rollout_path() -> String {
    format!("sessions/2026/11/20/rollout-2026-11-20T09-00-00-{CODEX_SESSION}.jsonl")
}

fn codex_line(at: &str, kind: &str, payload: Value) -> String {
    format!(
        "{}\n",
        json!({"timestamp": at, "type": kind, "payload": payload})
    )
}

fn update_plan(at: &str, steps: &[(&str, &str)]) -> String {
    let plan: Vec<Value> = steps
        .iter()
        .map(|(step, status)| json!({"step": step, "status": status}))
        .collect();
    codex_line(
        at,
        "response_item",
        json!({"type": "function_call", "name": "update_plan",
               "arguments": json!({"plan": plan}).to_string(), "call_id": format!("call_{at}")}),
    )
}

#[test]
fn the_same_todo_from_two_agents_is_one_todo_and_rollouts_are_read_incrementally() {
    let sb = Sandbox::new();
    let cwd = "/nonexistent/work/api";
    // A Claude Code session in the folder…
    let claude_session = "5e55a0b1-0000-4000-8000-000000000002";
    let mut t = user_line(claude_session, cwd, "2026-11-20T08:00:00.000Z", "plan");
    t += &todo_write_line(
        claude_session,
        cwd,
        "2026-11-20T08:00:01.000Z",
        &[("Add rate limiting", "in_progress")],
    );
    sb.write(
        &format!("projects/-nonexistent-work-api/{claude_session}.jsonl"),
        t,
    );
    // …and a Codex session in the same folder, planning the same todo.
    let codex = sb.dir.path().join(".codex");
    let rollout = codex.join(rollout_path());
    std::fs::create_dir_all(rollout.parent().unwrap()).unwrap();
    let mut r = codex_line(
        "2026-11-20T09:00:00.000Z",
        "session_meta",
        json!({"id": CODEX_SESSION, "timestamp": "2026-11-20T09:00:00.000Z", "cwd": cwd,
               "originator": "codex_cli_rs", "cli_version": "0.60.1"}),
    );
    r += &update_plan(
        "2026-11-20T09:00:05.000Z",
        &[
            ("add rate  limiting", "completed"),
            ("Write the docs", "pending"),
        ],
    );
    std::fs::write(&rollout, &r).unwrap();
    let (first, _) = sb.consolidate(&[]);
    assert_eq!(first["unique_todos"], 2, "{first}");
    let todos = sb.todos(&[]);
    let limiting = todos
        .iter()
        .find(|t| t["content"] == "Add rate limiting" || t["content"] == "add rate  limiting")
        .unwrap();
    assert_eq!(limiting["status"], "completed");
    assert_eq!(limiting["project"], "api");
    assert_eq!(limiting["agents"], json!(["claude", "codex"]));
    assert_eq!(
        limiting["sessions"],
        json!([claude_session, format!("codex:{CODEX_SESSION}")])
    );
    assert_eq!(sb.todos(&["--session", "0199a213"]).len(), 2);

    // An appended plan is read from where the last read stopped.
    let read_to = std::fs::metadata(&rollout).unwrap().len();
    let mut more = std::fs::OpenOptions::new()
        .append(true)
        .open(&rollout)
        .unwrap();
    std::io::Write::write_all(
        &mut more,
        update_plan(
            "2026-11-20T09:10:00.000Z",
            &[
                ("add rate limiting", "completed"),
                ("Write the docs", "completed"),
            ],
        )
        .as_bytes(),
    )
    .unwrap();
    drop(more);
    let (second, _) = sb.consolidate(&[]);
    assert_eq!(second["files_changed"], 1, "{second}");
    assert_eq!(second["observations"], 2, "only the new plan: {second}");
    assert_eq!(
        sb.status_of("Write the docs", &[]).as_deref(),
        Some("completed")
    );
    assert!(read_to > 0);
}

#[test]
fn broken_records_of_other_agents_are_named_and_never_fatal() {
    let sb = Sandbox::new();
    let root = sb.dir.path();
    // OpenCode's database is not SQLite at all; a Qwen todo file is cut short;
    // a Gemini chat is not JSON.
    let opencode = root.join(".local/share/opencode");
    std::fs::create_dir_all(&opencode).unwrap();
    std::fs::write(opencode.join("opencode.db"), "this is not a database\n").unwrap();
    let qwen = root.join(".qwen/todos");
    std::fs::create_dir_all(&qwen).unwrap();
    std::fs::write(
        qwen.join("0dacbd74-d726-482e-b7a0-3e13348b6c89.json"),
        r#"{"todos":[{"id":"1","content":"Cut sh"#,
    )
    .unwrap();
    let chats = root.join(".gemini/tmp/api/chats");
    std::fs::create_dir_all(&chats).unwrap();
    std::fs::write(
        chats.join("session-2026-11-20T09-00-aaaabbbb.json"),
        "{\"sessionId\":",
    )
    .unwrap();
    // And one good Qwen list, which is read.
    std::fs::write(
        qwen.join("60996ad3-557a-420d-8c19-231c3ce7a4d0.json"),
        json!({"todos": [{"id": "1", "content": "Still read", "status": "in_progress"}],
               "sessionId": "60996ad3-557a-420d-8c19-231c3ce7a4d0"})
        .to_string(),
    )
    .unwrap();
    let (summary, stderr) = sb.consolidate(&[]);
    // The database and the todo file are skipped; the chat is read with a warning.
    assert_eq!(summary["files_skipped"], 2, "{summary} {stderr}");
    assert!(
        stderr.contains("opencode/opencode.db: not an SQLite database"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("opencode.db: /"),
        "the file is named once: {stderr}"
    );
    assert!(
        stderr.contains("0dacbd74-d726-482e-b7a0-3e13348b6c89.json: invalid JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("session-2026-11-20T09-00-aaaabbbb.json"),
        "{stderr}"
    );
    assert_eq!(
        sb.status_of("Still read", &[]).as_deref(),
        Some("in_progress")
    );
    let todos = sb.todos(&["--agent", "qwen"]);
    assert_eq!(todos.len(), 1);
}

#[test]
fn an_agent_switched_off_is_not_read() {
    let sb = Sandbox::new();
    let qwen = sb.dir.path().join(".qwen/todos");
    std::fs::create_dir_all(&qwen).unwrap();
    std::fs::write(
        qwen.join("60996ad3-557a-420d-8c19-231c3ce7a4d0.json"),
        json!({"todos": [{"id": "1", "content": "Hidden", "status": "pending"}]}).to_string(),
    )
    .unwrap();
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        "[sources.qwen]\nenabled = false\n",
    )
    .unwrap();
    sb.consolidate(&[]);
    assert!(sb.todos(&[]).is_empty());
    // An unknown agent in config is an error naming the key.
    std::fs::write(
        sb.home().join("config.toml"),
        "[sources.copilot]\nenabled = true\n",
    )
    .unwrap();
    let out = sb.run(&["consolidate"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("copilot"), "{stderr}");
}
