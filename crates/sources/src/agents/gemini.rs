//! Gemini CLI's chat records (docs/SOURCES.md, "Gemini CLI").
//!
//! Gemini keeps each session in `~/.gemini/tmp/<project-id>/chats/`:
//! `session-<time>-<id8>.jsonl` since April 2026 (one JSON record a line,
//! appended), before that `session-<time>-<id8>.json` (one pretty-printed
//! document, rewritten whole). A sub-agent's chat is
//! `chats/<parent-session>/<session>.jsonl` (or `.json`). Every `write_todos`
//! tool call is the session's whole list at that moment. Files under
//! `<project-id>/checkpoints/` are not chats and are never looked at.
//!
//! `<project-id>` is a short name that `~/.gemini/projects.json`
//! (`{"projects":{"<folder>":"<id>"}}`) and the marker
//! `tmp/<id>/.project_root` map to the project's folder; older installs name
//! the folder by the SHA-256 of the project's path, which cannot be inverted:
//! [`match_project_hash`] tells which of the folders known from elsewhere it
//! is.
//!
//! A `.jsonl` chat holds, line by line: its metadata (`sessionId`,
//! `projectHash`, `startTime`, `lastUpdated`, `kind`), messages (`id`,
//! `timestamp`, `type`, `toolCalls`, `model`), `{"$set":{…}}` updates (a
//! `messages` list there restates the whole conversation), and
//! `{"$rewindTo":"<message id>"}`. A message is appended again each time it
//! changes (a tool call's result, token counts), so a plan is taken once per
//! tool call id within a read.

use super::{agent_todos, FoundFile, PlanWrite, SessionRead};
use crate::error::{ParseError, Warning};
use crate::json;
use crate::lines::{self, LineFile, LineSink, ReadPosition};
use chittysync_core::Timestamp;
use memchr::memmem;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A chat file found by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatFile {
    pub file: FoundFile,
    /// The `<project-id>` folder it is under: a short name (see
    /// [`ProjectMap`]) or, on older installs, a SHA-256 of the project's path.
    pub project_id: String,
    /// For a sub-agent's chat (`chats/<parent>/…`), the parent session's id as
    /// its folder names it.
    pub parent_session: Option<String>,
}

/// Finds the chats under `gemini_home` (`~/.gemini`): `tmp/*/chats/session-*.jsonl`
/// and `.json`, and sub-agents' `tmp/*/chats/<parent>/*.jsonl` and `.json`,
/// by name and stat only. Where a `.json` chat and a `.jsonl` of the same
/// name both exist (Gemini converts a resumed `.json` chat to `.jsonl`), the
/// `.jsonl` is the one written to and the `.json` is left out. Folders that
/// cannot be read are warnings; a missing `tmp/` is not.
pub fn discover(gemini_home: &Path) -> (Vec<ChatFile>, Vec<Warning>) {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    let tmp = gemini_home.join("tmp");
    let projects = match fs::read_dir(&tmp) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (found, warnings),
        Err(e) => {
            warnings.push(Warning::new(&tmp, format!("cannot list: {e}")));
            return (found, warnings);
        }
    };
    for project in projects.flatten() {
        let Some(project_id) = project.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let chats = project.path().join("chats");
        if !chats.is_dir() {
            continue; // `bin/`, a project without chats
        }
        let mut files = Vec::new();
        chats_in(&chats, true, &mut files, &mut warnings);
        for (path, meta, parent) in files {
            found.push(ChatFile {
                file: FoundFile::from_meta(path, &meta),
                project_id: project_id.clone(),
                parent_session: parent,
            });
        }
    }
    found.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    (found, warnings)
}

type Found = (PathBuf, fs::Metadata, Option<String>);

