//! Builders for realistic Claude Code files, shared by the integration tests.
#![allow(dead_code)] // each test file uses its own subset

use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::path::Path;

pub const SESSION: &str = "0b1e8d2c-4c1f-4a7e-9f51-5d2c7e3a9b10";

pub fn ts(second: u32) -> String {
    format!("2026-01-02T03:04:{second:02}.123Z")
}

/// The fields every user/assistant line of a 2.x transcript carries.
pub fn envelope(kind: &str, second: u32) -> Value {
    json!({
        "parentUuid": "11111111-2222-3333-4444-555555555555",
        "isSidechain": false,
        "userType": "external",
        "cwd": "/home/me/work/api",
        "sessionId": SESSION,
        "version": "2.1.3",
        "gitBranch": "main",
        "type": kind,
        "uuid": format!("uuid-{second}"),
        "timestamp": ts(second),
    })
}

/// An assistant line with the given `tool_use` items (`(id, name, input)`).
pub fn assistant_calls(second: u32, calls: &[(&str, &str, Value)]) -> String {
    let mut line = envelope("assistant", second);
    let content: Vec<Value> = calls
        .iter()
        .map(
            |(id, name, input)| json!({"type": "tool_use", "id": id, "name": name, "input": input}),
        )
        .collect();
    line["message"] = json!({
        "model": "claude-opus-4-5", "id": "msg_01", "type": "message", "role": "assistant",
        "content": content, "stop_reason": "tool_use", "usage": {"input_tokens": 3}
    });
    line["requestId"] = json!("req_01");
    line.to_string()
}

pub fn todo_write(second: u32, todos: Value) -> String {
    assistant_calls(
        second,
        &[("toolu_todo", "TodoWrite", json!({ "todos": todos }))],
    )
}

/// A user line with a tool result.
pub fn tool_result(second: u32, tool_use_id: &str, text: &str, result: Value) -> String {
    let mut line = envelope("user", second);
    line["message"] = json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tool_use_id, "content": text}
    ]});
    line["toolUseResult"] = result;
    line.to_string()
}

/// A user prompt line.
pub fn prompt(second: u32, text: &str) -> String {
    let mut line = envelope("user", second);
    line["message"] = json!({"role": "user", "content": text});
    line.to_string()
}

pub fn write_lines(path: &Path, lines: &[String]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).unwrap();
}

pub fn append(path: &Path, bytes: &[u8]) {
    let mut file = fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

/// Whether this process can read files it has no permission for (root can):
/// then permission tests cannot make a read fail and skip that assertion.
pub fn permissions_are_bypassed(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("permission-probe");
    fs::write(&probe, b"x").unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o000)).unwrap();
    let bypassed = fs::read(&probe).is_ok();
    fs::remove_file(&probe).unwrap();
    bypassed
}

/// `line` with the ASCII letters inside its JSON strings that `pick` chooses
/// spelled as `\u00XX` escapes (upper or lower case hex as `pick` says): the
/// same JSON value.
pub fn escape_letters(line: &str, mut pick: impl FnMut() -> (bool, bool)) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let mut chars = line.chars();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_string = !in_string;
                out.push(c);
            }
            '\\' if in_string => {
                // An escape already there is copied whole (`\u00e9`'s hex digits
                // are not letters to escape).
                out.push(c);
                let next = chars.next().expect("escape");
                out.push(next);
                if next == 'u' {
                    out.extend(chars.by_ref().take(4));
                }
            }
            c if in_string && c.is_ascii_alphabetic() => match pick() {
                (true, upper) if upper => out.push_str(&format!("\\u{:04X}", c as u32)),
                (true, _) => out.push_str(&format!("\\u{:04x}", c as u32)),
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    out
}
