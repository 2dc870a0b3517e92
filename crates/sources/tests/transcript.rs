mod common;

use chittysync_core::{Status, Timestamp};
use chittysync_sources::{read_transcript, RawTodo, ReadPosition, TranscriptEvent, Warning};
use common::*;
use serde_json::json;
use std::fs;
use std::path::Path;

const LIMIT: u64 = 16 << 20;

fn at(second: u32) -> Timestamp {
    Timestamp::parse_rfc3339(&ts(second)).unwrap()
}

fn raw(content: &str, active_form: Option<&str>, status: Status) -> RawTodo {
    RawTodo {
        content: content.into(),
        active_form: active_form.map(Into::into),
        status,
    }
}

fn read_all(path: &Path) -> chittysync_sources::TranscriptChunk {
    read_transcript(path, &ReadPosition::default(), LIMIT).unwrap()
}

#[test]
fn todo_write_lines_become_events_and_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!("{SESSION}.jsonl"));
    let mut last = envelope("assistant", 9);
    last["cwd"] = json!("/home/me/work/api/sub");
    last["gitBranch"] = json!("feature/x");
    last["message"] = json!({"role": "assistant", "content": [{"type": "text", "text": "done"}]});
    let lines = vec![
        json!({"type": "summary", "summary": "Earlier work", "leafUuid": "x"}).to_string(),
        prompt(1, "plan the work"),
        todo_write(
            2,
            json!([
                {"content": "Write parser", "status": "in_progress", "activeForm": "Writing parser"},
                {"content": "Test it", "status": "pending", "activeForm": "Testing it"}
            ]),
        ),
        tool_result(
            3,
            "toolu_todo",
            "Todos have been modified successfully.",
            json!({"oldTodos": [], "newTodos": []}),
        ),
        // 1.0.x shape: id and priority, no activeForm; one unknown status, one bad entry.
        todo_write(
            4,
            json!([
                {"id": "1", "content": "Write parser", "status": "completed", "priority": "high"},
                {"id": "2", "content": "Test it", "status": "blocked", "priority": "medium"},
                {"id": "3", "status": "pending"}
            ]),
        ),
        last.to_string(),
    ];
    write_lines(&path, &lines);

    let chunk = read_all(&path);
    assert!(!chunk.restarted);
    assert!(chunk.warnings.is_empty(), "{:?}", chunk.warnings);
    assert_eq!(
        chunk.events,
        vec![
            TranscriptEvent::TodoWrite {
                line: 3,
                at: at(2),
                agent: None,
                todos: vec![
                    raw("Write parser", Some("Writing parser"), Status::InProgress),
                    raw("Test it", Some("Testing it"), Status::Pending),
                ],
                skipped_entries: 0,
                unknown_statuses: 0,
            },
            TranscriptEvent::TodoWrite {
                line: 5,
                at: at(4),
                agent: None,
                todos: vec![
                    raw("Write parser", None, Status::Completed),
                    raw("Test it", None, Status::Pending),
                ],
                skipped_entries: 1,
                unknown_statuses: 1,
            },
        ]
    );
    let size = fs::metadata(&path).unwrap().len();
    assert_eq!(chunk.end.offset, size);
    assert_eq!(chunk.bytes_read, size);
    assert_eq!(chunk.end.line, 6);
    assert!(chunk.end.head.is_some());
    let facts = &chunk.session;
    assert_eq!(facts.session_id.as_deref(), Some(SESSION));
    // The session's folder is the first cwd it recorded; the later `cd` into
    // `sub` does not move it (docs/DESIGN.md, "Projects").
    assert_eq!(facts.cwd.as_deref(), Some("/home/me/work/api"));
    assert_eq!(facts.git_branch.as_deref(), Some("feature/x"));
    assert_eq!(facts.version.as_deref(), Some("2.1.3"));
    assert_eq!(facts.first_at, Some(at(1)));
    assert_eq!(facts.last_at, Some(at(9)));
}

