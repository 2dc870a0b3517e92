//! Finding the source files under the Claude Code folder, by name and stat only.
//!
//! Discovery runs on every consolidation and every daemon rescan, over tens of
//! thousands of files, so it reads directories and stats entries — nothing
//! else. Whether a file changed is the caller's question (size and mtime).
//! With nothing changed, those stats are the whole cost of a run, so the
//! folders and files are stat'ed on every core (docs/ARCHITECTURE.md, "A
//! re-run with nothing changed"); the result does not depend on the order.

use crate::error::Warning;
use rayon::prelude::*;
use std::fs::{self, DirEntry, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// What a scan of the Claude Code folder found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Sorted by path (byte order), so every run sees the files in the same order.
    pub files: Vec<SourceFile>,
    /// Folders that could not be read, entries that could not be stat'ed.
    pub warnings: Vec<Warning>,
    /// Entries of the source folders that are not sources (other tools' files,
    /// Claude Code's lock files, stray folders). Counted, not warned about.
    pub ignored: usize,
}

/// One source file and what its stat said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub kind: SourceKind,
    pub size: u64,
    /// Modification time in milliseconds since the Unix epoch.
    pub mtime_ms: i64,
}

/// Which kind of source a file is, and what its path says about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// `todos/<session>-agent-<agent>.json` (or `todos/<session>.json`: agent = None).
    /// When agent == session, agent = None: it is the main agent.
    TodoFile {
        session: String,
        agent: Option<String>,
    },
    /// `tasks/<list>/<task_id>.json`
    TaskFile { list: String, task_id: String },
    /// `projects/<folder>/<session>.jsonl` (agent None), or a sub-agent's
    /// `projects/<folder>/<session>/subagents/agent-<agent>.jsonl`.
    ///
    /// Claude Code 2.0.x wrote sub-agents beside the session instead, as
    /// `projects/<folder>/agent-<agent>.jsonl`; their name does not say the
    /// session, so `session` is the file stem (`agent-<agent>`) and the real
    /// one is [`crate::SessionFacts::session_id`] (those lines carry the
    /// parent's `sessionId`).
    Transcript {
        folder: String,
        session: String,
        agent: Option<String>,
    },
    /// A record of another agent (docs/SOURCES.md), under that agent's folder.
    Agent(crate::source::AgentFile),
}

/// Lists the source files under `claude_dir` (the `~/.claude` folder).
///
/// Never fails: a missing Claude Code folder is one warning; missing `todos/`,
/// `tasks/` or `projects/` folders are normal (a fresh install); an unreadable
/// folder is a warning naming it, and the rest is still scanned.
pub fn discover(claude_dir: &Path) -> Discovery {
    let mut scan = Discovery::default();
    match fs::metadata(claude_dir) {
        Ok(meta) if meta.is_dir() => {
            scan_todos(&claude_dir.join("todos"), &mut scan);
            scan_tasks(&claude_dir.join("tasks"), &mut scan);
            scan_projects(&claude_dir.join("projects"), &mut scan);
            // Byte order: `Path`'s own order re-parses components on every
            // comparison, which made sorting dominate a 40,000-file scan.
            scan.files
                .sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
        }
        Ok(_) => scan.warn(claude_dir, "the Claude Code folder is not a folder"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            scan.warn(claude_dir, "the Claude Code folder does not exist")
        }
        Err(e) => scan.warn(
            claude_dir,
            format!("cannot read the Claude Code folder: {e}"),
        ),
    }
    scan
}

impl Discovery {
    fn warn(&mut self, path: &Path, message: impl Into<String>) {
        self.warnings.push(Warning::new(path, message));
    }

    /// The entries of `dir`; nothing (and no warning) if it does not exist.
    fn entries(&mut self, dir: &Path) -> Vec<DirEntry> {
        let reader = match fs::read_dir(dir) {
            Ok(reader) => reader,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => {
                self.warn(dir, format!("cannot read folder: {e}"));
                return Vec::new();
            }
        };
        let mut entries = Vec::new();
        for entry in reader {
            match entry {
                Ok(entry) => entries.push(entry),
                Err(e) => self.warn(dir, format!("cannot list folder: {e}")),
            }
        }
        entries
    }

    /// The entry's metadata, following a symbolic link. `None` for an entry
    /// that vanished since it was listed (Claude Code's writes rename temp
    /// files), silently, and for one that cannot be stat'ed, with a warning.
    fn stat(&mut self, entry: &DirEntry) -> Option<Metadata> {
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        let meta = if is_link {
            fs::metadata(entry.path())
        } else {
            entry.metadata()
        };
        match meta {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !is_link => None,
            Err(e) => {
                self.warn(&entry.path(), format!("cannot stat: {e}"));
                None
            }
        }
    }

