//! Qwen Code's plan records, built as Qwen Code writes them (docs/SOURCES.md,
//! "Qwen Code"): todo files as the `todo_write` tool writes them, chat lines
//! as the chat recording service appends them.

use chittysync_core::{Status, Timestamp};
use chittysync_sources::agents::qwen::{
    classify, discover, parse_chat_line, parse_todo_file, read_chat, QwenKind,
};
use chittysync_sources::{ParseError, ReadPosition, TodoList};
use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::path::Path;

const SESSION: &str = "6f1c2b9e-3d4a-4e8b-9c7d-2a1b0c9d8e7f";
const CWD: &str = "/home/me/work/api";
const FOLDER: &str = "-home-me-work-api";

fn items(list: &TodoList) -> Vec<(&str, Status)> {
    list.items
        .iter()
        .map(|t| (t.content.as_str(), t.status))
        .collect()
}

// ---------------------------------------------------------------- todo files

/// An early todo file: `{todos, sessionId}`, pretty-printed with two spaces,
/// ids "1", "2"… (the tool's writeTodosToFile before plans had ids).
const TODO_FILE_EARLY: &str = r#"{
  "todos": [
    {
      "id": "1",
      "content": "Read the config loader",
      "status": "completed"
    },
    {
      "id": "2",
      "content": "Add the retry option",
      "status": "in_progress"
    },
    {
      "id": "3",
      "content": "Write tests",
      "status": "pending"
    }
  ],
  "sessionId": "6f1c2b9e-3d4a-4e8b-9c7d-2a1b0c9d8e7f"
}"#;

/// A current todo file: `planId` first, `blockedBy` on entries
/// (packages/core/src/tools/todoWrite.ts, 2026).
const TODO_FILE_CURRENT: &str = r#"{
  "planId": "0d3e8a52-61b4-4f0e-b0a3-6c1d2e3f4a5b",
  "todos": [
    {
      "content": "Map the endpoints",
      "status": "completed",
      "id": "map-endpoints"
    },
    {
      "content": "Port the handlers",
      "status": "in_progress",
      "id": "port-handlers",
      "blockedBy": [
        "map-endpoints"
      ]
    }
  ],
  "sessionId": "6f1c2b9e-3d4a-4e8b-9c7d-2a1b0c9d8e7f"
}"#;

#[test]
fn todo_file_of_both_versions() {
    let (session, list) = parse_todo_file(TODO_FILE_EARLY.as_bytes()).unwrap();
    assert_eq!(session.as_deref(), Some(SESSION));
    assert_eq!(
        items(&list),
        [
            ("Read the config loader", Status::Completed),
            ("Add the retry option", Status::InProgress),
            ("Write tests", Status::Pending),
        ]
    );
    assert_eq!((list.skipped_entries, list.unknown_statuses), (0, 0));

    let (session, list) = parse_todo_file(TODO_FILE_CURRENT.as_bytes()).unwrap();
    assert_eq!(session.as_deref(), Some(SESSION));
    assert_eq!(
        items(&list),
        [
            ("Map the endpoints", Status::Completed),
            ("Port the handlers", Status::InProgress),
        ]
    );
}

