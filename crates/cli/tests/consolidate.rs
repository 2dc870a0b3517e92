//! `consolidate` and the views, end to end through the real binary.

mod common;

use common::{set_modified_secs, todo_list, Sandbox};
use serde_json::Value;

const SUMMARY_FIELDS: [&str; 9] = [
    "files_scanned",
    "files_changed",
    "files_skipped",
    "observations",
    "unique_todos",
    "projects",
    "sessions",
    "conflicts",
    "elapsed_ms",
];

#[test]
fn summary_has_exactly_the_spec_fields_and_dedups_across_sessions() {
    let sb = Sandbox::new();
    sb.write(
        "todos/s1-agent-s1.json",
        todo_list(&[
            ("Write the parser", "completed"),
            ("Add tests", "in_progress"),
        ]),
    );
    // The same todo with other spacing and case, in the old shape, in another session.
    sb.write(
        "todos/s2-agent-s2.json",
        r#"[{"id":"1","content":"  add   TESTS ","status":"pending","priority":"high"}]"#,
    );
    let (summary, _) = sb.consolidate(&[]);
    let keys: Vec<&str> = summary
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = SUMMARY_FIELDS.to_vec();
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert_eq!(summary["files_scanned"], 2);
    assert_eq!(summary["files_changed"], 2);
    assert_eq!(summary["observations"], 3);
    assert_eq!(summary["unique_todos"], 2, "the two spellings are one todo");
    assert_eq!(summary["sessions"], 2);
    assert_eq!(summary["conflicts"], 1, "in_progress in s1, pending in s2");

    let todos = sb.todos(&[]);
    let add_tests = todos.iter().find(|t| t["content"] == "Add tests").unwrap();
    assert_eq!(add_tests["status"], "in_progress");
    assert_eq!(add_tests["sessions"], serde_json::json!(["s1", "s2"]));
    assert_eq!(add_tests["id"].as_str().unwrap().len(), 16);

    let conflicts = sb.output_file("conflicts.json");
    assert_eq!(conflicts["auto_resolved"], 1);
    let c = &conflicts["conflicts"][0];
    assert_eq!(c["resolution"], "in_progress");
    assert_eq!(c["rule"], "status-priority");
    assert_eq!(c["sides"].as_array().unwrap().len(), 2);
}

#[test]
fn a_second_run_reads_nothing_and_does_not_rewrite_outputs() {
    let sb = Sandbox::new();
    sb.write("todos/s1-agent-s1.json", todo_list(&[("One", "pending")]));
    sb.consolidate(&[]);
    let out = sb.home().join("todos.json");
    let before = std::fs::metadata(&out).unwrap().modified().unwrap();
    let text_before = std::fs::read_to_string(&out).unwrap();
    let (again, _) = sb.consolidate(&[]);
    assert_eq!(again["files_scanned"], 1);
    assert_eq!(again["files_changed"], 0);
    assert_eq!(again["observations"], 0);
    assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), before);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text_before);

    // --full rereads every file but finds nothing new.
    let (full, _) = sb.consolidate(&["--full"]);
    assert_eq!(full["files_changed"], 1);
    assert_eq!(full["observations"], 0);
}