#[test]
fn sub_agent_transcript_names_its_agent() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!(
        "-home-me-work-api/{SESSION}/subagents/agent-a1b2c3d.jsonl"
    ));
    let mut with_id: serde_json::Value = serde_json::from_str(&todo_write(
        1,
        json!([{"content": "a", "status": "pending"}]),
    ))
    .unwrap();
    with_id["agentId"] = json!("a1b2c3d");
    with_id["isSidechain"] = json!(true);
    let mut other_id = with_id.clone();
    other_id["agentId"] = json!("ffff000");
    let mut main_id = with_id.clone();
    main_id["agentId"] = json!(SESSION);
    let without_id = todo_write(4, json!([{"content": "b", "status": "completed"}]));
    write_lines(
        &path,
        &[
            with_id.to_string(),
            other_id.to_string(),
            main_id.to_string(),
            without_id,
        ],
    );

    let agents: Vec<Option<String>> = read_all(&path)
        .events
        .iter()
        .map(|e| match e {
            TranscriptEvent::TodoWrite { agent, .. } => agent.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        agents,
        [
            Some("a1b2c3d".to_string()),
            Some("ffff000".to_string()),
            None,                        // an agentId equal to the session is the main agent
            Some("a1b2c3d".to_string()), // from the file name
        ]
    );
}

#[test]
fn sidechain_lines_of_1_0_are_not_the_main_agent() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let mut line: serde_json::Value = serde_json::from_str(&todo_write(
        1,
        json!([{"content": "a", "status": "pending"}]),
    ))
    .unwrap();
    line["isSidechain"] = json!(true);
    line["version"] = json!("1.0.24");
    write_lines(&path, &[line.to_string()]);
    let events = read_all(&path).events;
    assert!(
        matches!(&events[..], [TranscriptEvent::TodoWrite { agent: Some(a), .. }] if a == "sidechain")
    );
}

#[test]
fn task_calls_and_created_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let lines = vec![
        assistant_calls(
            1,
            &[
                (
                    "toolu_01A",
                    "TaskCreate",
                    json!({"subject": "Design", "description": "The API", "activeForm": "Designing"}),
                ),
                ("toolu_01B", "TaskCreate", json!({"subject": "Build"})),
                ("toolu_01X", "Read", json!({"file_path": "/x"})),
            ],
        ),
        tool_result(
            2,
            "toolu_01A",
            "Task #3 created successfully: Design",
            json!({"task": {"id": "3", "subject": "Design"}}),
        ),
        tool_result(
            3,
            "toolu_01B",
            "Task #4 created successfully: Build",
            json!({"task": {"id": 4, "subject": "Build"}}),
        ),
        assistant_calls(
            4,
            &[(
                "toolu_01C",
                "TaskUpdate",
                json!({"taskId": "3", "status": "in_progress"}),
            )],
        ),
        assistant_calls(
            5,
            &[(
                "toolu_01D",
                "TaskUpdate",
                json!({"taskId": 4, "subject": "Build it", "activeForm": "Building it", "owner": "me"}),
            )],
        ),
        assistant_calls(
            6,
            &[(
                "toolu_01E",
                "TaskUpdate",
                json!({"taskId": "4", "status": "deleted"}),
            )],
        ),
        assistant_calls(
            7,
            &[(
                "toolu_01F",
                "TaskUpdate",
                json!({"taskId": "3", "status": "blocked"}),
            )],
        ),
        assistant_calls(8, &[("toolu_01G", "TaskDelete", json!({"taskId": "3"}))]),
        tool_result(
            9,
            "toolu_01G",
            "Task deleted",
            json!({"success": true, "taskId": "3"}),
        ),
    ];
    write_lines(&path, &lines);

    let chunk = read_all(&path);
    use TranscriptEvent::*;
    assert_eq!(
        chunk.events,
        vec![
            TaskCreate {
                line: 1,
                at: at(1),
                agent: None,
                tool_use_id: "toolu_01A".into(),
                subject: "Design".into(),
                description: Some("The API".into()),
                active_form: Some("Designing".into()),
            },
            TaskCreate {
                line: 1,
                at: at(1),
                agent: None,
                tool_use_id: "toolu_01B".into(),
                subject: "Build".into(),
                description: None,
                active_form: None,
            },
            TaskCreated {
                line: 2,
                at: at(2),
                tool_use_id: "toolu_01A".into(),
                task_id: "3".into()
            },
            TaskCreated {
                line: 3,
                at: at(3),
                tool_use_id: "toolu_01B".into(),
                task_id: "4".into()
            },
            TaskUpdate {
                line: 4,
                at: at(4),
                agent: None,
                task_id: "3".into(),
                status: Some(Status::InProgress),
                subject: None,
                active_form: None,
            },
            TaskUpdate {
                line: 5,
                at: at(5),
                agent: None,
                task_id: "4".into(),
                status: None,
                subject: Some("Build it".into()),
                active_form: Some("Building it".into()),
            },
            TaskUpdate {
                line: 6,
                at: at(6),
                agent: None,
                task_id: "4".into(),
                status: Some(Status::Deleted),
                subject: None,
                active_form: None,
            },
            TaskUpdate {
                line: 7,
                at: at(7),
                agent: None,
                task_id: "3".into(),
                status: Some(Status::Pending),
                subject: None,
                active_form: None,
            },
            TaskDelete {
                line: 8,
                at: at(8),
                agent: None,
                task_id: "3".into()
            },
        ]
    );
    assert_eq!(chunk.warnings.len(), 1, "{:?}", chunk.warnings);
    assert_eq!(chunk.warnings[0].line, Some(7));
    assert!(chunk.warnings[0]
        .message
        .contains("unknown status \"blocked\""));
}

