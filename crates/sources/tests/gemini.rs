//! Gemini CLI's chat records, built as Gemini CLI writes them (docs/SOURCES.md,
//! "Gemini CLI"), in both generations:
//! - `.json`, one document `JSON.stringify(conversation, null, 2)`, rewritten
//!   whole: `packages/core/src/services/chatRecordingService.ts` at
//!   google-gemini/gemini-cli dcf5afaf (2026-04-01);
//! - `.jsonl`, one record a line (metadata, messages appended again when they
//!   change, `$set` updates, `$rewindTo`): the same file since f7449139
//!   (2026-04-09, "migrate chat recording to JSONL streaming") and at 5411f113
//!   (2026-08), with `chatRecordingTypes.ts`.
//!
//! `write_todos` arguments are `{"todos":[{"description","status"}]}`
//! (`packages/core/src/tools/write-todos.ts`); the project registry is
//! `packages/core/src/config/projectRegistry.ts`, the older path hash
//! `getProjectHash` in `packages/core/src/utils/paths.ts`.

use chittysync_core::{Status, Timestamp};
use chittysync_sources::agents::gemini::{
    discover, match_project_hash, project_hash, read_chat, read_projects,
};
use chittysync_sources::agents::SessionRead;
use chittysync_sources::ReadPosition;
use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::path::Path;

const SESSION: &str = "7c1f0e2a-93b4-4d5e-8f60-718293a4b5c6";
const PROJECT_HASH: &str = "9d2f6e1b0c8a7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e";
const LIMIT: u64 = 1 << 20;