#[test]
fn outputs_follow_the_spec_shapes_and_order() {
    let sb = Sandbox::new();
    sb.write(
        "todos/b-agent-b.json",
        todo_list(&[
            ("zeta", "pending"),
            ("Alpha", "completed"),
            ("beta", "in_progress"),
        ]),
    );
    sb.consolidate(&[]);
    let todos = sb.output_file("todos.json");
    assert_eq!(todos["version"], 1);
    assert!(todos["generated_at"].as_str().unwrap().ends_with('Z'));
    let contents: Vec<&str> = todos["todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, vec!["Alpha", "beta", "zeta"]);
    let first = &todos["todos"][0];
    for key in [
        "id",
        "content",
        "activeForm",
        "status",
        "project",
        "sessions",
        "first_seen",
        "started_at",
        "updated_at",
        "completed_at",
    ] {
        assert!(first.get(key).is_some(), "todos.json entry lacks {key}");
    }
    assert!(first["completed_at"].is_string());
    assert!(todos["todos"][2]["completed_at"].is_null());

    let coordination = sb.output_file("project-coordination.json");
    assert_eq!(coordination["version"], "1.0.0");
    let p = &coordination["projects"][0];
    assert_eq!(p["project_name"], "general");
    assert_eq!(p["session_count"], 1);
    assert_eq!(p["todo_count"], 3);
    assert_eq!(p["pending_todos"], 1);
    assert_eq!(p["active_todos"], 1);
    assert_eq!(p["completed_todos"], 1);
    assert_eq!(p["todos"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_files_are_named_counted_and_lose_nothing() {
    let sb = Sandbox::new();
    let good = todo_list(&[("Keep me", "in_progress"), ("Ship it", "pending")]);
    sb.write("todos/s1-agent-s1.json", &good);
    sb.consolidate(&[]);

    // Now the same file is truncated mid-write, plus every other kind of bad input.
    sb.write("todos/s1-agent-s1.json", &good[..good.len() / 2]);
    sb.write("todos/coordination.json", r#"{"agents": {}}"#);
    sb.write("todos/notes.md", "# not todos");
    sb.write(
        "todos/s3-agent-s3.json",
        r#"[{"content":"Fine","status":"pending"},{"content":"","status":"pending"},{"status":"pending"},{"content":42,"status":"pending"},"text",{"content":"Odd status","status":"done"}]"#,
    );
    sb.write("todos/s4-agent-s4.json", "");
    let huge = sb.claude().join("todos/s5-agent-s5.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();

    let (summary, stderr) = sb.consolidate(&[]);
    assert!(
        stderr.contains("s1-agent-s1.json: invalid JSON at line"),
        "{stderr}"
    );
    assert!(
        stderr.contains("coordination.json: not a list of todos"),
        "{stderr}"
    );
    assert!(
        stderr.contains("s3-agent-s3.json: 4 entries without a non-empty string `content` skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("s3-agent-s3.json: 1 unknown status read as `pending`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("s4-agent-s4.json: empty file (a write may be under way)"),
        "{stderr}"
    );
    assert!(stderr.contains("s5-agent-s5.json: refused: the file is 104857600 bytes, above the limit of 16777216 bytes (`max_file_bytes` under `[limits]` in config.toml)"), "{stderr}");
    assert!(
        stderr.contains("notes.md: invalid JSON"),
        "other tools' files are named: {stderr}"
    );
    assert_eq!(
        summary["files_skipped"], 5,
        "truncated, object, markdown, empty, huge"
    );

    // Nothing known before is lost.
    assert_eq!(sb.status_of("Keep me", &[]).as_deref(), Some("in_progress"));
    assert_eq!(sb.status_of("Fine", &[]).as_deref(), Some("pending"));
    assert_eq!(sb.status_of("Odd status", &[]).as_deref(), Some("pending"));

    // A file fixed later is read again.
    sb.write(
        "todos/s1-agent-s1.json",
        todo_list(&[("Keep me", "completed"), ("Ship it", "pending")]),
    );
    let (summary, _) = sb.consolidate(&[]);
    assert!(summary["files_changed"].as_u64().unwrap() >= 1);
    assert_eq!(sb.status_of("Keep me", &[]).as_deref(), Some("completed"));
}

#[test]
fn a_size_limit_from_config_is_honoured() {
    let sb = Sandbox::new();
    std::fs::write(
        sb.home().join("config.toml"),
        "[limits]\nmax_file_bytes = 64\n",
    )
    .unwrap();
    sb.write(
        "todos/s1-agent-s1.json",
        todo_list(&[("A todo long enough to pass sixty-four bytes", "pending")]),
    );
    let (summary, stderr) = sb.consolidate(&[]);
    assert_eq!(summary["files_skipped"], 1);
    assert!(stderr.contains("above the limit of 64 bytes"), "{stderr}");
}

#[test]
fn a_missing_claude_folder_is_a_warning_not_a_failure() {
    let sb = Sandbox::new();
    std::fs::remove_dir_all(sb.claude()).unwrap();
    let (summary, stderr) = sb.consolidate(&[]);
    assert_eq!(summary["files_scanned"], 0);
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(sb.home().join("todos.json").exists());
}

#[test]
fn unreadable_files_and_folders_are_warnings() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let file = sb.write(
        "todos/s1-agent-s1.json",
        todo_list(&[("Secret", "pending")]),
    );
    let folder = sb.claude().join("tasks/locked");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("1.json"),
        r#"{"id":"1","subject":"Hidden","status":"pending"}"#,
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads through permissions; only then is there nothing to assert.
    let blocked = std::fs::read(&file).is_err();
    let (summary, stderr) = sb.consolidate(&[]);
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    if blocked {
        assert!(
            stderr.contains("s1-agent-s1.json: cannot read the file"),
            "{stderr}"
        );
        assert!(stderr.contains("locked"), "{stderr}");
        assert_eq!(summary["files_skipped"], 1);
    } else {
        assert_eq!(summary["files_skipped"], 0);
    }
}

#[test]
fn bad_config_names_key_and_file() {
    let sb = Sandbox::new();
    let config = sb.home().join("config.toml");
    std::fs::write(&config, "[daemon]\ndebounce = 5\n").unwrap();
    let out = sb.run(&["consolidate"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config.toml"), "{stderr}");
    assert!(stderr.contains("debounce"), "{stderr}");
}

#[test]
fn usage_errors_exit_2_and_views_before_any_run_say_what_to_do() {
    let sb = Sandbox::new();
    let out = sb.run(&["todos", "--status", "finished"]);
    assert_eq!(out.status.code(), Some(2));
    let out = sb.run(&["todos"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chittysync consolidate"));
}

#[test]
fn filters_and_views() {
    let sb = Sandbox::new();
    std::fs::write(
        sb.home().join("config.toml"),
        "[[project.keyword_rules]]\ncontains = \"router\"\nproject = \"chittyrouter\"\n",
    )
    .unwrap();
    sb.write(
        "todos/aaaa1111-agent-aaaa1111.json",
        todo_list(&[("Fix the ROUTER", "pending"), ("Other", "completed")]),
    );
    sb.write(
        "todos/bbbb2222-agent-bbbb2222.json",
        todo_list(&[("Other", "pending")]),
    );
    sb.consolidate(&[]);
    let router = sb.todos(&["--project", "chittyrouter"]);
    assert_eq!(router.len(), 1);
    assert_eq!(router[0]["content"], "Fix the ROUTER");
    assert_eq!(sb.todos(&["--status", "completed"]).len(), 1);
    assert_eq!(sb.todos(&["--status", "open"]).len(), 1);
    assert_eq!(sb.todos(&["--status", "in_progress"]).len(), 0);
    assert_eq!(sb.todos(&["--session", "bbbb2222"]).len(), 1);
    assert_eq!(sb.todos(&["--session", "aaaa"]).len(), 2);

    let projects = sb.json(&["projects"]);
    let names: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["chittyrouter", "general"]);

    let sessions = sb.json(&["sessions"]);
    assert_eq!(sessions.as_array().unwrap().len(), 2);
    let conflicts = sb.json(&["conflicts"]);
    assert_eq!(conflicts[0]["content"], "Other");

    let history = sb.json(&["history", "other"]);
    let steps = history[0]["observations"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| s["source"] == "file"));

    let table = sb.ok(&["todos"]);
    assert!(
        table.lines().next().unwrap().starts_with("STATUS"),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "no colour when not a terminal");

    let status = sb.json(&["status"]);
    assert_eq!(status["store"]["todos"], 2);
    assert!(status["last_consolidation"]["summary"].is_object());
}

#[test]
fn as_of_shows_the_past() {
    let sb = Sandbox::new();
    let file = sb.write("todos/s1-agent-s1.json", todo_list(&[("Timed", "pending")]));
    set_modified_secs(&file, 1_700_000_000);
    sb.consolidate(&[]);
    sb.write(
        "todos/s1-agent-s1.json",
        todo_list(&[("Timed", "completed")]),
    );
    sb.consolidate(&[]);
    assert_eq!(sb.status_of("Timed", &[]).as_deref(), Some("completed"));
    assert_eq!(
        sb.status_of("Timed", &["--as-of", "2023-11-15"]).as_deref(),
        Some("pending")
    );
    assert!(sb.todos(&["--as-of", "2023-11-14T00:00:00Z"]).is_empty());
    let _: Value = sb.json(&["todos", "--as-of", "1h"]);
}

/// An output that cannot be written (a folder in its place) fails the run
/// with the home and the file named; what the run read is kept, so the next
/// run, once the folder is gone, writes every todo without reading again.
#[test]
fn an_output_that_cannot_be_written_is_named_and_nothing_read_is_lost() {
    let sandbox = Sandbox::new();
    sandbox.write("todos/s1.json", todo_list(&[("Ship it", "pending")]));
    let blocker = sandbox.home().join("todos.json");
    std::fs::create_dir(&blocker).unwrap();
    let out = sandbox.run(&["consolidate"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot consolidate into chittysync's home {}",
            sandbox.home().display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("cannot write {}", blocker.display())),
        "{stderr}"
    );
    std::fs::remove_dir(&blocker).unwrap();
    let (summary, _) = sandbox.consolidate(&[]);
    assert_eq!(summary["files_changed"], 0, "{summary}");
    let todos = sandbox.todos(&[]);
    assert_eq!(todos.len(), 1, "{todos:?}");
    assert_eq!(todos[0]["content"], "Ship it");
}