#[test]
fn malformed_plan_calls_are_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let mut untimed: serde_json::Value = serde_json::from_str(&todo_write(
        1,
        json!([{"content": "a", "status": "pending"}]),
    ))
    .unwrap();
    untimed.as_object_mut().unwrap().remove("timestamp");
    let lines = vec![
        // The model sent the list as a JSON-encoded string: Claude Code rejects it.
        todo_write(1, json!("[{\"content\":\"a\",\"status\":\"pending\"}]")),
        assistant_calls(
            2,
            &[(
                "toolu_1",
                "TaskCreate",
                json!({"description": "no subject"}),
            )],
        ),
        assistant_calls(
            3,
            &[("toolu_2", "TaskUpdate", json!({"status": "completed"}))],
        ),
        untimed.to_string(),
        tool_result(4, "", "Task #9 created", json!({"task": {"id": "9"}})),
        todo_write(5, json!([])),
    ];
    write_lines(&path, &lines);
    let chunk = read_all(&path);
    let lines_warned: Vec<Option<u64>> = chunk.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines_warned, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    // The valid, empty list still counts: it is how a finished list shows.
    assert!(matches!(
        &chunk.events[..],
        [TranscriptEvent::TodoWrite { line: 6, todos, .. }] if todos.is_empty()
    ));
}

#[test]
fn lines_of_other_kinds_are_never_plans() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let sub_agent_call = json!({"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_sub", "name": "TodoWrite",
         "input": {"todos": [{"content": "sub-agent item", "status": "pending"}]}}]}});
    let lines = vec![
        json!({"type": "queue-operation", "operation": "enqueue", "timestamp": ts(1),
               "sessionId": SESSION, "content": "use TodoWrite please"}).to_string(),
        json!({"type": "file-history-snapshot", "messageId": "m1", "isSnapshotUpdate": false,
               "snapshot": {"messageId": "m1", "trackedFileBackups": {}, "timestamp": ts(2)}}).to_string(),
        json!({"type": "summary", "summary": "Planned with \"TodoWrite\" and \"TaskCreate\"", "leafUuid": "u"}).to_string(),
        json!({"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted",
               "timestamp": ts(3), "cwd": "/home/me/work/api"}).to_string(),
        // 2.x progress lines embed a running sub-agent's messages, tool calls included.
        json!({"type": "progress", "timestamp": ts(4), "sessionId": SESSION, "cwd": "/home/me/work/api",
               "data": {"type": "agent_progress", "agentId": "a1", "message": sub_agent_call},
               "toolUseID": "toolu_task", "parentToolUseID": "toolu_task"}).to_string(),
        // A tool result whose text mentions the tools, quotes and all (escaped inside JSON).
        tool_result(5, "toolu_read", "call \"TodoWrite\" with {\"todos\":[{\"content\":\"x\",\"status\":\"pending\"}]} or \"TaskCreate\"",
            json!({"type": "text", "file": {"filePath": "/notes.md", "content": "\"TaskUpdate\" {\"taskId\":\"1\"}"}})),
        // A user prompt naming the tools (unquoted: not even a prefilter match).
        prompt(6, "TodoWrite TaskCreate TaskUpdate TaskDelete"),
        // A `tool_use` item on a user line is not a call the agent made.
        json!({"type": "user", "timestamp": ts(7), "message": {"role": "user", "content": [
            {"type": "tool_use", "id": "toolu_x", "name": "TodoWrite", "input": {"todos": []}}]}}).to_string(),
    ];
    write_lines(&path, &lines);
    let chunk = read_all(&path);
    assert!(chunk.events.is_empty(), "{:?}", chunk.events);
    assert!(chunk.warnings.is_empty(), "{:?}", chunk.warnings);
    assert_eq!(chunk.end.line, 8);
    assert_eq!(chunk.session.first_at, Some(at(1)));
    assert_eq!(chunk.session.last_at, Some(at(7)));
}