    /// Whether the entry is a folder (following a symbolic link), without a
    /// stat for plain entries: the directory listing already says.
    fn is_dir(&mut self, entry: &DirEntry) -> bool {
        match entry.file_type() {
            Ok(t) if t.is_symlink() => self.stat(entry).is_some_and(|m| m.is_dir()),
            Ok(t) => t.is_dir(),
            Err(_) => self.stat(entry).is_some_and(|m| m.is_dir()),
        }
    }

    /// Adds the entry if it is a regular file; a folder with a source's name is ignored.
    fn add(&mut self, entry: &DirEntry, kind: SourceKind) {
        let Some(meta) = self.stat(entry) else {
            return;
        };
        if !meta.is_file() {
            self.ignored += 1;
            return;
        }
        self.files.push(SourceFile {
            path: entry.path(),
            kind,
            size: meta.len(),
            mtime_ms: mtime_ms(&meta),
        });
    }
}

fn mtime_ms(meta: &Metadata) -> i64 {
    match meta.modified() {
        Ok(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        },
        Err(_) => 0,
    }
}

/// The entry's name if it is UTF-8 and not hidden. Hidden files are editors'
/// and tools' bookkeeping (`.lock`, `.highwatermark`, `.DS_Store`), and
/// session ids, task numbers and folders are never hidden.
fn visible_name(entry: &DirEntry) -> Option<String> {
    let name = entry.file_name().into_string().ok()?;
    (!name.starts_with('.')).then_some(name)
}

/// `<session>-agent-<agent>` → (session, agent); agent None when absent, empty
/// or equal to the session (the main agent's file).
fn split_todo_name(stem: &str) -> (&str, Option<&str>) {
    match stem.split_once("-agent-") {
        Some((session, agent)) if !agent.is_empty() && agent != session => (session, Some(agent)),
        Some((session, _)) => (session, None),
        None => (stem, None),
    }
}

/// How many entries of one folder a thread stats at a time.
const STAT_CHUNK: usize = 256;

/// Runs `each` over `items` on every core, a part of the scan for each chunk,
/// and adds the parts to `scan` in the order of `items` (so warnings come
/// out in the same order as a scan on one thread would give).
fn in_parallel<T: Sync>(
    items: &[T],
    chunk: usize,
    scan: &mut Discovery,
    each: impl Fn(&T, &mut Discovery) + Sync,
) {
    let parts: Vec<Discovery> = items
        .par_chunks(chunk.max(1))
        .map(|items| {
            let mut part = Discovery::default();
            for item in items {
                each(item, &mut part);
            }
            part
        })
        .collect();
    for part in parts {
        scan.files.extend(part.files);
        scan.warnings.extend(part.warnings);
        scan.ignored += part.ignored;
    }
}

fn scan_todos(dir: &Path, scan: &mut Discovery) {
    let entries = scan.entries(dir);
    in_parallel(
        &entries,
        STAT_CHUNK,
        scan,
        |entry, part| match visible_name(entry).as_deref().and_then(todo_kind) {
            Some(kind) => part.add(entry, kind),
            None => part.ignored += 1,
        },
    );
}

/// What a file named `name` in `todos/` is. Every visible file is a
/// candidate, not only `*.json`: docs/SOURCES.md, "Claude Code" wants other tools' files here
/// (`notes.md`, `run.sh`) named in a warning when they are first seen, like
/// any file that is not a list of todos.
fn todo_kind(name: &str) -> Option<SourceKind> {
    let stem = name.strip_suffix(".json").unwrap_or(name);
    let (session, agent) = split_todo_name(stem);
    (!session.is_empty()).then(|| SourceKind::TodoFile {
        session: session.to_string(),
        agent: agent.map(str::to_string),
    })
}

/// What a file named `name` in `tasks/<list>/` is.
fn task_kind(list: &str, name: &str) -> Option<SourceKind> {
    let task_id = name.strip_suffix(".json")?;
    Some(SourceKind::TaskFile {
        list: list.to_string(),
        task_id: task_id.to_string(),
    })
}

/// What a file named `name` in `projects/<folder>/` is: a session's
/// transcript, or (Claude Code 2.0.x) a sub-agent's beside it.
fn transcript_kind(folder: &str, name: &str) -> Option<SourceKind> {
    let session = name.strip_suffix(".jsonl")?;
    let agent = session
        .strip_prefix("agent-")
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    Some(SourceKind::Transcript {
        folder: folder.to_string(),
        session: session.to_string(),
        agent,
    })
}

/// What a file named `name` in `projects/<folder>/<session>/subagents/` is.
fn subagent_kind(folder: &str, session: &str, name: &str) -> Option<SourceKind> {
    let agent = name
        .strip_prefix("agent-")?
        .strip_suffix(".jsonl")
        .filter(|a| !a.is_empty())?;
    Some(SourceKind::Transcript {
        folder: folder.to_string(),
        session: session.to_string(),
        agent: Some(agent.to_string()),
    })
}