#[test]
fn todo_file_emptied_and_default_session() {
    // The tool writes an empty list as `"todos": []` (no planId).
    let (session, list) = parse_todo_file(br#"{"todos": [], "sessionId": "default"}"#).unwrap();
    assert_eq!(session.as_deref(), Some("default"));
    assert!(list.items.is_empty());
    let (session, _) = parse_todo_file(br#"{"todos": []}"#).unwrap();
    assert_eq!(session, None);
}

#[test]
fn broken_todo_files_are_errors_not_panics() {
    let truncated = &TODO_FILE_EARLY.as_bytes()[..120];
    assert!(matches!(
        parse_todo_file(truncated),
        Err(ParseError::Json { .. })
    ));
    assert_eq!(parse_todo_file(b""), Err(ParseError::Empty));
    assert_eq!(
        parse_todo_file(br#"[{"content":"a","status":"pending"}]"#),
        Err(ParseError::NotAList { found: "an array" })
    );
    let err = parse_todo_file(br#"{"todos": {"a": 1}, "sessionId": "s"}"#).unwrap_err();
    assert!(err.to_string().contains("without a `todos` array"), "{err}");
}

#[test]
fn wrong_types_inside_a_todo_file_are_counted() {
    let (session, list) = parse_todo_file(
        br#"{"todos": [
            {"id": "1", "content": 42, "status": "pending"},
            {"id": "2", "content": "", "status": "pending"},
            "loose text",
            {"id": "3", "content": "Ship", "status": "done"},
            {"id": "4", "content": "Wait", "status": 7},
            {"id": "5", "content": "Drop", "status": "cancelled"}
        ], "sessionId": 99}"#,
    )
    .unwrap();
    assert_eq!(session, None, "a sessionId that is not text is unknown");
    assert_eq!(
        items(&list),
        [
            ("Ship", Status::Completed),
            ("Wait", Status::Pending),
            ("Drop", Status::Deleted),
        ]
    );
    assert_eq!(list.skipped_entries, 3);
    assert_eq!(list.unknown_statuses, 1);
}

// --------------------------------------------------------------------- chats

fn ts(second: u32) -> String {
    format!("2026-03-04T05:06:{second:02}.789Z")
}

/// The fields `createBaseRecord` gives every record
/// (packages/core/src/services/chatRecordingService.ts).
fn record(kind: &str, second: u32, cwd: &str) -> Value {
    json!({
        "uuid": format!("uuid-{second}"),
        "parentUuid": format!("uuid-{}", second.saturating_sub(1)),
        "sessionId": SESSION,
        "timestamp": ts(second),
        "type": kind,
        "provenance": match kind {
            "user" => "real_user",
            "assistant" => "assistant_output",
            "tool_result" => "tool_result",
            _ => "system",
        },
        "cwd": cwd,
        "version": "0.15.2",
        "gitBranch": "main",
    })
}

fn user(second: u32, text: &str) -> String {
    let mut line = record("user", second, CWD);
    line["message"] = json!({"role": "user", "parts": [{"text": text}]});
    line.to_string()
}

/// `recordAssistantTurn`: the model's parts as `createModelContent` makes them.
fn assistant(second: u32, parts: Value) -> String {
    let mut line = record("assistant", second, CWD);
    line["model"] = json!("qwen3-coder-plus");
    line["message"] = json!({"role": "model", "parts": parts});
    line["usageMetadata"] = json!({"promptTokenCount": 1200, "candidatesTokenCount": 80});
    line.to_string()
}

fn todo_call(todos: Value) -> Value {
    json!({"functionCall": {"id": "call_1", "name": "todo_write", "args": {"todos": todos}}})
}

/// `recordToolResult`: the function response, and the list again in
/// `toolCallResult.resultDisplay` — an echo, not a plan write.
fn tool_result(second: u32, todos: Value) -> String {
    let mut line = record("tool_result", second, CWD);
    line["message"] = json!({"role": "user", "parts": [{"functionResponse": {
        "id": "call_1", "name": "todo_write",
        "response": {"output": "Todos have been modified successfully."}}}]});
    line["toolCallResult"] = json!({
        "callId": "call_1", "status": "success",
        "resultDisplay": {"type": "todo_list", "todos": todos}
    });
    line.to_string()
}

/// `recordUiTelemetryEvent`: a tool-call event carrying the call's arguments.
fn ui_telemetry(second: u32, todos: Value) -> String {
    let mut line = record("system", second, CWD);
    line["subtype"] = json!("ui_telemetry");
    line["systemPayload"] = json!({"uiEvent": {
        "event.name": "qwen-code.tool_call", "event.timestamp": ts(second),
        "function_name": "todo_write", "function_args": {"todos": todos},
        "duration_ms": 4, "success": true, "decision": "auto_accept"}});
    line.to_string()
}

fn first_list() -> Value {
    json!([
        {"id": "1", "content": "Read the config loader", "status": "in_progress"},
        {"id": "2", "content": "Add the retry option", "status": "pending"}
    ])
}

fn second_list() -> Value {
    json!([
        {"id": "1", "content": "Read the config loader", "status": "completed"},
        {"id": "2", "content": "Add the retry option", "status": "completed"}
    ])
}

fn current_chat() -> Vec<String> {
    vec![
        user(1, "add a retry option to the loader"),
        assistant(
            2,
            json!([{"text": "I'll plan this with todo_write first."}, todo_call(first_list())]),
        ),
        ui_telemetry(3, first_list()),
        tool_result(4, first_list()),
        assistant(5, json!([{"text": "Done reading."}])),
        assistant(6, json!([todo_call(second_list())])),
        ui_telemetry(7, second_list()),
        tool_result(8, second_list()),
    ]
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).unwrap();
}

fn chat_path(dir: &Path) -> std::path::PathBuf {
    let chats = dir.join("projects").join(FOLDER).join("chats");
    fs::create_dir_all(&chats).unwrap();
    chats.join(format!("{SESSION}.jsonl"))
}

#[test]
fn chat_plans_are_the_assistant_calls_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_path(dir.path());
    write_lines(&path, &current_chat());
    let read = read_chat(&path, &ReadPosition::default(), 1 << 20).unwrap();

    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.session.as_deref(), Some(SESSION));
    assert_eq!(read.cwd.as_deref(), Some(CWD));
    assert_eq!(read.model.as_deref(), Some("qwen3-coder-plus"));
    assert_eq!(read.version.as_deref(), Some("0.15.2"));
    assert_eq!(read.first_at, Timestamp::parse_rfc3339(&ts(1)));
    assert_eq!(read.last_at, Timestamp::parse_rfc3339(&ts(8)));
    assert!(!read.restarted);

    // Two plan writes: the telemetry and tool-result echoes (lines 3, 4, 7, 8)
    // and the text that names the tool are not plans.
    let lines: Vec<Option<u64>> = read.plans.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(2), Some(6)]);
    assert_eq!(read.plans[0].at, Timestamp::parse_rfc3339(&ts(2)).unwrap());
    assert_eq!(read.plans[0].session, None);
    assert_eq!(
        items(&read.plans[0].todos),
        [
            ("Read the config loader", Status::InProgress),
            ("Add the retry option", Status::Pending),
        ]
    );
    assert_eq!(
        items(&read.plans[1].todos),
        [
            ("Read the config loader", Status::Completed),
            ("Add the retry option", Status::Completed),
        ]
    );
    assert_eq!(read.end.line, 8);
    assert_eq!(read.end.offset, fs::metadata(&path).unwrap().len());
}

