//! Other agents' plan records (docs/SOURCES.md): Codex CLI, Gemini CLI, Qwen Code and
//! OpenCode. Each agent's module is the one place that knows its formats; what
//! they read is handed on in the shapes below, which say nothing of projects
//! or identity (the engine decides those, as for Claude Code's files).

pub mod codex;
pub mod gemini;
pub mod opencode;
pub mod qwen;

use crate::error::Warning;
use crate::json;
use crate::todo_file::{RawTodo, TodoList};
use crate::transcript::ReadPosition;
use chittysync_core::{Status, Timestamp};
use serde_json::Value;
use std::path::PathBuf;

/// An agent whose plans chittysync reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Agent {
    Claude,
    Codex,
    Gemini,
    Qwen,
    OpenCode,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::Claude,
        Agent::Codex,
        Agent::Gemini,
        Agent::Qwen,
        Agent::OpenCode,
    ];

    /// The agent's name in config (`[sources.<name>]`), observers and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Qwen => "qwen",
            Agent::OpenCode => "opencode",
        }
    }

    pub fn parse(name: &str) -> Option<Agent> {
        Agent::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One session's whole plan at one moment, as the agent wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanWrite {
    /// The 1-based line the plan was read from, for line-oriented files.
    pub line: Option<u64>,
    /// When the plan was written: the line's or message's timestamp, else the
    /// row's `time_updated`, else the file's mtime.
    pub at: Timestamp,
    /// The session, where one record holds several (a database); None when it
    /// is the session of the whole read ([`SessionRead::session`]).
    pub session: Option<String>,
    /// The whole list, with counts of entries that could not be read.
    pub todos: TodoList,
}

/// What one read of an agent's session record (a rollout, a chat, a todo file)
/// found, after a stored position for files that are appended to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRead {
    /// The session id the record names (a `session_meta` line, a chat's
    /// `sessionId`, a file name).
    pub session: Option<String>,
    /// The folder the session was started in: the first cwd recorded.
    pub cwd: Option<String>,
    /// The model named by the record, where it names one.
    pub model: Option<String>,
    /// The agent's version, where the record names it.
    pub version: Option<String>,
    pub first_at: Option<Timestamp>,
    pub last_at: Option<Timestamp>,
    /// Every plan written, oldest first.
    pub plans: Vec<PlanWrite>,
    /// Lines or entries that could not be read; never fatal.
    pub warnings: Vec<Warning>,
    /// Where the next read starts (for append-only files; default otherwise).
    pub end: ReadPosition,
    /// The record was read from its start although a position was given (it
    /// shrank or was replaced).
    pub restarted: bool,
}

/// A file an agent's discovery found, by name and stat only: whether it
/// changed is the caller's question (size and mtime), as for Claude Code's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in milliseconds since the Unix epoch.
    pub mtime_ms: i64,
}

impl FoundFile {
    pub(crate) fn from_meta(path: PathBuf, meta: &std::fs::Metadata) -> FoundFile {
        let mtime_ms = match meta
            .modified()
            .map(|t| t.duration_since(std::time::UNIX_EPOCH))
        {
            Ok(Ok(d)) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Ok(Err(before)) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        FoundFile {
            path,
            size: meta.len(),
            mtime_ms,
        }
    }
}

/// A status as another agent writes it (docs/SOURCES.md: `cancelled`, `blocked` and
/// `done` besides the four), and whether it was unknown (read as pending).
pub(crate) fn agent_status(value: Option<&Value>) -> (Status, bool) {
    match value
        .and_then(Value::as_str)
        .and_then(Status::parse_agent_word)
    {
        Some(status) => (status, false),
        None => (Status::Pending, true),
    }
}

/// Reads another agent's list, whose entries name their text `content_key`
/// (`content`, `description`, `step`…) and their status `status`. Entries
/// without non-empty text are skipped and counted; unknown statuses read as
/// pending and are counted (docs/SOURCES.md, "Claude Code").
pub(crate) fn agent_todos(entries: &[Value], content_key: &str) -> TodoList {
    let mut list = TodoList {
        items: Vec::with_capacity(entries.len()),
        ..TodoList::default()
    };
    for entry in entries {
        let Some(content) = json::text(entry.get(content_key)) else {
            list.skipped_entries += 1;
            continue;
        };
        let (status, unknown) = agent_status(entry.get("status"));
        list.unknown_statuses += usize::from(unknown);
        list.items.push(RawTodo {
            content,
            active_form: None,
            status,
        });
    }
    list
}

/// One file a discovery found, with what it is to its agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<K> {
    pub kind: K,
    pub file: FoundFile,
}

