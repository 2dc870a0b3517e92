//! Synthetic Claude Code folders, and homes of every agent, for benchmarks
//! and tests.
//!
//! [`generate`] writes, into an empty folder, what `~/.claude` looks like after
//! thousands of sessions (docs/SOURCES.md, "Claude Code"): `todos/<session>-agent-<agent>.json` files
//! (about half of them `[]`, the rest 3–9 todos in the 2.x shape or the old
//! 1.0.x shape), `tasks/<session>/<N>.json` task lists with their `.lock` and
//! `.highwatermark`, and `projects/<folder>/<session>.jsonl` transcripts (with
//! sub-agent transcripts under `<session>/subagents/`) whose `TodoWrite`,
//! `TaskCreate` and `TaskUpdate` calls are the history of those files, amid
//! the Read/Bash/Edit results that make up most of a real transcript's bytes.
//!
//! Sessions of one project share a good part of their todo texts (sometimes
//! with different case or spacing) in different states, so deduplication and
//! conflicts occur as they do on a real machine.
//!
//! With other agents in [`CorpusSpec::agents`], [`generate_home`] spreads the
//! sessions across them and writes a user's home: each agent's records in its
//! own format under its own folder (docs/SOURCES.md), in the same projects and with
//! the same shared todo texts as Claude Code's sessions.
//!
//! The output is a pure function of the [`CorpusSpec`]: same spec, same bytes and
//! same mtimes, on every machine and with any number of threads.
//!
//! [`touch_one_todo_file`] and [`append_transcript_line`] make the changes that
//! incremental benchmarks measure: one todo file rewritten with one status
//! changed, one line appended to one transcript.

#![forbid(unsafe_code)]

mod agents;
mod claude;
mod home;
pub mod json;
mod payload;
pub mod rng;
mod words;

use anyhow::{bail, Context, Result};
use rand::Rng as _;
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use walkdir::WalkDir;

pub use agents::parse_agents;
pub use chittysync_sources::agents::Agent;
pub use claude::{WINDOW_END_MS, WINDOW_START_MS};
pub use home::{agent_dir, HomeStats};
pub use words::folder_of_cwd;

/// How much transcript to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TranscriptSize {
    /// No `projects/` transcripts at all (todo and task files only).
    None,
    /// About 10–15 KB per session: of each list the first, a middle and the last
    /// write (the last is the todo file's state), with a few small tool calls.
    #[default]
    Small,
    /// Heavy-tailed sizes adding up to about `target_total_bytes`, most of it
    /// large tool results (file contents, command output) and few plan writes.
    Realistic { target_total_bytes: u64 },
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusSpec {
    pub sessions: usize,
    pub seed: u64,
    pub transcripts: TranscriptSize,
    /// Number of projects (distinct cwds); 0 means the default,
    /// `max(4, sessions / 40)`.
    pub projects: usize,
    /// The agents the sessions are spread across (evenly, each session's
    /// agent drawn from its own stream). `[Claude]`, the default, writes a
    /// Claude Code folder; anything else a home holding each agent's folder
    /// (see [`generate_home`]).
    pub agents: Vec<Agent>,
}

impl CorpusSpec {
    /// `sessions` sessions from `seed`, small transcripts, the default project count.
    pub fn new(sessions: usize, seed: u64) -> CorpusSpec {
        CorpusSpec {
            sessions,
            seed,
            transcripts: TranscriptSize::Small,
            projects: default_projects(sessions),
            agents: vec![Agent::Claude],
        }
    }

    pub fn with_agents(mut self, agents: Vec<Agent>) -> CorpusSpec {
        self.agents = agents;
        self
    }

    /// Whether the spec is Claude Code's alone (a `.claude` folder, not a home).
    pub fn claude_only(&self) -> bool {
        self.agents == [Agent::Claude]
    }

    pub fn with_transcripts(mut self, transcripts: TranscriptSize) -> CorpusSpec {
        self.transcripts = transcripts;
        self
    }