/// Which source the file at `path` is, by its place under `claude_dir` and its
/// name alone — the same answer [`discover`] gives — or `None` for a file that
/// is not a source. For a watcher that knows which paths changed.
pub fn classify(claude_dir: &Path, path: &Path) -> Option<SourceKind> {
    let parts: Vec<&str> = path
        .strip_prefix(claude_dir)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    if parts.iter().any(|p| p.starts_with('.')) {
        return None;
    }
    match parts.as_slice() {
        ["todos", name] => todo_kind(name),
        ["tasks", list, name] => task_kind(list, name),
        ["projects", folder, name] => transcript_kind(folder, name),
        ["projects", folder, session, "subagents", name] => subagent_kind(folder, session, name),
        _ => None,
    }
}

/// The source file at `path` with its size and mtime, if it is a source and a
/// regular file. A missing file is `Err` with `NotFound`.
pub fn stat_source(claude_dir: &Path, path: &Path) -> io::Result<Option<SourceFile>> {
    let Some(kind) = classify(claude_dir, path) else {
        return Ok(None);
    };
    let meta = fs::metadata(path)?;
    Ok(meta.is_file().then(|| SourceFile {
        path: path.to_path_buf(),
        kind,
        size: meta.len(),
        mtime_ms: mtime_ms(&meta),
    }))
}

/// How many folders (task lists, project folders) a thread scans at a time.
const FOLDER_CHUNK: usize = 32;

fn scan_tasks(dir: &Path, scan: &mut Discovery) {
    let lists = scan.entries(dir);
    in_parallel(&lists, FOLDER_CHUNK, scan, |list_entry, scan| {
        let list = visible_name(list_entry);
        let Some(list) = list.filter(|_| scan.is_dir(list_entry)) else {
            scan.ignored += 1;
            return;
        };
        for entry in scan.entries(&list_entry.path()) {
            match visible_name(&entry).and_then(|name| task_kind(&list, &name)) {
                Some(kind) => scan.add(&entry, kind),
                None => scan.ignored += 1,
            }
        }
    });
}

fn scan_projects(dir: &Path, scan: &mut Discovery) {
    let folders = scan.entries(dir);
    in_parallel(&folders, 1, scan, scan_project_folder);
}

fn scan_project_folder(folder_entry: &DirEntry, scan: &mut Discovery) {
    let folder = visible_name(folder_entry);
    let Some(folder) = folder.filter(|_| scan.is_dir(folder_entry)) else {
        scan.ignored += 1;
        return;
    };
    for entry in scan.entries(&folder_entry.path()) {
        let Some(name) = visible_name(&entry) else {
            scan.ignored += 1;
            continue;
        };
        if scan.is_dir(&entry) {
            // A session's own folder: only `subagents/` holds transcripts
            // (others, like `tool-results/`, are not counted as ignored:
            // they are Claude Code's, not stray files in a source folder).
            scan_subagents(&entry.path().join("subagents"), &folder, &name, scan);
        } else if let Some(kind) = transcript_kind(&folder, &name) {
            scan.add(&entry, kind);
        } else {
            scan.ignored += 1;
        }
    }
}

fn scan_subagents(dir: &Path, folder: &str, session: &str, scan: &mut Discovery) {
    for entry in scan.entries(dir) {
        match visible_name(&entry).and_then(|name| subagent_kind(folder, session, &name)) {
            Some(kind) => scan.add(&entry, kind),
            None => scan.ignored += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_names() {
        assert_eq!(split_todo_name("s1-agent-a1"), ("s1", Some("a1")));
        assert_eq!(split_todo_name("s1-agent-s1"), ("s1", None));
        assert_eq!(split_todo_name("s1"), ("s1", None));
        assert_eq!(split_todo_name("s1-agent-"), ("s1", None));
        assert_eq!(split_todo_name("-agent-a"), ("", Some("a")));
    }

    #[test]
    fn classify_agrees_with_the_names_discovery_reads() {
        let c = Path::new("/c");
        let kind = |p: &str| classify(c, &c.join(p));
        assert_eq!(
            kind("todos/s1-agent-a1.json"),
            Some(SourceKind::TodoFile {
                session: "s1".into(),
                agent: Some("a1".into())
            })
        );
        assert_eq!(
            kind("tasks/team/7.json"),
            Some(SourceKind::TaskFile {
                list: "team".into(),
                task_id: "7".into()
            })
        );
        assert_eq!(
            kind("projects/f/s1/subagents/agent-x.jsonl"),
            Some(SourceKind::Transcript {
                folder: "f".into(),
                session: "s1".into(),
                agent: Some("x".into())
            })
        );
        assert_eq!(
            kind("projects/f/agent-y.jsonl"),
            Some(SourceKind::Transcript {
                folder: "f".into(),
                session: "agent-y".into(),
                agent: Some("y".into())
            })
        );
        for not_a_source in [
            "tasks/team/.lock",
            "todos/.x.json",
            "projects/f/s1/tool-results/a.txt",
            "settings.json",
        ] {
            assert_eq!(kind(not_a_source), None, "{not_a_source}");
        }
        assert_eq!(classify(c, Path::new("/elsewhere/todos/a.json")), None);
    }
}