#[test]
fn corrupt_line_is_a_warning_and_the_read_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let good = todo_write(1, json!([{"content": "a", "status": "pending"}]));
    let cut = &good[..good.len() / 2];
    let lines = vec![
        prompt(1, "hi"),
        format!(
            "{cut}{}",
            todo_write(2, json!([{"content": "b", "status": "pending"}]))
        ),
        "\u{0}\u{0}\u{0}".to_string(),
        String::new(),
        todo_write(3, json!([{"content": "c", "status": "completed"}])),
    ];
    write_lines(&path, &lines);
    let chunk = read_all(&path);
    assert_eq!(chunk.warnings.len(), 1, "{:?}", chunk.warnings);
    let warning: &Warning = &chunk.warnings[0];
    assert_eq!(warning.line, Some(2));
    assert_eq!(warning.path, path);
    assert!(warning
        .to_string()
        .starts_with(&format!("{}:2: corrupt line", path.display())));
    assert!(matches!(
        &chunk.events[..],
        [TranscriptEvent::TodoWrite { line: 5, .. }]
    ));
    assert_eq!(chunk.end.line, 5);
}

#[test]
fn partial_last_line_is_read_once_when_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let first = todo_write(1, json!([{"content": "a", "status": "pending"}]));
    let second = todo_write(2, json!([{"content": "a", "status": "completed"}]));
    let (head, tail) = second.split_at(second.len() / 3);
    fs::write(&path, format!("{first}\n{head}")).unwrap();

    let one = read_all(&path);
    assert_eq!(one.events.len(), 1);
    assert_eq!(one.end.offset, first.len() as u64 + 1);
    assert_eq!(one.end.line, 1);
    assert!(one.warnings.is_empty());

    // Still partial: nothing new.
    let again = read_transcript(&path, &one.end, LIMIT).unwrap();
    assert!(again.events.is_empty() && again.warnings.is_empty());
    assert_eq!(
        (again.end.offset, again.end.line, again.bytes_read),
        (one.end.offset, 1, 0)
    );

    append(&path, format!("{tail}\n").as_bytes());
    let two = read_transcript(&path, &again.end, LIMIT).unwrap();
    assert!(!two.restarted);
    assert!(matches!(
        &two.events[..],
        [TranscriptEvent::TodoWrite { line: 2, .. }]
    ));
    assert_eq!(two.bytes_read, second.len() as u64 + 1);

    let three = read_transcript(&path, &two.end, LIMIT).unwrap();
    assert!(three.events.is_empty());
    assert_eq!(three.bytes_read, 0);
}

#[test]
fn appended_lines_are_read_from_the_stored_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    write_lines(&path, &[prompt(1, "hi"), todo_write(2, json!([]))]);
    let one = read_all(&path);
    assert_eq!(one.events.len(), 1);

    let new = format!(
        "{}\n{}\n",
        prompt(3, "more"),
        todo_write(4, json!([{"content": "x", "status": "in_progress"}]))
    );
    append(&path, new.as_bytes());
    let two = read_transcript(&path, &one.end, LIMIT).unwrap();
    assert!(!two.restarted);
    assert_eq!(two.bytes_read, new.len() as u64);
    assert_eq!(two.end.offset, fs::metadata(&path).unwrap().len());
    assert!(matches!(
        &two.events[..],
        [TranscriptEvent::TodoWrite { line: 4, .. }]
    ));
    assert_eq!(two.session.first_at, Some(at(3)));
    assert_eq!(two.end.line, 4);
}

#[test]
fn a_rewritten_file_is_read_again_from_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    write_lines(
        &path,
        &[
            prompt(1, "first session, long enough to be longer"),
            todo_write(2, json!([])),
        ],
    );
    let one = read_all(&path);

    // Shorter than the stored offset.
    write_lines(
        &path,
        &[todo_write(
            7,
            json!([{"content": "new", "status": "pending"}]),
        )],
    );
    let two = read_transcript(&path, &one.end, LIMIT).unwrap();
    assert!(two.restarted);
    assert!(matches!(
        &two.events[..],
        [TranscriptEvent::TodoWrite { line: 1, .. }]
    ));
    assert_eq!(two.end.line, 1);

    // Longer than before, but different first bytes.
    let mut lines = vec![prompt(8, "another session")];
    lines.extend((0..5).map(|i| todo_write(10 + i, json!([]))));
    write_lines(&path, &lines);
    let three = read_transcript(&path, &two.end, LIMIT).unwrap();
    assert!(three.restarted);
    assert_eq!(three.events.len(), 5);
    assert_eq!(three.bytes_read, fs::metadata(&path).unwrap().len());

    // The same first 4096 bytes, but the stored offset now falls inside a line.
    let long_prompt = prompt(20, &"p".repeat(5000));
    write_lines(&path, &[long_prompt.clone(), todo_write(21, json!([]))]);
    let five = read_all(&path);
    let mut edited = long_prompt[..long_prompt.len() - 2].to_string();
    edited.push_str("more\"}");
    write_lines(
        &path,
        &[edited, todo_write(22, json!([])), todo_write(23, json!([]))],
    );
    let six = read_transcript(&path, &five.end, LIMIT).unwrap();
    assert!(six.restarted);
    let lines: Vec<u64> = six.events.iter().map(TranscriptEvent::line).collect();
    assert_eq!(lines, [2, 3]);

    // A position without a head mark is trusted unless the file is shorter.
    let bare = ReadPosition {
        offset: six.end.offset,
        line: six.end.line,
        head: None,
    };
    append(&path, b"\n");
    let four = read_transcript(&path, &bare, LIMIT).unwrap();
    assert!(!four.restarted);
    assert_eq!(four.end.line, 4);
}