    pub fn with_projects(mut self, projects: usize) -> CorpusSpec {
        self.projects = projects;
        self
    }

    pub(crate) fn effective_projects(&self) -> usize {
        if self.projects == 0 {
            default_projects(self.sessions)
        } else {
            self.projects
        }
    }
}

impl Default for CorpusSpec {
    fn default() -> Self {
        CorpusSpec::new(1000, 1)
    }
}

/// The default number of projects for a number of sessions: `max(4, sessions / 40)`.
pub fn default_projects(sessions: usize) -> usize {
    (sessions / 40).max(4)
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CorpusStats {
    pub sessions: u64,
    /// Every file written (todo, task, `.lock`, `.highwatermark`, transcripts).
    pub files: u64,
    pub todo_files: u64,
    /// Todo files holding `[]`.
    pub empty_todo_files: u64,
    /// `tasks/<list>/<N>.json` files (not counting `.lock` and `.highwatermark`).
    pub task_files: u64,
    /// Main and sub-agent transcripts.
    pub transcripts: u64,
    /// Todos in todo files (not counting transcripts or task files).
    pub raw_todos: u64,
    /// Bytes of every file written.
    pub bytes: u64,
    /// Bytes of the transcripts alone.
    pub transcript_bytes: u64,
}

impl std::ops::AddAssign for CorpusStats {
    fn add_assign(&mut self, o: CorpusStats) {
        self.sessions += o.sessions;
        self.files += o.files;
        self.todo_files += o.todo_files;
        self.empty_todo_files += o.empty_todo_files;
        self.task_files += o.task_files;
        self.transcripts += o.transcripts;
        self.raw_todos += o.raw_todos;
        self.bytes += o.bytes;
        self.transcript_bytes += o.transcript_bytes;
    }
}

/// Writes a synthetic Claude Code folder into `dir`, which must be missing or
/// empty; or, when the spec names other agents than Claude Code, a home
/// holding each agent's folder (as [`generate_home`], whose totals it returns).
pub fn generate(dir: &Path, spec: &CorpusSpec) -> Result<CorpusStats> {
    ensure_empty(dir)?;
    if !spec.claude_only() {
        return Ok(home::write(dir, spec)?.total);
    }
    let world = claude::World::new(spec);
    let mut sessions: Vec<_> = (0..spec.sessions)
        .into_par_iter()
        .map(|i| world.plan(i))
        .collect();
    world.assign_budgets(&mut sessions);
    write_claude(dir, &world, &sessions)
}

/// Writes a user's home into `root` (missing or empty): the spec's sessions
/// spread across its agents, each agent's under its own folder —
/// `.claude/{todos,tasks,projects}`, `.codex/sessions/YYYY/MM/DD/rollout-…jsonl`
/// (some `.jsonl.zst`), `.gemini/tmp/<project>/chats/session-….jsonl` with
/// `.gemini/projects.json`, `.qwen/projects/<folder>/chats/<session>.jsonl` and
/// `.qwen/todos/<session>.json`, `.local/share/opencode/opencode.db`. The
/// sessions of every agent share the projects (cwds) and the projects' todo
/// texts. Same spec, same bytes.
pub fn generate_home(root: &Path, spec: &CorpusSpec) -> Result<HomeStats> {
    ensure_empty(root)?;
    home::write(root, spec)
}

fn ensure_empty(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: the corpus is written into a new or empty folder only",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Writes planned Claude Code sessions into the Claude folder `dir`.
pub(crate) fn write_claude(
    dir: &Path,
    world: &claude::World,
    sessions: &[claude::Session],
) -> Result<CorpusStats> {
    for sub in ["todos", "projects"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
    }
    for folder in world.project_folders(sessions) {
        let p = dir.join("projects").join(folder);
        std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
    }
    let stats = sessions.par_iter().map(|s| world.emit(dir, s)).try_reduce(
        CorpusStats::default,
        |mut a, b| {
            a += b;
            Ok(a)
        },
    )?;
    Ok(stats)
}

/// Parses a size such as `1G`, `500M`, `64k`, `1.5GB`, `2GiB` or `12345`
/// (binary units: `1K` = 1024).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num
        .replace('_', "")
        .parse()
        .with_context(|| format!("`{text}` is not a size (try 1G, 500M, 64K)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => bail!("`{text}`: unknown size unit `{other}` (use K, M, G or T)"),
    };
    if num < 0.0 || !num.is_finite() {
        bail!("`{text}` is not a size");
    }
    Ok((num * mult as f64) as u64)
}

/// The `.{ext}` files `depth` folders below `root` whose path passes `keep`,
/// sorted; none when `root` is missing.
fn files_below(
    root: &Path,
    depth: usize,
    ext: &str,
    keep: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in WalkDir::new(root).min_depth(depth).max_depth(depth) {
        let entry = entry.with_context(|| format!("reading {}", root.display()))?;
        let path = entry.path();
        if entry.file_type().is_file() && path.extension().is_some_and(|e| e == ext) && keep(path) {
            out.push(entry.into_path());
        }
    }
    out.sort();
    Ok(out)
}

/// The files under `<dir>/todos/`, sorted.
pub fn todo_files(dir: &Path) -> Result<Vec<PathBuf>> {
    files_below(&dir.join("todos"), 1, "json", |_| true)
}

/// The main-session transcripts `<dir>/projects/<folder>/<session>.jsonl`, sorted.
pub fn transcript_files(dir: &Path) -> Result<Vec<PathBuf>> {
    files_below(&dir.join("projects"), 2, "jsonl", |_| true)
}

/// The sub-agent transcripts `<dir>/projects/<folder>/<session>/subagents/agent-*.jsonl`, sorted.
pub fn subagent_transcript_files(dir: &Path) -> Result<Vec<PathBuf>> {
    files_below(&dir.join("projects"), 4, "jsonl", |p| {
        p.parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "subagents")
    })
}

/// What [`touch_one_todo_file`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchedTodo {
    pub path: PathBuf,
    /// The session part of the file name (before `-agent-`).
    pub session: String,
    /// The changed todo's content.
    pub content: String,
    pub old_status: String,
    pub new_status: String,
    /// The file's new mtime: one second after the old one, or now if later.
    pub mtime: SystemTime,
}