/// The chat files in `dir`; in the top `chats/` folder, only `session-*`
/// files, and each sub-folder is a parent session's sub-agents.
fn chats_in(dir: &Path, top: bool, out: &mut Vec<Found>, warnings: &mut Vec<Warning>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return warnings.push(Warning::new(dir, format!("cannot list: {e}"))),
    };
    let parent = if top {
        None
    } else {
        dir.file_name().and_then(|n| n.to_str()).map(str::to_string)
    };
    let mut here = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::metadata(&path) else {
            continue; // vanished since listed: found again next time
        };
        if meta.is_dir() {
            if top {
                chats_in(&path, false, out, warnings);
            }
            continue;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let chat = name.ends_with(".jsonl") || name.ends_with(".json");
        if meta.is_file() && chat && (!top || name.starts_with("session-")) {
            here.push((path, meta, parent.clone()));
        }
    }
    let jsonl: HashSet<PathBuf> = here
        .iter()
        .filter(|(p, _, _)| is_jsonl(p))
        .map(|(p, _, _)| p.clone())
        .collect();
    out.extend(
        here.into_iter()
            .filter(|(p, _, _)| is_jsonl(p) || !jsonl.contains(&p.with_extension("jsonl"))),
    );
}

fn is_jsonl(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "jsonl")
}

/// Where Gemini's project ids lead: `projects.json` and the `.project_root`
/// markers Gemini leaves in each `tmp/<id>/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectMap {
    folders: BTreeMap<String, String>,
}

impl ProjectMap {
    /// The folder a project id stands for, if Gemini recorded it.
    pub fn folder(&self, project_id: &str) -> Option<&str> {
        self.folders.get(project_id).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.folders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
    }
}

/// Reads `~/.gemini/projects.json` (`{"projects":{"<folder>":"<id>"}}`) and
/// the `tmp/<id>/.project_root` markers (each holds its project's folder);
/// `projects.json` wins where they disagree. A missing file is no warning; a
/// corrupt or oddly shaped one is, and what could be read is kept.
pub fn read_projects(gemini_home: &Path, max_bytes: u64) -> (ProjectMap, Vec<Warning>) {
    let mut map = ProjectMap::default();
    let mut warnings = Vec::new();
    if let Ok(entries) = fs::read_dir(gemini_home.join("tmp")) {
        for entry in entries.flatten() {
            let marker = entry.path().join(".project_root");
            let Ok(bytes) = crate::read_limited(&marker, max_bytes) else {
                continue;
            };
            let folder = String::from_utf8_lossy(&bytes).trim().to_string();
            if let (false, Some(id)) = (folder.is_empty(), entry.file_name().to_str()) {
                map.folders.insert(id.to_string(), folder);
            }
        }
    }
    let path = gemini_home.join("projects.json");
    let bytes = match crate::read_limited(&path, max_bytes) {
        Ok(bytes) => bytes,
        Err(crate::ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
            return (map, warnings)
        }
        Err(e) => {
            warnings.push(Warning::new(&path, e.to_string()));
            return (map, warnings);
        }
    };
    match json::parse_document(&bytes) {
        Ok(doc) => match doc.get("projects") {
            Some(Value::Object(projects)) => {
                for (folder, id) in projects {
                    match id {
                        Value::String(id) if !id.is_empty() => {
                            map.folders.insert(id.clone(), folder.clone());
                        }
                        other => warnings.push(Warning::new(
                            &path,
                            format!(
                                "project {folder:?} has {} for its id, not a string",
                                json::kind_of(other)
                            ),
                        )),
                    }
                }
            }
            other => warnings.push(Warning::new(
                &path,
                format!(
                    "no `projects` map: found {}",
                    other.map_or("nothing", json::kind_of)
                ),
            )),
        },
        Err(e) => warnings.push(Warning::new(&path, e.to_string())),
    }
    (map, warnings)
}