fn ts(second: u32) -> String {
    format!("2026-04-20T09:15:{second:02}.250Z")
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn todos(items: &[(&str, &str)]) -> Value {
    let todos: Vec<Value> = items
        .iter()
        .map(|(d, s)| json!({"description": d, "status": s}))
        .collect();
    json!({ "todos": todos })
}

/// A completed tool call as `recordCompletedToolCalls` writes it.
fn call(id: &str, second: u32, status: &str, args: Value) -> Value {
    json!({
        "id": id, "name": "write_todos", "args": args,
        "result": [{"functionResponse": {"id": id, "name": "write_todos",
                     "response": {"output": "Successfully updated the todo list."}}}],
        "status": status, "timestamp": ts(second),
        "resultDisplay": {"todos": []}, "displayName": "WriteTodos",
        "description": "Set todos", "renderOutputAsMarkdown": false
    })
}

fn user(id: &str, second: u32, text: &str) -> Value {
    json!({"id": id, "timestamp": ts(second), "type": "user", "content": [{"text": text}]})
}

fn gemini(id: &str, second: u32, calls: Vec<Value>, model: &str) -> Value {
    json!({"id": id, "timestamp": ts(second), "type": "gemini", "content": "",
           "toolCalls": calls, "thoughts": [], "model": model})
}

fn items(read: &SessionRead, i: usize) -> Vec<(&str, Status)> {
    read.plans[i]
        .todos
        .items
        .iter()
        .map(|t| (t.content.as_str(), t.status))
        .collect()
}

fn chats_dir(home: &Path, project: &str) -> std::path::PathBuf {
    home.join("tmp").join(project).join("chats")
}

/// `.json` of early 2026: one pretty-printed document.
#[test]
fn json_chat_of_early_2026() {
    let home = tempfile::tempdir().unwrap();
    let path = chats_dir(home.path(), "api").join("session-2026-04-20T09-15-7c1f0e2a.json");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = json!({
        "sessionId": SESSION, "projectHash": PROJECT_HASH,
        "startTime": ts(0), "lastUpdated": ts(40),
        "messages": [
            user("m1", 1, "plan the release"),
            gemini("m2", 2, vec![
                call("c1", 3, "success", todos(&[("Tag the release", "in_progress"),
                                                  ("Write notes", "pending")])),
                call("c2", 5, "success", todos(&[("Tag the release", "completed"),
                                                  ("Write notes", "blocked"),
                                                  ("Old idea", "cancelled")])),
                call("c3", 6, "cancelled", todos(&[("Never written", "pending")])),
            ], "gemini-2.5-pro"),
        ],
        "summary": "Release planning"
    });
    fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();

    let read = read_chat(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(read.session.as_deref(), Some(SESSION));
    assert_eq!(read.model.as_deref(), Some("gemini-2.5-pro"));
    assert_eq!(
        read.cwd, None,
        "a chat names no folder: its project id does"
    );
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.plans.len(), 2, "a cancelled call wrote nothing");
    // Two lists in one message: each at its call's time, not the message's.
    assert_eq!(read.plans[0].at, at(&ts(3)));
    assert_eq!(read.plans[1].at, at(&ts(5)));
    assert_eq!(
        items(&read, 1),
        [
            ("Tag the release", Status::Completed),
            ("Write notes", Status::Pending),
            ("Old idea", Status::Deleted)
        ]
    );
    assert_eq!(read.first_at, Some(at(&ts(0))));
    assert_eq!(read.last_at, Some(at(&ts(40))));
    assert_eq!(read.end, ReadPosition::default());
}

fn jsonl_lines() -> Vec<String> {
    let m2 = gemini(
        "m2",
        2,
        vec![call(
            "c1",
            3,
            "success",
            todos(&[("Add the endpoint", "in_progress")]),
        )],
        "gemini-3-pro-preview",
    );
    let mut m2_with_tokens = m2.clone();
    m2_with_tokens["tokens"] = json!({"input": 10, "output": 5, "cached": 0, "total": 15});
    vec![
        json!({"sessionId": SESSION, "projectHash": PROJECT_HASH, "startTime": ts(0),
               "lastUpdated": ts(0), "kind": "main"})
        .to_string(),
        user("m1", 1, "add an endpoint").to_string(),
        json!({"$set": {"lastUpdated": ts(1)}}).to_string(),
        m2.to_string(),
        // The same message appended again with its token counts.
        m2_with_tokens.to_string(),
        json!({"$set": {"lastUpdated": ts(4)}}).to_string(),
        gemini(
            "m3",
            8,
            vec![call(
                "c2",
                9,
                "success",
                todos(&[("Add the endpoint", "completed")]),
            )],
            "gemini-3-pro-preview",
        )
        .to_string(),
        // History restated whole (after /compress): no new plan.
        json!({"$set": {"messages": [user("m1", 1, "add an endpoint"), m2_with_tokens],
                        "lastUpdated": ts(10)}})
        .to_string(),
        json!({"$rewindTo": "m3"}).to_string(),
    ]
}

/// `.jsonl` since April 2026: restated messages and checkpoints give each
/// plan once.
#[test]
fn jsonl_chat_gives_each_call_once() {
    let home = tempfile::tempdir().unwrap();
    let path = chats_dir(home.path(), "api").join("session-2026-04-20T09-15-7c1f0e2a.jsonl");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, jsonl_lines().join("\n") + "\n").unwrap();

    let read = read_chat(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(read.session.as_deref(), Some(SESSION));
    assert_eq!(read.model.as_deref(), Some("gemini-3-pro-preview"));
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    let lines: Vec<Option<u64>> = read.plans.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(4), Some(7)]);
    assert_eq!(items(&read, 1), [("Add the endpoint", Status::Completed)]);
    assert_eq!(read.plans[1].at, at(&ts(9)));
    assert_eq!(read.first_at, Some(at(&ts(0))));
    assert_eq!(read.last_at, Some(at(&ts(9))));
    assert_eq!(read.end.line, 9);
}