/// Rewrites one todo file (chosen by `seed` among the non-empty ones) with one
/// status advanced — `pending` → `in_progress` or `in_progress` → `completed` —
/// the rest byte for byte as before, and bumps its mtime. Written in place, as
/// Claude Code does.
pub fn touch_one_todo_file(dir: &Path, seed: u64) -> Result<TouchedTodo> {
    let files = todo_files(dir)?;
    if files.is_empty() {
        bail!("{}: no todo files", dir.join("todos").display());
    }
    let mut rng = rng::stream(seed, 0x7001, 0);
    let start = rng.random_range(0..files.len());
    for k in 0..files.len() {
        let path = &files[(start + k) % files.len()];
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(serde_json::Value::Array(items)) = serde_json::from_str(&text) else {
            continue;
        };
        let Some(idx) = items.iter().position(|i| {
            matches!(
                i.get("status").and_then(|s| s.as_str()),
                Some("pending" | "in_progress")
            )
        }) else {
            continue;
        };
        let content = items[idx]
            .get("content")
            .and_then(|c| c.as_str())
            .unwrap_or_default()
            .to_string();
        let old_status = items[idx]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let new_status = if old_status == "pending" {
            "in_progress"
        } else {
            "completed"
        };
        // Replace the idx-th `"status": "…"` (every item has exactly one).
        let needle = "\"status\": \"";
        let Some((pos, _)) = text.match_indices(needle).nth(idx) else {
            continue;
        };
        let value_start = pos + needle.len();
        let value_end = value_start + old_status.len();
        if text.get(value_start..value_end) != Some(old_status.as_str()) {
            continue;
        }
        let new_text = format!(
            "{}{}{}",
            &text[..value_start],
            new_status,
            &text[value_end..]
        );
        let old_mtime = std::fs::metadata(path)?.modified()?;
        let bumped = old_mtime + std::time::Duration::from_secs(1);
        let mtime = bumped.max(SystemTime::now());
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        std::io::Write::write_all(&mut f, new_text.as_bytes())?;
        f.set_modified(mtime)?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let session = name.split("-agent-").next().unwrap_or(name).to_string();
        return Ok(TouchedTodo {
            path: path.clone(),
            session,
            content,
            old_status,
            new_status: new_status.to_string(),
            mtime,
        });
    }
    bail!(
        "{}: no todo file with an open todo",
        dir.join("todos").display()
    )
}