/// The SHA-256 (hex) of a project's path, as Gemini names a project's
/// folder on older installs and records a chat's `projectHash`.
pub fn project_hash(folder: &str) -> String {
    Sha256::digest(folder.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Which of `candidates` (folders known from elsewhere: other agents'
/// sessions, config rules) a hashed project id stands for. A hash cannot be
/// inverted, so a project whose folder no other source knows stays unknown.
pub fn match_project_hash<'a>(
    hash: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let hash = hash.to_ascii_lowercase();
    candidates.into_iter().find(|c| project_hash(c) == hash)
}

/// Reads the chat at `path`.
///
/// A `.jsonl` chat is read incrementally from `from` (see [`crate::lines`]);
/// its first line, which names the session, is read again when the read
/// starts further on. A `.json` chat is one document, read whole (up to
/// `max_line_bytes`, its one record) whatever `from` says, with the default
/// position as its `end`. The chat names no cwd: the project comes from its
/// folder (see [`ProjectMap`]).
///
/// Errors are the operating system's (not found, permission denied); bad
/// content is never an error, only warnings.
pub fn read_chat(path: &Path, from: &ReadPosition, max_line_bytes: u64) -> io::Result<SessionRead> {
    let mut chat = Chat::new(path);
    let mut read = SessionRead::default();
    if is_jsonl(path) {
        let file = LineFile::open(path, from)?;
        if file.start_line() > 0 {
            if let Some(head) = lines::first_line(path, max_line_bytes)? {
                if let Ok(value) = serde_json::from_slice::<Value>(lines::trim_line(&head)) {
                    chat.metadata(&value);
                }
            }
        }
        let line_read = file.read(max_line_bytes, &mut chat)?;
        read.restarted = line_read.restarted;
        read.end = line_read.end;
    } else {
        read.restarted = *from != ReadPosition::default();
        match crate::read_limited(path, max_line_bytes) {
            Ok(bytes) => match json::parse_document(&bytes) {
                Ok(doc) if doc.is_object() => chat.record(None, &doc),
                Ok(other) => chat.warnings.push(Warning::new(
                    path,
                    format!("not a chat: the file holds {}", json::kind_of(&other)),
                )),
                Err(e) => chat.warnings.push(Warning::new(path, e.to_string())),
            },
            Err(crate::ReadError::Io(e)) => return Err(e),
            Err(e) => chat.warnings.push(Warning::new(path, e.to_string())),
        }
    }
    read.session = chat.session;
    read.model = chat.model;
    read.first_at = chat.first_at;
    read.last_at = chat.last_at;
    read.plans = chat.plans;
    read.warnings = chat.warnings;
    Ok(read)
}

/// The work of one chat read.
struct Chat<'p> {
    path: &'p Path,
    write_todos: memmem::Finder<'static>,
    session_id: memmem::Finder<'static>,
    timestamp: memmem::Finder<'static>,
    /// Tool call ids already taken in this read.
    seen: HashSet<String>,
    session: Option<String>,
    model: Option<String>,
    first_at: Option<Timestamp>,
    last_at: Option<Timestamp>,
    plans: Vec<PlanWrite>,
    warnings: Vec<Warning>,
}

impl<'p> Chat<'p> {
    fn new(path: &'p Path) -> Chat<'p> {
        Chat {
            path,
            write_todos: memmem::Finder::new(b"\"write_todos\""),
            session_id: memmem::Finder::new(b"\"sessionId\""),
            timestamp: memmem::Finder::new(b"\"timestamp\":\""),
            seen: HashSet::new(),
            session: None,
            model: None,
            first_at: None,
            last_at: None,
            plans: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: Option<u64>, message: String) {
        self.warnings.push(Warning {
            path: self.path.to_path_buf(),
            line,
            message,
        });
    }

    fn saw_time(&mut self, at: Timestamp) {
        self.first_at = Some(self.first_at.map_or(at, |t| t.min(at)));
        self.last_at = Some(self.last_at.map_or(at, |t| t.max(at)));
    }

    fn saw_time_text(&mut self, value: Option<&Value>) {
        if let Some(at) = value
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339)
        {
            self.saw_time(at);
        }
    }

    /// The session's metadata (`sessionId` and `projectHash`, the first line
    /// of a `.jsonl` chat, or the whole `.json` document). The first
    /// `sessionId` is the session's.
    fn metadata(&mut self, value: &Value) -> bool {
        let Some(id) = json::text(value.get("sessionId")) else {
            return false;
        };
        if value.get("id").is_some_and(Value::is_string) {
            return false; // a message
        }
        self.session.get_or_insert_with(|| id.trim().to_string());
        self.saw_time_text(value.get("startTime"));
        self.saw_time_text(value.get("lastUpdated"));
        true
    }

    /// One record: metadata (possibly a whole legacy chat with its
    /// `messages`), a message, a `$set` update or a `$rewindTo`.
    fn record(&mut self, line: Option<u64>, value: &Value) {
        if value.get("$rewindTo").is_some() {
            // The conversation went back; plans written before stay written
            // (their times say when), and the next write_todos is the list.
            return;
        }
        if let Some(set) = value.get("$set").filter(|s| s.is_object()) {
            if let Some(Value::Array(messages)) = set.get("messages") {
                for message in messages {
                    self.message(line, message);
                }
            }
            return;
        }
        if value.get("id").is_some_and(Value::is_string) {
            return self.message(line, value);
        }
        if self.metadata(value) {
            match value.get("messages") {
                Some(Value::Array(messages)) => {
                    for message in messages {
                        self.message(line, message);
                    }
                }
                Some(other) => {
                    let found = json::kind_of(other);
                    self.warn(line, format!("`messages` is {found}, not a list"));
                }
                None => {}
            }
        }
    }

    fn message(&mut self, line: Option<u64>, message: &Value) {
        let message_at = message
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339);
        if let Some(at) = message_at {
            self.saw_time(at);
        }
        if message.get("type").and_then(Value::as_str) != Some("gemini") {
            return;
        }
        if let Some(model) = json::text(message.get("model")) {
            self.model = Some(model);
        }
        let Some(Value::Array(calls)) = message.get("toolCalls") else {
            return;
        };
        for call in calls {
            if call.get("name").and_then(Value::as_str) == Some("write_todos") {
                self.write_todos(line, call, message_at);
            }
        }
    }

    /// A `write_todos` call. One that failed or was cancelled wrote nothing.
    /// Its time is the call's own `timestamp` (when it completed), else its
    /// message's: a message gathers every call of a turn, so several lists
    /// can share a message's time but not a call's.
    fn write_todos(&mut self, line: Option<u64>, call: &Value, message_at: Option<Timestamp>) {
        if let Some(id) = json::text(call.get("id")) {
            if !self.seen.insert(id) {
                return; // the same call, restated
            }
        }
        if matches!(
            call.get("status").and_then(Value::as_str),
            Some("error" | "cancelled")
        ) {
            return;
        }
        let at = call
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339)
            .or(message_at);
        let Some(at) = at else {
            return self.warn(line, "write_todos call without a time; skipped".into());
        };
        let Some(entries) = call
            .get("args")
            .and_then(|a| a.get("todos"))
            .and_then(Value::as_array)
        else {
            let found = match call.get("args") {
                None => "no args",
                Some(args) if args.is_object() => "args without a `todos` list",
                Some(args) => json::kind_of(args),
            };
            return self.warn(line, format!("write_todos call with {found}; skipped"));
        };
        let todos = agent_todos(entries, "description");
        self.saw_time(at);
        self.plans.push(PlanWrite {
            line,
            at,
            session: None,
            todos,
        });
    }
}

