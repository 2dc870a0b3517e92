//! Qwen Code's plan records (docs/SOURCES.md, "Qwen Code").
//!
//! Qwen Code keeps two records of a session's plan under its folder
//! (`$QWEN_HOME`, default `~/.qwen`):
//!
//! - `todos/<session>.json` — the current list, replaced whole on every
//!   `todo_write`: `{"planId"?, "todos":[{"id","content","status","blockedBy"?}],
//!   "sessionId"}`;
//! - `projects/<cwd-folder>/chats/<session>.jsonl` — the chat, one record a
//!   line, appended while the session runs. Each assistant line whose
//!   `message.parts[].functionCall` is named `todo_write` holds the whole list
//!   at that moment (`args.todos`), as Claude Code's transcripts do.
//!
//! The same lists are echoed in `system` lines of subtype `ui_telemetry` and in
//! `tool_result` lines; those are not plan writes and are never read as such.

use super::{agent_todos, Discovered, Found, PlanWrite, SessionRead};
use crate::error::{ParseError, Warning};
use crate::json;
use crate::lines::{self, LineSink, ReadPosition};
use crate::todo_file::TodoList;
use chittysync_core::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use std::ffi::OsStr;
use std::io;
use std::path::Path;

/// The name Qwen Code gives its tool (packages/core/src/tools/todoWrite.ts).
const TOOL_NAME: &str = "todo_write";

/// Which Qwen Code record a file is, and what its path says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QwenKind {
    /// `todos/<session>.json`. Qwen Code names it `default.json` when it has
    /// no session id.
    TodoFile { session: String },
    /// `projects/<folder>/chats/<session>.jsonl`; `folder` is the session's
    /// cwd with every character but letters and digits replaced by `-`.
    Chat { folder: String, session: String },
}

/// One file found under the Qwen Code folder.
pub type QwenFile = Found<QwenKind>;

/// What a scan of the Qwen Code folder found (`found_dir` false: Qwen Code
/// may simply not be installed, which is not worth a warning).
pub type QwenDiscovery = Discovered<QwenKind>;

/// Lists Qwen Code's todo files and chats under `qwen_dir`, by name and stat
/// only. Never fails: unreadable folders are warnings.
pub fn discover(qwen_dir: &Path) -> QwenDiscovery {
    let mut scan = QwenDiscovery::of(qwen_dir);
    if !scan.found_dir {
        return scan;
    }
    for (name, path, meta) in scan.entries(&qwen_dir.join("todos")) {
        match todo_session(&name) {
            Some(session) if meta.is_file() => {
                scan.add(QwenKind::TodoFile { session }, path, &meta)
            }
            _ => scan.ignored += 1,
        }
    }
    for (folder, path, meta) in scan.entries(&qwen_dir.join("projects")) {
        if !meta.is_dir() {
            scan.ignored += 1;
            continue;
        }
        for (name, path, meta) in scan.entries(&path.join("chats")) {
            match chat_session(&name) {
                Some(session) if meta.is_file() => scan.add(
                    QwenKind::Chat {
                        folder: folder.clone(),
                        session,
                    },
                    path,
                    &meta,
                ),
                _ => scan.ignored += 1,
            }
        }
    }
    scan.sorted()
}

/// What the file at `path` is, for a watcher that names one file.
pub fn classify(qwen_dir: &Path, path: &Path) -> Option<QwenKind> {
    let rest = path.strip_prefix(qwen_dir).ok()?;
    let parts: Vec<&str> = rest.iter().map(OsStr::to_str).collect::<Option<_>>()?;
    match parts.as_slice() {
        ["todos", name] => todo_session(name).map(|session| QwenKind::TodoFile { session }),
        ["projects", folder, "chats", name] if !folder.starts_with('.') => {
            chat_session(name).map(|session| QwenKind::Chat {
                folder: folder.to_string(),
                session,
            })
        }
        _ => None,
    }
}

fn todo_session(name: &str) -> Option<String> {
    super::file_stem(name, "json")
}

fn chat_session(name: &str) -> Option<String> {
    super::file_stem(name, "jsonl")
}

/// Parses a todo file: the session it names (`sessionId`) and its list.
///
/// Read as Qwen Code writes it (packages/core/src/tools/todoWrite.ts):
/// `{"todos":[{"id","content","status"}],"sessionId"}`, newer versions adding
/// `planId` and `blockedBy`; other fields are ignored. A file that is not an
/// object holding a `todos` array is [`ParseError::NotAList`].
pub fn parse_todo_file(bytes: &[u8]) -> Result<(Option<String>, TodoList), ParseError> {
    let value = json::parse_document(bytes)?;
    let Value::Object(object) = &value else {
        return Err(ParseError::NotAList {
            found: json::kind_of(&value),
        });
    };
    let Some(Value::Array(entries)) = object.get("todos") else {
        return Err(ParseError::NotAList {
            found: "an object without a `todos` array",
        });
    };
    let session = json::text(object.get("sessionId")).map(|s| s.trim().to_string());
    Ok((session, agent_todos(entries, "content")))
}

/// What one chat line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatLine {
    pub session: Option<String>,
    pub cwd: Option<String>,
    pub version: Option<String>,
    /// The model of an assistant line.
    pub model: Option<String>,
    pub at: Option<Timestamp>,
    /// The lists of the line's `todo_write` calls, in order (assistant lines only).
    pub plans: Vec<TodoList>,
    /// Calls named `todo_write` whose arguments hold no list.
    pub malformed_calls: usize,
}

/// The top-level fields of a chat line. Typed as `Value` so that a field of an
/// unexpected type is ignored rather than failing the line; everything else
/// (the message, tool results) is skipped without being built.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "sessionId")]
    session_id: Option<Value>,
    cwd: Option<Value>,
    version: Option<Value>,
    model: Option<Value>,
    timestamp: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<Value>,
}