#[test]
fn jsonl_chat_read_on_from_a_position() {
    let home = tempfile::tempdir().unwrap();
    let path = chats_dir(home.path(), "api").join("session-2026-04-20T09-15-7c1f0e2a.jsonl");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let lines = jsonl_lines();
    fs::write(&path, lines[..4].join("\n") + "\n").unwrap();
    let first = read_chat(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(first.plans.len(), 1);

    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all((lines[4..].join("\n") + "\n").as_bytes())
        .unwrap();
    let second = read_chat(&path, &first.end, LIMIT).unwrap();
    assert!(!second.restarted);
    assert_eq!(second.session.as_deref(), Some(SESSION));
    // The restated m2 (line 5) is the same call as before: the same plan at
    // the same time, which the fold takes once.
    let got: Vec<(Option<u64>, Timestamp)> = second.plans.iter().map(|p| (p.line, p.at)).collect();
    assert_eq!(got, [(Some(5), at(&ts(3))), (Some(7), at(&ts(9)))]);
}

#[test]
fn bad_records_are_warnings_naming_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let path = chats_dir(home.path(), "api").join("session-2026-04-20T09-15-7c1f0e2a.jsonl");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let good = gemini(
        "m9",
        9,
        vec![call("c9", 9, "success", todos(&[("Kept", "pending")]))],
        "gemini-2.5-flash",
    )
    .to_string();
    let lines = [
        json!({"sessionId": SESSION, "projectHash": PROJECT_HASH, "startTime": ts(0)}).to_string(),
        // 2: cut short by a crash, then appended after
        good[..good.len() - 30].to_string(),
        // 3: todos that are not a list
        gemini(
            "m3",
            3,
            vec![call("c3", 3, "success", json!({"todos": "all of it"}))],
            "g",
        )
        .to_string(),
        // 4: args of the wrong type
        gemini(
            "m4",
            4,
            vec![call("c4", 4, "success", json!(["todos"]))],
            "g",
        )
        .to_string(),
        // 5: odd entries
        gemini(
            "m5",
            5,
            vec![call(
                "c5",
                5,
                "success",
                json!({"todos": [
            {"description": "Fine", "status": "in_progress"},
            {"description": "   ", "status": "pending"},
            {"status": "pending"},
            {"description": "Waiting", "status": "waiting"}]}),
            )],
            "g",
        )
        .to_string(),
        good,
    ];
    fs::write(&path, lines.join("\n") + "\n").unwrap();

    let read = read_chat(&path, &ReadPosition::default(), LIMIT).unwrap();
    let at_lines: Vec<Option<u64>> = read.warnings.iter().map(|w| w.line).collect();
    assert_eq!(at_lines, [Some(2), Some(3), Some(4)], "{:?}", read.warnings);
    assert!(read.warnings.iter().all(|w| w.path == path));
    assert!(read.warnings[0].message.contains("corrupt line"));
    assert!(read.warnings[1].message.contains("without a `todos` list"));
    assert!(read.warnings[2].message.contains("an array"));
    assert_eq!(read.plans.len(), 2);
    assert_eq!(read.plans[0].todos.skipped_entries, 2);
    assert_eq!(read.plans[0].todos.unknown_statuses, 1);
    assert_eq!(
        items(&read, 0),
        [("Fine", Status::InProgress), ("Waiting", Status::Pending)]
    );

    // A `.json` chat cut short in the middle of a rewrite.
    let json_path = path.with_file_name("session-2026-04-01T08-00-aaaabbbb.json");
    fs::write(
        &json_path,
        "{\n  \"sessionId\": \"x\",\n  \"messages\": [\n",
    )
    .unwrap();
    let broken = read_chat(&json_path, &ReadPosition::default(), LIMIT).unwrap();
    assert!(broken.plans.is_empty());
    assert_eq!(broken.warnings.len(), 1);
    assert!(
        broken.warnings[0]
            .message
            .contains("invalid JSON at line 4"),
        "{}",
        broken.warnings[0]
    );
    fs::write(&json_path, "[]").unwrap();
    let not_chat = read_chat(&json_path, &ReadPosition::default(), LIMIT).unwrap();
    assert!(not_chat.warnings[0].message.contains("not a chat"));
}