/// A todo as a `TodoWrite` call writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TodoItem {
    pub content: String,
    pub status: String,
    #[serde(rename = "activeForm")]
    pub active_form: String,
}

impl TodoItem {
    pub fn new(content: &str, status: &str, active_form: &str) -> TodoItem {
        TodoItem {
            content: content.to_string(),
            status: status.to_string(),
            active_form: active_form.to_string(),
        }
    }
}

/// The line [`append_transcript_line`] appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendKind {
    /// An assistant `TodoWrite` call with this whole list.
    TodoWrite(Vec<TodoItem>),
    /// An assistant text line: no plan, to measure what skipping costs.
    Text(String),
}

/// What [`append_transcript_line`] appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedLine {
    pub path: PathBuf,
    pub session: String,
    /// Set for a sub-agent transcript.
    pub agent_id: Option<String>,
    /// The line's `timestamp`: one second after the transcript's last line.
    pub timestamp: String,
    /// The line, without its newline.
    pub line: String,
    /// Bytes appended (with the newline).
    pub bytes: u64,
}

/// Appends one complete line to a transcript, continuing its session (same
/// sessionId, cwd, version, branch, agent; parentUuid = the last line's uuid;
/// timestamp one second after the last line's), and sets the file's mtime to it.
pub fn append_transcript_line(path: &Path, kind: &AppendKind) -> Result<AppendedLine> {
    claude::append_line(path, kind)
}

/// Appends a `TodoWrite` line with three new todos (their texts depend on
/// `seed`: the first completed, the second in progress, the third pending) to
/// one main transcript chosen by `seed`.
pub fn append_one_transcript_line(dir: &Path, seed: u64) -> Result<AppendedLine> {
    let files = transcript_files(dir)?;
    if files.is_empty() {
        bail!("{}: no transcripts", dir.join("projects").display());
    }
    let mut rng = rng::stream(seed, 0x7002, 0);
    let path = &files[rng.random_range(0..files.len())];
    append_transcript_line(path, &AppendKind::TodoWrite(appended_todos(seed)))
}

/// The todos [`append_one_transcript_line`] writes for `seed`.
pub fn appended_todos(seed: u64) -> Vec<TodoItem> {
    vec![
        TodoItem::new(
            &format!("Reproduce benchmark issue {seed}"),
            "completed",
            &format!("Reproducing benchmark issue {seed}"),
        ),
        TodoItem::new(
            &format!("Fix benchmark issue {seed}"),
            "in_progress",
            &format!("Fixing benchmark issue {seed}"),
        ),
        TodoItem::new(
            &format!("Add a regression test for benchmark issue {seed}"),
            "pending",
            &format!("Adding a regression test for benchmark issue {seed}"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("500M").unwrap(), 500 << 20);
        assert_eq!(parse_size("64k").unwrap(), 64 << 10);
        assert_eq!(parse_size("1.5GB").unwrap(), 3 << 29);
        assert_eq!(parse_size("12345").unwrap(), 12345);
        assert!(parse_size("12X").is_err());
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn default_projects_rule() {
        assert_eq!(default_projects(10), 4);
        assert_eq!(default_projects(20_000), 500);
        assert_eq!(CorpusSpec::new(400, 1).projects, 10);
    }
}
