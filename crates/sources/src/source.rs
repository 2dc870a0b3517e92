//! One trait over every agent's records (docs/SOURCES.md): Claude Code's todo
//! files, task files and transcripts, and the other agents' rollouts, chats,
//! todo files and databases.
//!
//! Each agent is one [`AgentSource`]: it finds its files under its folder by
//! name and stat only, names the file a watcher reports, and reads a changed
//! file into a [`Reading`]. Consolidation, the daemon's watcher and the hooks
//! all go through it, so the agent's module stays the one place that knows
//! its format.

use crate::agents::{codex, gemini, opencode, qwen, Agent, FoundFile, SessionRead};
use crate::discover::{self, Discovery, SourceFile, SourceKind};
use crate::error::ParseError;
use crate::lines::ReadPosition;
use crate::read::{read_limited, ReadError};
use crate::task_file::{parse_task, RawTask};
use crate::todo_file::{parse_todo_list, TodoList};
use crate::transcript::{read_transcript, TranscriptChunk};
use std::path::{Path, PathBuf};

/// Which record of another agent a file is, by its place and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgentFile {
    /// `sessions/…/rollout-*.jsonl` (or `.jsonl.zst`, read whole).
    CodexRollout { compressed: bool },
    /// `tmp/<project-id>/chats/…` (`.jsonl` appended, or one `.json` document).
    GeminiChat {
        project_id: String,
        parent_session: Option<String>,
        lines: bool,
    },
    /// `todos/<session>.json`.
    QwenTodo { session: String },
    /// `projects/<folder>/chats/<session>.jsonl`.
    QwenChat { session: String },
    /// `opencode.db`, stat'ed with its `-wal`: OpenCode's writes land there first.
    OpenCodeDb,
    /// `storage/todo/<session>.json` (before v1.2).
    OpenCodeTodo { session: String },
    /// `storage/session/<project>/<session>.json` (before v1.2): its folder.
    OpenCodeSession { session: String },
}

impl AgentFile {
    pub fn agent(&self) -> Agent {
        match self {
            AgentFile::CodexRollout { .. } => Agent::Codex,
            AgentFile::GeminiChat { .. } => Agent::Gemini,
            AgentFile::QwenTodo { .. } | AgentFile::QwenChat { .. } => Agent::Qwen,
            AgentFile::OpenCodeDb
            | AgentFile::OpenCodeTodo { .. }
            | AgentFile::OpenCodeSession { .. } => Agent::OpenCode,
        }
    }

    /// Whether the file is appended to and read on from a stored position.
    pub fn is_appended(&self) -> bool {
        match self {
            AgentFile::CodexRollout { compressed } => !compressed,
            AgentFile::GeminiChat { lines, .. } => *lines,
            AgentFile::QwenChat { .. } => true,
            _ => false,
        }
    }
}

/// What reading one changed file gave.
#[derive(Debug)]
pub enum Reading {
    /// A Claude Code todo file.
    Todos(TodoList),
    /// A Claude Code task file.
    Task(RawTask),
    /// A piece of a Claude Code transcript.
    Transcript(TranscriptChunk),
    /// One session's record of another agent: its plans, folder and times.
    Session(SessionRead),
    /// Several sessions of another agent's database, and its next cursor.
    /// `stat_after` is the database's size and mtime (with its `-wal`) once
    /// read: opening it can make the `-wal` and `-shm` that the stat taken
    /// before did not see, and the next run must not take that for a change.
    Database {
        read: opencode::DbRead,
        stat_after: Option<(u64, i64)>,
    },
    /// A session's folder and times, from a file that holds no plan.
    SessionInfo(opencode::SessionInfo),
    /// Zero bytes: a write under way. Not recorded, so it is read again next time.
    WriteUnderWay,
    /// The file could not be used; the message says why.
    Unusable(String),
}

/// Where to read a changed file from: a line position for appended files, a
/// cursor (as its reader wrote it) for a database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadFrom {
    pub position: ReadPosition,
    pub cursor: Option<String>,
}