impl LineSink for Chat<'_> {
    fn line(&mut self, number: u64, raw: &[u8]) {
        let line = lines::trim_line(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let wanted = number == 1
            || self.write_todos.find(line).is_some()
            || (self.session.is_none() && self.session_id.find(line).is_some());
        if !wanted {
            // Most lines: only the message's time, which JSON.stringify puts
            // right after its id (`{"id":…,"timestamp":"…"`).
            if let Some(at) = self.timestamp.find(line).and_then(|i| {
                let rest = &line[i + b"\"timestamp\":\"".len()..];
                let end = memchr::memchr(b'"', rest)?;
                Timestamp::parse_rfc3339(std::str::from_utf8(&rest[..end]).ok()?)
            }) {
                self.saw_time(at);
            }
            return;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(value) if value.is_object() => self.record(Some(number), &value),
            Ok(other) => {
                let found = json::kind_of(&other);
                self.warn(Some(number), format!("line holds {found}, not a record"));
            }
            Err(e) => {
                let e = ParseError::from_json(&e);
                self.warn(Some(number), format!("corrupt line: {e}"));
            }
        }
    }

    fn overlong_line(&mut self, number: u64, len: u64) {
        self.warn(
            Some(number),
            format!("line of {len} bytes is longer than the limit; skipped"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_hash_is_sha256_hex_of_the_path() {
        // echo -n /home/u/proj | sha256sum
        assert_eq!(
            project_hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let hash = project_hash("/home/u/proj");
        assert_eq!(hash.len(), 64);
        assert_eq!(
            match_project_hash(&hash.to_uppercase(), ["/elsewhere", "/home/u/proj"]),
            Some("/home/u/proj")
        );
        assert_eq!(match_project_hash(&hash, ["/home/u/other"]), None);
    }
}