#[test]
fn discovery_finds_chats_and_sub_agents_but_not_checkpoints() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let chats = chats_dir(h, "api");
    let hashed = chats_dir(h, &project_hash("/home/me/old"));
    for dir in [&chats, &hashed, &chats.join(SESSION)] {
        fs::create_dir_all(dir).unwrap();
    }
    let main = chats.join("session-2026-04-20T09-15-7c1f0e2a.jsonl");
    let sub = chats
        .join(SESSION)
        .join("5e6f7a8b-0000-4000-8000-000000000001.jsonl");
    let old = hashed.join("session-2026-01-10T12-00-1a2b3c4d.json");
    let converted_json = chats.join("session-2026-04-01T08-00-aaaabbbb.json");
    let converted = chats.join("session-2026-04-01T08-00-aaaabbbb.jsonl");
    for p in [&main, &sub, &old, &converted_json, &converted] {
        fs::write(p, "{}\n").unwrap();
    }
    let checkpoints = h.join("tmp/api/checkpoints");
    fs::create_dir_all(&checkpoints).unwrap();
    fs::write(checkpoints.join("checkpoint-1.json"), "{}").unwrap();
    fs::write(chats.join("notes.json"), "{}").unwrap();
    fs::write(
        chats.join("session-2026-04-20T09-15-7c1f0e2a.jsonl.tmp-4242"),
        "{}",
    )
    .unwrap();
    fs::create_dir_all(h.join("tmp/bin")).unwrap();

    let (found, warnings) = discover(h);
    assert!(warnings.is_empty(), "{warnings:?}");
    let got: Vec<(&Path, &str, Option<&str>)> = found
        .iter()
        .map(|c| {
            (
                c.file.path.as_path(),
                c.project_id.as_str(),
                c.parent_session.as_deref(),
            )
        })
        .collect();
    let hash = project_hash("/home/me/old");
    let mut want = vec![
        (converted.as_path(), "api", None),
        (main.as_path(), "api", None),
        (sub.as_path(), "api", Some(SESSION)),
        (old.as_path(), hash.as_str(), None),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        match_project_hash(&hash, ["/home/me/api", "/home/me/old"]),
        Some("/home/me/old")
    );
    let (none, warnings) = discover(&h.join("absent"));
    assert!(none.is_empty() && warnings.is_empty());
}

#[test]
fn project_ids_map_to_folders() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // projectRegistry.ts writes JSON.stringify(data, null, 2).
    fs::write(
        h.join("projects.json"),
        "{\n  \"projects\": {\n    \"/home/me/work/api\": \"api\",\n    \"/home/me/work/web\": \"web\",\n    \"/home/me/bad\": 7\n  }\n}",
    )
    .unwrap();
    // Ownership markers, also for ids projects.json lost.
    for (id, folder) in [("api", "/elsewhere"), ("cli", "/home/me/work/cli\n")] {
        fs::create_dir_all(h.join("tmp").join(id)).unwrap();
        fs::write(h.join("tmp").join(id).join(".project_root"), folder).unwrap();
    }
    let (map, warnings) = read_projects(h, LIMIT);
    assert_eq!(map.folder("api"), Some("/home/me/work/api"));
    assert_eq!(map.folder("web"), Some("/home/me/work/web"));
    assert_eq!(map.folder("cli"), Some("/home/me/work/cli"));
    assert_eq!(map.folder("nope"), None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("/home/me/bad"));

    fs::write(h.join("projects.json"), "{\"projects\": {").unwrap();
    let (map, warnings) = read_projects(h, LIMIT);
    assert_eq!(map.folder("cli"), Some("/home/me/work/cli"), "markers kept");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].path, h.join("projects.json"));

    let empty = tempfile::tempdir().unwrap();
    let (map, warnings) = read_projects(empty.path(), LIMIT);
    assert!(map.is_empty() && warnings.is_empty());
}