/// Parses one line of a chat (without its newline).
///
/// Only an `assistant` line's `message.parts[].functionCall` named
/// `todo_write` is a plan; the lists that `ui_telemetry` system lines and
/// `tool_result` lines echo are not. The error is a message for a warning.
pub fn parse_chat_line(line: &[u8]) -> Result<ChatLine, String> {
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("not a JSON object".to_string());
    }
    let envelope: Envelope = match serde_json::from_slice(line) {
        Ok(envelope) => envelope,
        Err(e) => return Err(ParseError::from_json(&e).to_string()),
    };
    let text = |v: &Option<Value>| json::text(v.as_ref()).map(|s| s.trim().to_string());
    let is_assistant = envelope.kind.as_ref().and_then(Value::as_str) == Some("assistant");
    let mut facts = ChatLine {
        session: text(&envelope.session_id),
        cwd: text(&envelope.cwd),
        version: text(&envelope.version).filter(|v| v != "unknown"),
        model: if is_assistant {
            text(&envelope.model)
        } else {
            None
        },
        at: text(&envelope.timestamp).and_then(|t| Timestamp::parse_rfc3339(&t)),
        ..ChatLine::default()
    };
    // Most lines are not plans: look for the tool's name before building the line.
    if !is_assistant || memchr::memmem::find(line, TOOL_NAME.as_bytes()).is_none() {
        return Ok(facts);
    }
    let value: Value =
        serde_json::from_slice(line).map_err(|e| ParseError::from_json(&e).to_string())?;
    let parts = value
        .pointer("/message/parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for call in parts.iter().filter_map(|part| part.get("functionCall")) {
        if call.get("name").and_then(Value::as_str) != Some(TOOL_NAME) {
            continue;
        }
        match call_todos(call.get("args")) {
            Some(entries) => facts.plans.push(agent_todos(&entries, "content")),
            None => facts.malformed_calls += 1,
        }
    }
    Ok(facts)
}

/// The list of a `todo_write` call's arguments: `args.todos`, or — when the
/// user edited the list before it was written — the `todos` of
/// `args.modified_content` (a JSON document), as the tool itself takes it.
/// Arguments written as a JSON string are read too.
fn call_todos(args: Option<&Value>) -> Option<Vec<Value>> {
    let parsed;
    let args = match args? {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).ok()?;
            &parsed
        }
        args => args,
    };
    if args.get("modified_by_user").and_then(Value::as_bool) == Some(true) {
        if let Some(Value::String(content)) = args.get("modified_content") {
            if let Ok(Value::Object(mut edited)) = serde_json::from_str::<Value>(content) {
                if let Some(Value::Array(todos)) = edited.remove("todos") {
                    return Some(todos);
                }
            }
        }
    }
    match args.get("todos") {
        Some(Value::Array(todos)) => Some(todos.clone()),
        _ => None,
    }
}

/// Reads the complete lines of the chat at `path` after `from`.
///
/// Every `todo_write` call is a [`PlanWrite`] at its line's `timestamp`;
/// the session's id, first cwd, last model and version and its first and last
/// times come from the lines read. A partial last line is left for next time;
/// a chat that shrank, whose first bytes changed, or whose stored offset no
/// longer follows a newline is read again from the start (`restarted`).
/// Lines longer than `max_line_bytes` are skipped with a warning without
/// being held in memory whole. Bad lines are warnings; errors are the
/// operating system's only.
pub fn read_chat(path: &Path, from: &ReadPosition, max_line_bytes: u64) -> io::Result<SessionRead> {
    let mut chat = ChatReader {
        path,
        read: SessionRead::default(),
    };
    let done = lines::read_lines(path, from, max_line_bytes, &mut chat)?;
    let mut read = chat.read;
    read.end = done.end;
    read.restarted = done.restarted;
    Ok(read)
}

/// Folds each line of a chat into what the read found (lines.rs hands the
/// lines on).
struct ChatReader<'a> {
    path: &'a Path,
    read: SessionRead,
}

impl LineSink for ChatReader<'_> {
    fn line(&mut self, number: u64, bytes: &[u8]) {
        let bytes = lines::trim_line(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let line = match parse_chat_line(bytes) {
            Ok(line) => line,
            Err(message) => return self.warn(number, message),
        };
        let read = &mut self.read;
        if read.session.is_none() {
            read.session = line.session;
        }
        if read.cwd.is_none() {
            read.cwd = line.cwd;
        }
        if line.version.is_some() {
            read.version = line.version;
        }
        if line.model.is_some() {
            read.model = line.model;
        }
        if let Some(at) = line.at {
            read.first_at = Some(read.first_at.map_or(at, |t| t.min(at)));
            read.last_at = Some(read.last_at.map_or(at, |t| t.max(at)));
        }
        if line.malformed_calls > 0 {
            self.warn(
                number,
                "a todo_write call without a list of todos".to_string(),
            );
        }
        if line.plans.is_empty() {
            return;
        }
        let Some(at) = line.at else {
            return self.warn(
                number,
                "a todo_write call on a line without a valid timestamp; skipped".to_string(),
            );
        };
        for todos in line.plans {
            self.read.plans.push(PlanWrite {
                line: Some(number),
                at,
                session: None,
                todos,
            });
        }
    }

    fn overlong_line(&mut self, number: u64, len: u64) {
        self.warn(
            number,
            format!("the line is {len} bytes, too long to read; skipped"),
        );
    }
}

impl ChatReader<'_> {
    fn warn(&mut self, line: u64, message: String) {
        self.read
            .warnings
            .push(Warning::at_line(self.path, line, message));
    }
}