/// What a scan of one agent's folder found, for agents whose files are of
/// several kinds (Qwen Code, OpenCode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered<K> {
    /// Whether the folder exists: the agent may simply not be installed,
    /// which is not worth a warning.
    pub found_dir: bool,
    /// Sorted by path (byte order).
    pub files: Vec<Found<K>>,
    /// Folders that could not be read, entries that could not be stat'ed.
    pub warnings: Vec<Warning>,
    /// Entries that are not plan records. Counted, not warned about.
    pub ignored: usize,
}

impl<K> Default for Discovered<K> {
    fn default() -> Self {
        Discovered {
            found_dir: false,
            files: Vec::new(),
            warnings: Vec::new(),
            ignored: 0,
        }
    }
}

impl<K> Discovered<K> {
    /// An empty scan of `dir`, knowing whether it exists.
    pub(crate) fn of(dir: &std::path::Path) -> Self {
        Discovered {
            found_dir: dir.is_dir(),
            ..Discovered::default()
        }
    }

    /// [`visible_entries`] of `dir`, its warnings and ignored entries counted here.
    pub(crate) fn entries(
        &mut self,
        dir: &std::path::Path,
    ) -> Vec<(String, PathBuf, std::fs::Metadata)> {
        visible_entries(dir, &mut self.warnings, &mut self.ignored)
    }

    pub(crate) fn add(&mut self, kind: K, path: PathBuf, meta: &std::fs::Metadata) {
        self.files.push(Found {
            kind,
            file: FoundFile::from_meta(path, meta),
        });
    }

    /// The scan with its files in path order.
    pub(crate) fn sorted(mut self) -> Self {
        self.files
            .sort_unstable_by(|a, b| a.file.path.as_os_str().cmp(b.file.path.as_os_str()));
        self
    }
}

/// The visible, UTF-8-named entries of `dir` with their metadata (following
/// links): nothing, and no warning, if `dir` does not exist; a folder that
/// cannot be read and an entry that cannot be stat'ed are warnings; hidden
/// entries (editors' and agents' temporary files, such as OpenCode's
/// `.oc-<name>.<pid>.<time>.tmp`) and names that are not UTF-8 are counted
/// as ignored. An entry renamed away between the listing and the stat (an
/// atomic write) is passed over.
pub(crate) fn visible_entries(
    dir: &std::path::Path,
    warnings: &mut Vec<Warning>,
    ignored: &mut usize,
) -> Vec<(String, PathBuf, std::fs::Metadata)> {
    use std::io::ErrorKind;
    let reader = match std::fs::read_dir(dir) {
        Ok(reader) => reader,
        Err(e) if e.kind() == ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            warnings.push(Warning::new(dir, format!("cannot read folder: {e}")));
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    for entry in reader {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                warnings.push(Warning::new(dir, format!("cannot list folder: {e}")));
                continue;
            }
        };
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            *ignored += 1;
            continue;
        };
        if name.starts_with('.') {
            *ignored += 1;
            continue;
        }
        let path = entry.path();
        match std::fs::metadata(&path) {
            Ok(meta) => found.push((name, path, meta)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => warnings.push(Warning::new(&path, format!("cannot stat: {e}"))),
        }
    }
    found
}

/// `<stem>.<extension>` → `<stem>`, for a visible file with a non-empty stem.
pub(crate) fn file_stem(name: &str, extension: &str) -> Option<String> {
    let stem = name.strip_suffix(extension)?.strip_suffix('.')?;
    (!stem.is_empty() && !name.starts_with('.')).then(|| stem.to_string())
}
