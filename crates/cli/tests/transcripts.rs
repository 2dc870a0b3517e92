//! Transcripts as the record of every plan (docs/SOURCES.md, "Claude Code"): finished lists known as
//! finished, replaced lists kept, incremental reads, tasks.

mod common;

use common::{set_modified_secs, todo_list, todo_write_line, user_line, Sandbox};
use serde_json::{json, Value};

const S: &str = "5e55a0b1-0000-4000-8000-000000000001";
const CWD: &str = "/nonexistent/dev/webapp";

fn transcript_path() -> String {
    format!("projects/-nonexistent-dev-webapp/{S}.jsonl")
}

fn task_lines(session: &str, at: &str, tool: &str, input: Value) -> String {
    let line = json!({
        "type": "assistant", "cwd": CWD, "sessionId": session, "timestamp": at,
        "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": format!("toolu_{tool}_{at}"), "name": tool, "input": input}
        ]}
    });
    format!("{line}\n")
}

fn task_result_line(
    session: &str,
    at: &str,
    tool_use_id: &str,
    task_id: &str,
    subject: &str,
) -> String {
    let line = json!({
        "type": "user", "cwd": CWD, "sessionId": session, "timestamp": at,
        "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tool_use_id, "content": format!("Task #{task_id} created successfully: {subject}")}
        ]},
        "toolUseResult": {"task": {"id": task_id, "subject": subject}}
    });
    format!("{line}\n")
}

#[test]
fn finished_and_replaced_lists_are_known_from_the_transcript() {
    let sb = Sandbox::new();
    let mut t = user_line(S, CWD, "2026-11-20T09:00:00.000Z", "plan it");
    // First list: planned, worked, finished.
    t += &todo_write_line(
        S,
        CWD,
        "2026-11-20T09:00:01.000Z",
        &[
            ("Design schema", "in_progress"),
            ("Write migration", "pending"),
        ],
    );
    t += &todo_write_line(
        S,
        CWD,
        "2026-11-20T09:05:00.000Z",
        &[
            ("Design schema", "completed"),
            ("Write migration", "in_progress"),
        ],
    );
    t += &todo_write_line(
        S,
        CWD,
        "2026-11-20T09:09:00.000Z",
        &[
            ("Design schema", "completed"),
            ("Write migration", "completed"),
        ],
    );
    // Second list replaces it; one item is dropped unfinished, then it ends emptied too.
    t += &todo_write_line(
        S,
        CWD,
        "2026-11-20T10:00:00.000Z",
        &[("Add endpoint", "in_progress"), ("Maybe later", "pending")],
    );
    t += &todo_write_line(
        S,
        CWD,
        "2026-11-20T10:30:00.000Z",
        &[("Add endpoint", "completed")],
    );
    sb.write(&transcript_path(), t);
    sb.write(&format!("todos/{S}-agent-{S}.json"), "[]");
    sb.consolidate(&[]);

    for done in ["Design schema", "Write migration", "Add endpoint"] {
        assert_eq!(
            sb.status_of(done, &[]).as_deref(),
            Some("completed"),
            "{done}"
        );
    }
    assert_eq!(
        sb.status_of("Maybe later", &[]).as_deref(),
        Some("pending"),
        "a replaced list's todo keeps its last status"
    );
    let todos = sb.todos(&[]);
    let schema = todos
        .iter()
        .find(|t| t["content"] == "Design schema")
        .unwrap();
    assert_eq!(schema["project"], "webapp", "the cwd's last component");
    assert_eq!(schema["started_at"], "2026-11-20T09:00:01.000Z");
    assert_eq!(schema["completed_at"], "2026-11-20T09:05:00.000Z");

    let sessions = sb.json(&["sessions"]);
    assert_eq!(sessions[0]["cwd"], CWD);
    assert_eq!(sessions[0]["git_branch"], "main");
    assert_eq!(sessions[0]["project"], "webapp");
}

fn read_offset(sb: &Sandbox, rel: &str) -> u64 {
    let store = chittysync_store::Store::open(&sb.home().join("chittysync.db")).unwrap();
    store.file_index().unwrap()[&*sb.claude().join(rel).to_string_lossy()].read_offset
}

#[test]
fn appended_lines_are_read_alone_and_equal_a_full_rebuild() {
    let sb = Sandbox::new();
    let first = todo_write_line(
        S,
        CWD,
        "2026-11-20T09:00:01.000Z",
        &[("Step one", "in_progress"), ("Step two", "pending")],
    );
    sb.write(&transcript_path(), &first);
    sb.consolidate(&[]);
    assert_eq!(read_offset(&sb, &transcript_path()), first.len() as u64);

    let second = todo_write_line(
        S,
        CWD,
        "2026-11-20T09:02:00.000Z",
        &[("Step one", "completed"), ("Step two", "in_progress")],
    );
    sb.append(&transcript_path(), &second);
    let (summary, _) = sb.consolidate(&[]);
    assert_eq!(summary["files_changed"], 1);
    assert_eq!(summary["observations"], 2, "only the appended write is new");
    assert_eq!(
        read_offset(&sb, &transcript_path()),
        (first.len() + second.len()) as u64
    );
    let incremental = sb.todos(&[]);

    // A fresh home reading everything at once folds to the same list.
    let fresh = Sandbox::new();
    fresh.write(&transcript_path(), format!("{first}{second}"));
    fresh.consolidate(&["--full"]);
    assert_eq!(fresh.todos(&[]), incremental);
}