/// An early chat (qwen-code 0.0.x, 2025): no `provenance`, no `gitBranch`, the
/// model's parts with `functionCall` lacking an `id`; the session moved to
/// another folder midway (`cwd` changes): the first cwd is the session's.
#[test]
fn early_chat_without_provenance_keeps_the_first_cwd() {
    let early = |kind: &str, second: u32, cwd: &str, extra: Value| {
        let mut line = json!({
            "uuid": format!("u{second}"), "parentUuid": null, "sessionId": SESSION,
            "timestamp": ts(second), "type": kind, "cwd": cwd, "version": "0.0.14"
        });
        for (k, v) in extra.as_object().unwrap() {
            line[k] = v.clone();
        }
        line.to_string()
    };
    let lines = vec![
        early(
            "user",
            1,
            "/srv/old",
            json!({"message": {"role": "user", "parts": [{"text": "plan it"}]}}),
        ),
        early(
            "assistant",
            2,
            "/srv/new",
            json!({"model": "qwen3-coder", "message": {"role": "model", "parts": [
            {"functionCall": {"name": "todo_write", "args": {"todos": [
                {"id": "1", "content": "Sketch", "status": "pending"}]}}}]}}),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = chat_path(dir.path());
    write_lines(&path, &lines);
    let read = read_chat(&path, &ReadPosition::default(), 1 << 20).unwrap();
    assert_eq!(read.cwd.as_deref(), Some("/srv/old"));
    assert_eq!(read.version.as_deref(), Some("0.0.14"));
    assert_eq!(read.model.as_deref(), Some("qwen3-coder"));
    assert_eq!(read.plans.len(), 1);
    assert_eq!(items(&read.plans[0].todos), [("Sketch", Status::Pending)]);
}

#[test]
fn chat_is_read_incrementally_and_a_partial_line_waits() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_path(dir.path());
    let chat = current_chat();
    write_lines(&path, &chat[..4]);
    let first = read_chat(&path, &ReadPosition::default(), 1 << 20).unwrap();
    assert_eq!(first.plans.len(), 1);
    assert_eq!(first.end.line, 4);

    // The rest arrives, the last line only half written.
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    for line in &chat[4..7] {
        writeln!(file, "{line}").unwrap();
    }
    let last = &chat[7];
    write!(file, "{}", &last[..last.len() / 2]).unwrap();
    let second = read_chat(&path, &first.end, 1 << 20).unwrap();
    assert!(!second.restarted);
    let lines: Vec<Option<u64>> = second.plans.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(6)], "only the new call, numbered in the file");
    assert_eq!(second.end.line, 7);
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);

    writeln!(file, "{}", &last[last.len() / 2..]).unwrap();
    let third = read_chat(&path, &second.end, 1 << 20).unwrap();
    assert!(third.plans.is_empty());
    assert_eq!(third.end.line, 8);
    assert!(third.warnings.is_empty(), "{:?}", third.warnings);
}