#[test]
fn empty_and_missing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    fs::write(&path, b"").unwrap();
    let chunk = read_all(&path);
    assert_eq!(chunk.end.offset, 0);
    assert_eq!(chunk.end.head.map(|h| h.len), Some(0));
    assert!(chunk.events.is_empty() && chunk.session == Default::default());

    let err = read_transcript(
        &tmp.path().join("gone.jsonl"),
        &ReadPosition::default(),
        LIMIT,
    )
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn crlf_and_byte_order_mark_are_tolerated() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let text = format!(
        "\u{feff}{}\r\n{}\r\n",
        todo_write(1, json!([{"content": "a", "status": "pending"}])),
        todo_write(2, json!([]))
    );
    fs::write(&path, text).unwrap();
    let chunk = read_all(&path);
    assert!(chunk.warnings.is_empty(), "{:?}", chunk.warnings);
    assert_eq!(chunk.events.len(), 2);
    assert_eq!(chunk.session.cwd.as_deref(), Some("/home/me/work/api"));
}

#[test]
fn overlong_lines_are_skipped_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let big = "x".repeat(5000);
    write_lines(
        &path,
        &[
            todo_write(1, json!([{"content": big, "status": "pending"}])),
            todo_write(2, json!([{"content": "small", "status": "pending"}])),
        ],
    );
    let chunk = read_transcript(&path, &ReadPosition::default(), 4096).unwrap();
    assert_eq!(chunk.warnings.len(), 1);
    assert_eq!(chunk.warnings[0].line, Some(1));
    assert!(chunk.warnings[0]
        .message
        .contains("longer than the limit of 4096 bytes"));
    assert!(matches!(
        &chunk.events[..],
        [TranscriptEvent::TodoWrite { line: 2, .. }]
    ));
}

/// Lines longer than the read buffer (4 MiB): one within the limit, which must
/// be read whole, and one beyond it, which must be skipped across buffer fills.
#[test]
fn lines_longer_than_the_read_buffer() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let within = todo_write(
        1,
        json!([{"content": "y".repeat(6 << 20), "status": "pending"}]),
    );
    let beyond = tool_result(
        2,
        "toolu_r",
        &"z".repeat(9 << 20),
        json!({"task": {"id": "1"}}),
    );
    let after = todo_write(3, json!([{"content": "after", "status": "completed"}]));
    write_lines(&path, &[within, beyond.clone(), after]);

    let chunk = read_transcript(&path, &ReadPosition::default(), 8 << 20).unwrap();
    assert_eq!(chunk.warnings.len(), 1, "{:?}", chunk.warnings);
    assert_eq!(chunk.warnings[0].line, Some(2));
    assert!(chunk.warnings[0]
        .message
        .contains(&format!("{} bytes", beyond.len())));
    let lines: Vec<u64> = chunk.events.iter().map(TranscriptEvent::line).collect();
    assert_eq!(lines, [1, 3]);
    assert_eq!(chunk.end.offset, fs::metadata(&path).unwrap().len());
    assert_eq!(chunk.session.last_at, Some(at(3)));

    // An overlong line still being written is not consumed.
    fs::write(
        &path,
        format!(
            "{}\n{}",
            todo_write(1, json!([])),
            &beyond[..beyond.len() - 10]
        ),
    )
    .unwrap();
    let chunk = read_transcript(&path, &ReadPosition::default(), 1 << 20).unwrap();
    assert!(chunk.warnings.is_empty());
    assert_eq!(chunk.end.line, 1);
}