#[test]
fn a_partial_last_line_is_read_once_when_complete() {
    let sb = Sandbox::new();
    let line = todo_write_line(
        S,
        CWD,
        "2026-11-20T09:00:01.000Z",
        &[("Half written", "pending")],
    );
    let (head, tail) = line.split_at(line.len() / 2);
    sb.write(&transcript_path(), head);
    let (summary, stderr) = sb.consolidate(&[]);
    assert_eq!(summary["observations"], 0, "{stderr}");
    assert_eq!(read_offset(&sb, &transcript_path()), 0);
    assert!(
        !stderr.contains("invalid"),
        "a partial line is not corrupt: {stderr}"
    );

    sb.append(&transcript_path(), tail);
    let (summary, _) = sb.consolidate(&[]);
    assert_eq!(summary["observations"], 1);
    sb.consolidate(&[]);
    let history = sb.json(&["history", "Half written"]);
    assert_eq!(history[0]["observations"].as_array().unwrap().len(), 1);
}

#[test]
fn a_truncated_and_rewritten_transcript_is_read_again() {
    let sb = Sandbox::new();
    let mut long = String::new();
    for minute in 0..5 {
        long += &todo_write_line(
            S,
            CWD,
            &format!("2026-11-20T09:0{minute}:00.000Z"),
            &[("Old plan", "pending")],
        );
    }
    sb.write(&transcript_path(), &long);
    sb.consolidate(&[]);
    // Replaced by a shorter file with other content.
    let replaced = todo_write_line(
        S,
        CWD,
        "2026-11-21T09:00:00.000Z",
        &[("New plan", "in_progress")],
    );
    sb.write(&transcript_path(), &replaced);
    sb.consolidate(&[]);
    assert_eq!(
        sb.status_of("New plan", &[]).as_deref(),
        Some("in_progress")
    );
    assert_eq!(read_offset(&sb, &transcript_path()), replaced.len() as u64);
}

#[test]
fn corrupt_lines_are_named_and_the_rest_is_read() {
    let sb = Sandbox::new();
    let mut t = todo_write_line(S, CWD, "2026-11-20T09:00:00.000Z", &[("Before", "pending")]);
    t += "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"tool_use\",\"name\":\"TodoWrite\",\"input\":{\"todos\":[{\"content\":\"cut\n";
    t += &todo_write_line(S, CWD, "2026-11-20T09:01:00.000Z", &[("After", "pending")]);
    sb.write(&transcript_path(), t);
    let (_, stderr) = sb.consolidate(&[]);
    assert!(
        stderr.contains(&format!("{S}.jsonl:2:")),
        "names file and line: {stderr}"
    );
    assert_eq!(sb.status_of("Before", &[]).as_deref(), Some("pending"));
    assert_eq!(sb.status_of("After", &[]).as_deref(), Some("pending"));
}

#[test]
fn sub_agents_are_observers_of_their_own() {
    let sb = Sandbox::new();
    sb.write(
        &transcript_path(),
        user_line(S, CWD, "2026-11-20T09:00:00.000Z", "go"),
    );
    let mut line: Value = serde_json::from_str(&todo_write_line(
        S,
        CWD,
        "2026-11-20T09:03:00.000Z",
        &[("Agent task", "completed")],
    ))
    .unwrap();
    line["agentId"] = json!("a1b2c3d");
    line["isSidechain"] = json!(true);
    sb.write(
        &format!("projects/-nonexistent-dev-webapp/{S}/subagents/agent-a1b2c3d.jsonl"),
        format!("{line}\n"),
    );
    sb.consolidate(&[]);
    let history = sb.json(&["history", "Agent task"]);
    let step = &history[0]["observations"][0];
    assert_eq!(step["observer"], format!("{S}/a1b2c3d"));
    assert_eq!(step["sub_agent"], "a1b2c3d");
    assert_eq!(step["agent"], "claude");
    assert_eq!(step["source"], "transcript");
    assert_eq!(history[0]["todo"]["project"], "webapp");
}