/// One agent's records.
pub trait AgentSource: Send + Sync {
    fn agent(&self) -> Agent;
    /// The folder its records are under.
    fn root(&self) -> &Path;
    /// Finds its files, by name and stat only, into `scan`.
    fn discover(&self, scan: &mut Discovery);
    /// What the file at `path` is, if it is one of its records.
    fn classify(&self, path: &Path) -> Option<SourceKind>;
    /// Reads a changed file.
    fn read(&self, file: &SourceFile, from: &ReadFrom, max_file_bytes: u64) -> Reading;
    /// The folders under its root that hold its records, for a file watcher:
    /// each with whether its sub-folders hold records too.
    fn watch_folders(&self) -> Vec<(PathBuf, bool)>;
}

/// Claude Code: `todos/`, `tasks/`, `projects/` under its folder (docs/SOURCES.md, "Claude Code").
pub struct Claude {
    pub dir: PathBuf,
}

impl AgentSource for Claude {
    fn agent(&self) -> Agent {
        Agent::Claude
    }

    fn root(&self) -> &Path {
        &self.dir
    }

    fn discover(&self, scan: &mut Discovery) {
        let found = discover::discover(&self.dir);
        scan.files.extend(found.files);
        scan.warnings.extend(found.warnings);
        scan.ignored += found.ignored;
    }

    fn classify(&self, path: &Path) -> Option<SourceKind> {
        discover::classify(&self.dir, path)
    }

    fn read(&self, file: &SourceFile, from: &ReadFrom, max_file_bytes: u64) -> Reading {
        match &file.kind {
            SourceKind::TodoFile { .. } => whole(file, max_file_bytes, |b| {
                parse_todo_list(b).map(Reading::Todos)
            }),
            SourceKind::TaskFile { .. } => {
                whole(file, max_file_bytes, |b| parse_task(b).map(Reading::Task))
            }
            SourceKind::Transcript { .. } => {
                match read_transcript(&file.path, &from.position, max_file_bytes) {
                    Ok(chunk) => Reading::Transcript(chunk),
                    Err(e) => Reading::Unusable(format!("cannot read the transcript: {e}")),
                }
            }
            SourceKind::Agent(_) => misrouted(file),
        }
    }

    fn watch_folders(&self) -> Vec<(PathBuf, bool)> {
        let d = &self.dir;
        vec![
            (d.join("todos"), false),
            (d.join("tasks"), true),
            (d.join("projects"), true),
        ]
    }
}

/// Another agent: the same steps, by its module's readers.
pub struct Other {
    pub agent: Agent,
    pub dir: PathBuf,
}

impl AgentSource for Other {
    fn agent(&self) -> Agent {
        self.agent
    }

    fn root(&self) -> &Path {
        &self.dir
    }

    fn discover(&self, scan: &mut Discovery) {
        let dir = &self.dir;
        let mut add = |kind: AgentFile, found: FoundFile| {
            scan.files.push(SourceFile {
                path: found.path,
                kind: SourceKind::Agent(kind),
                size: found.size,
                mtime_ms: found.mtime_ms,
            })
        };
        match self.agent {
            Agent::Claude => {}
            Agent::Codex => {
                let (files, warnings) = codex::discover(dir);
                for found in files {
                    let compressed = codex::is_compressed(&found.path);
                    add(AgentFile::CodexRollout { compressed }, found);
                }
                scan.warnings.extend(warnings);
            }
            Agent::Gemini => {
                let (files, warnings) = gemini::discover(dir);
                for chat in files {
                    let lines = gemini_lines(&chat.file.path);
                    add(
                        AgentFile::GeminiChat {
                            project_id: chat.project_id,
                            parent_session: chat.parent_session,
                            lines,
                        },
                        chat.file,
                    );
                }
                scan.warnings.extend(warnings);
            }
            Agent::Qwen => {
                let found = qwen::discover(dir);
                for file in found.files {
                    add(qwen_kind(file.kind), file.file);
                }
                scan.warnings.extend(found.warnings);
                scan.ignored += found.ignored;
            }
            Agent::OpenCode => {
                let found = opencode::discover(dir);
                for file in found.files {
                    let kind = opencode_kind(file.kind);
                    let found = match kind {
                        AgentFile::OpenCodeDb => with_wal(file.file),
                        _ => file.file,
                    };
                    add(kind, found);
                }
                scan.warnings.extend(found.warnings);
                scan.ignored += found.ignored;
            }
        }
    }