#[test]
fn a_replaced_chat_is_read_again_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_path(dir.path());
    write_lines(&path, &current_chat());
    let first = read_chat(&path, &ReadPosition::default(), 1 << 20).unwrap();
    // Another session's chat under the same name, longer than before.
    let mut other = current_chat();
    other.insert(0, user(0, "a different start"));
    other.push(user(9, "more"));
    write_lines(&path, &other);
    let again = read_chat(&path, &first.end, 1 << 20).unwrap();
    assert!(again.restarted);
    assert_eq!(again.plans.len(), 2);
    assert_eq!(again.end.line, 10);
}

#[test]
fn bad_chat_lines_are_warnings_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_path(dir.path());
    let good = assistant(2, json!([todo_call(first_list())]));
    let mut lines = vec![
        user(1, "go"),
        good[..good.len() - 20].to_string(), // truncated JSON
        json!({"type": "assistant", "sessionId": 5, "cwd": ["x"], "timestamp": 17,
               "message": {"parts": [{"functionCall": {"name": "todo_write",
               "args": {"todos": [{"id": "1", "content": "Typed wrong", "status": "pending"}]}}}]}})
        .to_string(), // wrong types: a call without a usable timestamp
        assistant(
            4,
            json!([{"functionCall": {"name": "todo_write", "args": {"todos": "none"}}}]),
        ),
        format!("{{\"type\":\"user\",\"pad\":\"{}\"}}", "x".repeat(5000)), // too long
        String::new(),
        assistant(7, json!([todo_call(second_list())])),
    ];
    lines.push("[1, 2]".to_string()); // not an object
    write_lines(&path, &lines);
    let read = read_chat(&path, &ReadPosition::default(), 4096).unwrap();

    let warned: Vec<Option<u64>> = read.warnings.iter().map(|w| w.line).collect();
    assert_eq!(warned, [Some(2), Some(3), Some(4), Some(5), Some(8)]);
    for w in &read.warnings {
        assert_eq!(w.path, path);
    }
    // Told as every other reader tells it: where, then why.
    assert!(
        read.warnings[0]
            .message
            .starts_with("invalid JSON at line 1, column "),
        "{}",
        read.warnings[0].message
    );
    assert!(read.warnings[1].message.contains("timestamp"));
    assert!(read.warnings[2].message.contains("without a list"));
    assert!(read.warnings[3].message.contains("too long"));
    // The good call after the bad lines is still read; the wrongly typed
    // fields of line 3 are unknown, not the session's.
    assert_eq!(read.plans.len(), 1);
    assert_eq!(read.plans[0].line, Some(7));
    assert_eq!(read.cwd.as_deref(), Some(CWD));
    assert_eq!(read.end.line, 8);
}