#[test]
fn tasks_from_calls_and_files_including_deletion() {
    let sb = Sandbox::new();
    let mut t = task_lines(
        S,
        "2026-11-20T09:00:00.000Z",
        "TaskCreate",
        json!({"subject": "Build the CLI", "description": "d", "activeForm": "Building the CLI"}),
    );
    t += &task_result_line(
        S,
        "2026-11-20T09:00:01.000Z",
        "toolu_TaskCreate_2026-11-20T09:00:00.000Z",
        "1",
        "Build the CLI",
    );
    t += &task_lines(
        S,
        "2026-11-20T09:00:02.000Z",
        "TaskCreate",
        json!({"subject": "Drop this", "description": "d"}),
    );
    t += &task_result_line(
        S,
        "2026-11-20T09:00:03.000Z",
        "toolu_TaskCreate_2026-11-20T09:00:02.000Z",
        "2",
        "Drop this",
    );
    t += &task_lines(
        S,
        "2026-11-20T09:01:00.000Z",
        "TaskUpdate",
        json!({"taskId": "1", "status": "in_progress"}),
    );
    t += &task_lines(
        S,
        "2026-11-20T09:02:00.000Z",
        "TaskUpdate",
        json!({"taskId": "2", "status": "deleted"}),
    );
    sb.write(&transcript_path(), t);
    // Task 1's file is older than the update; task 2's file is gone (deleted).
    let file = sb.write(&format!("tasks/{S}/1.json"), r#"{"id":"1","subject":"Build the CLI","description":"d","activeForm":"Building the CLI","status":"pending","blocks":[],"blockedBy":[]}"#);
    set_modified_secs(&file, 1_763_629_200); // 2025-11-20
    sb.write(&format!("tasks/{S}/.lock"), "");
    sb.write(&format!("tasks/{S}/.highwatermark"), "2");
    sb.consolidate(&[]);

    assert_eq!(
        sb.status_of("Build the CLI", &[]).as_deref(),
        Some("in_progress")
    );
    assert_eq!(sb.status_of("Drop this", &[]), None, "deleted is hidden");
    assert_eq!(
        sb.status_of("Drop this", &["--status", "deleted"])
            .as_deref(),
        Some("deleted")
    );
    let history = sb.json(&["history", "Drop this"]);
    assert_eq!(
        history[0]["observations"].as_array().unwrap().len(),
        2,
        "history is kept"
    );
    let cli = sb
        .todos(&[])
        .into_iter()
        .find(|t| t["content"] == "Build the CLI")
        .unwrap();
    assert_eq!(cli["project"], "webapp");
}

#[test]
fn a_shared_task_list_without_known_sessions_is_its_own_project() {
    let sb = Sandbox::new();
    sb.write("tasks/release-train/3.json", r#"{"id":"3","subject":"Tag the release","status":"pending","blocks":[],"blockedBy":[],"owner":"agent-1"}"#);
    sb.consolidate(&[]);
    let todos = sb.todos(&[]);
    assert_eq!(todos[0]["content"], "Tag the release");
    assert_eq!(todos[0]["project"], "release-train");
}

#[test]
fn a_cwd_inside_a_git_work_tree_takes_the_work_tree_name() {
    let sb = Sandbox::new();
    let repo = sb.dir.path().join("checkouts/my-service");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("src/api")).unwrap();
    let cwd = repo.join("src/api");
    let cwd = cwd.to_str().unwrap();
    sb.write(
        &format!("projects/x/{S}.jsonl"),
        todo_write_line(
            S,
            cwd,
            "2026-11-20T09:00:00.000Z",
            &[("In the repo", "pending")],
        ),
    );
    sb.write(
        &format!("todos/{S}-agent-{S}.json"),
        todo_list(&[("In the repo", "pending")]),
    );
    sb.consolidate(&[]);
    let todos = sb.todos(&[]);
    assert_eq!(todos.len(), 1);
    assert_eq!(todos[0]["project"], "my-service");
}

#[test]
fn a_shared_task_list_is_learned_from_a_transcript() {
    let sb = Sandbox::new();
    sb.write(
        "tasks/release-train/1.json",
        r#"{"id":"1","subject":"Cut the branch","status":"completed","blocks":[],"blockedBy":[]}"#,
    );
    let notes = sb.write(
        "tasks/release-train/2.json",
        r#"{"id":"2","subject":"Write the notes","status":"pending","blocks":[],"blockedBy":[]}"#,
    );
    // The file was written before the session's update.
    set_modified_secs(&notes, 1_763_629_200);
    let mut t = task_lines(
        S,
        "2026-11-20T09:00:00.000Z",
        "TaskCreate",
        json!({"subject": "Cut the branch"}),
    );
    t += &task_result_line(
        S,
        "2026-11-20T09:00:01.000Z",
        "toolu_TaskCreate_2026-11-20T09:00:00.000Z",
        "1",
        "Cut the branch",
    );
    t += &task_lines(
        S,
        "2026-11-20T09:10:00.000Z",
        "TaskUpdate",
        json!({"taskId": "2", "status": "in_progress"}),
    );
    sb.write(&transcript_path(), t);
    let (_, stderr) = sb.consolidate(&[]);
    assert!(!stderr.contains("not known"), "{stderr}");
    let todos = sb.todos(&[]);
    assert_eq!(
        todos.len(),
        2,
        "one task each, not a copy per list: {todos:?}"
    );
    assert!(todos.iter().all(|t| t["project"] == "webapp"), "{todos:?}");
    assert_eq!(
        sb.status_of("Write the notes", &[]).as_deref(),
        Some("in_progress")
    );
    let sessions = sb.json(&["sessions"]);
    assert_eq!(sessions[0]["task_list"], "release-train");
}