    fn classify(&self, path: &Path) -> Option<SourceKind> {
        let kind = match self.agent {
            Agent::Claude => return None,
            Agent::Codex => {
                let rest = path.strip_prefix(&self.dir).ok()?;
                let top = rest.iter().next()?;
                let name = path.file_name()?.to_str()?;
                let in_sessions = top == "sessions" || top == "archived_sessions";
                let rollout = name.starts_with("rollout-")
                    && (name.ends_with(".jsonl") || name.ends_with(".jsonl.zst"));
                if !(in_sessions && rollout) {
                    return None;
                }
                AgentFile::CodexRollout {
                    compressed: codex::is_compressed(path),
                }
            }
            Agent::Gemini => {
                let rest = path.strip_prefix(&self.dir).ok()?;
                let parts: Vec<&str> = rest.iter().map(|p| p.to_str()).collect::<Option<_>>()?;
                let (project_id, parent) = match parts.as_slice() {
                    ["tmp", project, "chats", _] => (project, None),
                    ["tmp", project, "chats", parent, _] => (project, Some(parent.to_string())),
                    _ => return None,
                };
                let name = path.file_name()?.to_str()?;
                if !(name.ends_with(".jsonl") || name.ends_with(".json")) {
                    return None;
                }
                AgentFile::GeminiChat {
                    project_id: project_id.to_string(),
                    parent_session: parent,
                    lines: gemini_lines(path),
                }
            }
            Agent::Qwen => qwen_kind(qwen::classify(&self.dir, path)?),
            Agent::OpenCode => opencode_kind(opencode::classify(&self.dir, path)?),
        };
        Some(SourceKind::Agent(kind))
    }

    fn read(&self, file: &SourceFile, from: &ReadFrom, max_file_bytes: u64) -> Reading {
        let SourceKind::Agent(kind) = &file.kind else {
            return misrouted(file);
        };
        let session = |read: std::io::Result<SessionRead>| match read {
            Ok(read) => Reading::Session(read),
            Err(e) => Reading::Unusable(format!("cannot read the file: {e}")),
        };
        match kind {
            AgentFile::CodexRollout { .. } => session(codex::read_rollout(
                &file.path,
                &from.position,
                max_file_bytes,
            )),
            AgentFile::GeminiChat { .. } => session(gemini::read_chat(
                &file.path,
                &from.position,
                max_file_bytes,
            )),
            AgentFile::QwenChat { .. } => {
                session(qwen::read_chat(&file.path, &from.position, max_file_bytes))
            }
            AgentFile::QwenTodo { session } => whole(file, max_file_bytes, |b| {
                let (named, todos) = qwen::parse_todo_file(b)?;
                Ok(Reading::Session(one_list(
                    named.unwrap_or_else(|| session.clone()),
                    todos,
                    file,
                )))
            }),
            AgentFile::OpenCodeTodo { session } => whole(file, max_file_bytes, |b| {
                let todos = opencode::parse_todo_json(b)?;
                Ok(Reading::Session(one_list(session.clone(), todos, file)))
            }),
            AgentFile::OpenCodeSession { .. } => whole(file, max_file_bytes, |b| {
                opencode::parse_session_info(b).map(Reading::SessionInfo)
            }),
            AgentFile::OpenCodeDb => {
                let cursor = match from.cursor.as_deref().map(serde_json::from_str) {
                    None => None,
                    Some(Ok(cursor)) => Some(cursor),
                    // A cursor this version cannot read: read everything again.
                    Some(Err(_)) => None,
                };
                match opencode::read_db(&file.path, cursor.as_ref()) {
                    Ok(read) => {
                        let stat_after = std::fs::metadata(&file.path).ok().map(|meta| {
                            let found = with_wal(FoundFile::from_meta(file.path.clone(), &meta));
                            (found.size, found.mtime_ms)
                        });
                        Reading::Database { read, stat_after }
                    }
                    Err(opencode::DbError::Empty { .. }) => Reading::WriteUnderWay,
                    // The caller names the file; the error does too.
                    Err(e) => {
                        let text = e.to_string();
                        let named = format!("{}: ", file.path.display());
                        Reading::Unusable(text.strip_prefix(&named).unwrap_or(&text).to_string())
                    }
                }
            }
        }
    }