#[test]
fn a_list_the_user_edited_is_the_one_written() {
    // todoWrite.ts: with modified_by_user, the list is modified_content's todos.
    let edited = json!({"todos": [{"id": "1", "content": "Edited by hand", "status": "pending"}]});
    let line = assistant(
        3,
        json!([{"functionCall": {"name": "todo_write", "args": {
            "todos": first_list(), "modified_by_user": true,
            "modified_content": edited.to_string()}}}]),
    );
    let parsed = parse_chat_line(line.as_bytes()).unwrap();
    assert_eq!(parsed.plans.len(), 1);
    assert_eq!(
        items(&parsed.plans[0]),
        [("Edited by hand", Status::Pending)]
    );
}

#[test]
fn other_tools_and_echoes_are_not_plans() {
    for line in [
        ui_telemetry(3, first_list()),
        tool_result(4, first_list()),
        assistant(
            5,
            json!([{"functionCall": {"name": "read_file", "args": {"path": "todo_write.ts"}}}]),
        ),
    ] {
        let parsed = parse_chat_line(line.as_bytes()).unwrap();
        assert!(parsed.plans.is_empty(), "{line}");
        assert_eq!(parsed.session.as_deref(), Some(SESSION));
    }
}

// ------------------------------------------------------------------ discovery

#[test]
fn discovery_finds_todo_files_and_chats_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(".qwen");
    let todos = root.join("todos");
    fs::create_dir_all(&todos).unwrap();
    fs::write(todos.join(format!("{SESSION}.json")), TODO_FILE_CURRENT).unwrap();
    fs::write(
        todos.join("default.json"),
        r#"{"todos":[],"sessionId":"default"}"#,
    )
    .unwrap();
    fs::write(todos.join(".tmp-123.json"), "{").unwrap(); // atomic write's temp file
    fs::write(todos.join("notes.txt"), "x").unwrap();
    let path = chat_path(&root);
    write_lines(&path, &current_chat());
    fs::write(path.with_file_name("readme.md"), "x").unwrap();
    fs::create_dir_all(root.join("projects").join(FOLDER).join("chats/sub.jsonl")).unwrap();
    fs::write(root.join("projects/stray.txt"), "x").unwrap();
    fs::create_dir_all(root.join("tmp/abc/checkpoints")).unwrap();

    let scan = discover(&root);
    assert!(scan.found_dir);
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    let kinds: Vec<&QwenKind> = scan.files.iter().map(|f| &f.kind).collect();
    assert_eq!(
        kinds,
        [
            &QwenKind::Chat {
                folder: FOLDER.into(),
                session: SESSION.into()
            },
            &QwenKind::TodoFile {
                session: SESSION.into()
            },
            &QwenKind::TodoFile {
                session: "default".into()
            },
        ]
    );
    let chat = &scan.files[0].file;
    assert_eq!(chat.path, path);
    assert_eq!(chat.size, fs::metadata(&path).unwrap().len());
    assert!(chat.mtime_ms > 0);
    assert_eq!(scan.ignored, 5);

    assert_eq!(classify(&root, &path), Some(scan.files[0].kind.clone()));
    assert_eq!(classify(&root, &root.join("todos/notes.txt")), None);
    assert_eq!(classify(&root, &root.join("settings.json")), None);
}

#[test]
fn a_missing_folder_is_not_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let scan = discover(&dir.path().join("absent"));
    assert!(!scan.found_dir);
    assert!(scan.files.is_empty() && scan.warnings.is_empty());
}