    fn watch_folders(&self) -> Vec<(PathBuf, bool)> {
        self.folders()
    }
}

impl Other {
    fn folders(&self) -> Vec<(PathBuf, bool)> {
        let d = &self.dir;
        match self.agent {
            Agent::Claude => Vec::new(),
            Agent::Codex => vec![
                (d.join("sessions"), true),
                (d.join("archived_sessions"), true),
            ],
            Agent::Gemini => vec![(d.join("tmp"), true)],
            Agent::Qwen => vec![(d.join("todos"), false), (d.join("projects"), true)],
            // The database and its write-ahead log are in the folder itself.
            Agent::OpenCode => vec![
                (d.clone(), false),
                (d.join("storage/todo"), false),
                (d.join("storage/session"), true),
            ],
        }
    }
}

/// Every enabled agent's source, Claude Code first.
pub struct Sources {
    pub all: Vec<Box<dyn AgentSource>>,
}

impl Sources {
    /// Claude Code's folder alone (the other agents off).
    pub fn claude_only(dir: PathBuf) -> Sources {
        Sources {
            all: vec![Box::new(Claude { dir })],
        }
    }

    /// Claude Code's folder and the other agents' folders that are enabled.
    pub fn new(claude: PathBuf, others: Vec<(Agent, PathBuf)>) -> Sources {
        let mut all: Vec<Box<dyn AgentSource>> = vec![Box::new(Claude { dir: claude })];
        for (agent, dir) in others {
            if agent != Agent::Claude {
                all.push(Box::new(Other { agent, dir }));
            }
        }
        Sources { all }
    }

    /// Every source file of every agent, sorted by path.
    pub fn discover(&self) -> Discovery {
        let mut scan = Discovery::default();
        for source in &self.all {
            source.discover(&mut scan);
        }
        scan.files
            .sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
        scan
    }

    /// What the file at `path` is, whichever agent's it is.
    pub fn classify(&self, path: &Path) -> Option<SourceKind> {
        self.all.iter().find_map(|s| s.classify(path))
    }

    /// The source file at `path` with its size and mtime, if it is a source
    /// and a regular file. A missing file is `Err` with `NotFound`.
    pub fn stat(&self, path: &Path) -> std::io::Result<Option<SourceFile>> {
        let Some(kind) = self.classify(path) else {
            return Ok(None);
        };
        // A change to `opencode.db-wal` is a change to the database.
        let path = match kind {
            SourceKind::Agent(AgentFile::OpenCodeDb) => database_of(path),
            _ => path.to_path_buf(),
        };
        let meta = std::fs::metadata(&path)?;
        if !meta.is_file() {
            return Ok(None);
        }
        let found = FoundFile::from_meta(path, &meta);
        let found = match kind {
            SourceKind::Agent(AgentFile::OpenCodeDb) => with_wal(found),
            _ => found,
        };
        Ok(Some(SourceFile {
            path: found.path,
            kind,
            size: found.size,
            mtime_ms: found.mtime_ms,
        }))
    }

    /// Reads a changed file with the source it belongs to.
    pub fn read(&self, file: &SourceFile, from: &ReadFrom, max_file_bytes: u64) -> Reading {
        let agent = match &file.kind {
            SourceKind::Agent(kind) => kind.agent(),
            _ => Agent::Claude,
        };
        match self.all.iter().find(|s| s.agent() == agent) {
            Some(source) => source.read(file, from, max_file_bytes),
            None => Reading::Unusable(format!("the {agent} source is off")),
        }
    }

    /// The folders to watch, one per enabled agent.
    pub fn roots(&self) -> Vec<(Agent, PathBuf)> {
        self.all
            .iter()
            .map(|s| (s.agent(), s.root().to_path_buf()))
            .collect()
    }
}

fn qwen_kind(kind: qwen::QwenKind) -> AgentFile {
    match kind {
        qwen::QwenKind::TodoFile { session } => AgentFile::QwenTodo { session },
        qwen::QwenKind::Chat { session, .. } => AgentFile::QwenChat { session },
    }
}

fn opencode_kind(kind: opencode::OpenCodeKind) -> AgentFile {
    match kind {
        opencode::OpenCodeKind::Database => AgentFile::OpenCodeDb,
        opencode::OpenCodeKind::TodoFile { session } => AgentFile::OpenCodeTodo { session },
        opencode::OpenCodeKind::SessionInfo { session, .. } => {
            AgentFile::OpenCodeSession { session }
        }
    }
}

fn gemini_lines(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "jsonl")
}

/// `…/opencode.db-wal` or `-shm` → `…/opencode.db`.
fn database_of(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match name
        .strip_suffix("-wal")
        .or_else(|| name.strip_suffix("-shm"))
    {
        Some(db) => path.with_file_name(db),
        None => path.to_path_buf(),
    }
}

/// A database's stat, joined with its write-ahead log's: in WAL mode the
/// database file itself may not change for a long time while its log does.
fn with_wal(mut found: FoundFile) -> FoundFile {
    let mut wal = found.path.clone().into_os_string();
    wal.push("-wal");
    if let Ok(meta) = std::fs::metadata(PathBuf::from(wal)) {
        let wal = FoundFile::from_meta(PathBuf::new(), &meta);
        found.size += wal.size;
        found.mtime_ms = found.mtime_ms.max(wal.mtime_ms);
    }
    found
}

/// A whole-list file (Qwen's, OpenCode's older ones) as a session's read:
/// its list, as of the file's mtime.
fn one_list(session: String, todos: TodoList, file: &SourceFile) -> SessionRead {
    let at = chittysync_core::Timestamp(file.mtime_ms);
    SessionRead {
        session: Some(session),
        first_at: Some(at),
        last_at: Some(at),
        plans: vec![crate::agents::PlanWrite {
            line: None,
            at,
            session: None,
            todos,
        }],
        ..SessionRead::default()
    }
}

/// Reads a small whole file and parses it.
fn whole(
    file: &SourceFile,
    max_file_bytes: u64,
    parse: impl FnOnce(&[u8]) -> Result<Reading, ParseError>,
) -> Reading {
    match read_limited(&file.path, max_file_bytes) {
        Ok(bytes) => match parse(&bytes) {
            Ok(reading) => reading,
            Err(ParseError::Empty) => Reading::WriteUnderWay,
            Err(e) => Reading::Unusable(e.to_string()),
        },
        Err(e @ ReadError::TooLarge { .. }) => Reading::Unusable(format!(
            "refused: {e} (`max_file_bytes` under `[limits]` in config.toml)"
        )),
        Err(ReadError::Io(io)) => Reading::Unusable(format!("cannot read the file: {io}")),
    }
}

/// A file handed to a source that does not read its kind: a bug, reported.
fn misrouted(file: &SourceFile) -> Reading {
    Reading::Unusable(format!("no reader for a {:?}", file.kind))
}
