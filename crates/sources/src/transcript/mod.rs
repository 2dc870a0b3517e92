//! Session transcripts (`projects/<folder>/<session>.jsonl`), read incrementally.
//!
//! A transcript is appended to for as long as its session runs and can reach
//! gigabytes, yet only a few of its lines are plans. So it is read from where
//! the last read stopped, in large chunks, and each line is first tested with
//! cheap substring searches; only the few that can hold a plan are parsed as
//! JSON, by a typed parse that borrows the strings it reads and builds
//! nothing of the rest (`line.rs`, `crate::loose`). Session facts (cwd,
//! branch, times) come from a handful of lines per chunk, not from parsing
//! every line.

mod events;
mod facts;
mod line;
mod scan;
mod tool_call;

pub use tool_call::{is_plan_tool, read_tool_call, ToolCall};

use crate::error::Warning;
use crate::lines::{LineFile, LineSink};
use chittysync_core::{Status, Timestamp};
use scan::{Parse, Scanner};
use std::io;
use std::path::Path;

pub use crate::lines::{HeadMark, ReadPosition};

use crate::todo_file::RawTodo;

/// What one read of a transcript found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptChunk {
    /// The file is not the one the position was taken from (it shrank below
    /// the stored offset, its first bytes changed, or the stored offset no
    /// longer follows a newline): it was read from the start, and what was
    /// known from it before should be read again.
    pub restarted: bool,
    /// Just after the last complete line. A partial last line (being written)
    /// is left for next time.
    pub end: ReadPosition,
    /// Bytes consumed by this read (`end.offset` minus where it started).
    pub bytes_read: u64,
    /// Facts about the session from the lines of this chunk.
    pub session: SessionFacts,
    pub events: Vec<TranscriptEvent>,
    /// Lines that could not be read (corrupt, too long, malformed plan calls),
    /// each with the path and its 1-based line number. They never stop the read.
    pub warnings: Vec<Warning>,
}

/// What the lines of a chunk say about their session.
///
/// Only top-level fields of a line count (a value nested in a tool result is
/// not the session's). An empty `cwd`, `gitBranch` or `version` (Claude Code
/// writes `"gitBranch":""` outside git) reads as unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFacts {
    /// The last `sessionId` seen (for 2.0.x `agent-<id>.jsonl` files, the only
    /// place that names the session).
    pub session_id: Option<String>,
    /// The first `cwd` of the chunk: the folder the session was started in
    /// when the chunk starts the file (docs/DESIGN.md, "Projects").
    pub cwd: Option<String>,
    /// The last `gitBranch` seen.
    pub git_branch: Option<String>,
    /// The earliest line `timestamp` seen (the first timed line, and plan lines).
    pub first_at: Option<Timestamp>,
    /// The latest line `timestamp` seen (the last timed line, and plan lines).
    pub last_at: Option<Timestamp>,
    /// The last Claude Code `version` seen.
    pub version: Option<String>,
    /// The model of the chunk's first assistant line (`message.model`),
    /// when it names a real one (`<synthetic>` lines do not).
    pub model: Option<String>,
}

/// A plan-related tool call (or its result) found on a transcript line.
///
/// `line` is the 1-based line number; `at` the line's `timestamp`. `agent` is
/// the line's `agentId`, else the sub-agent the file belongs to, else — for a
/// 1.0.x sidechain line (`"isSidechain":true` in the main transcript, no
/// `agentId`) — `"sidechain"`, else None (the session's main agent). An
/// `agentId` equal to the line's `sessionId` is the main agent (None), as in
/// todo file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptEvent {
    /// `TodoWrite`: the agent's whole list at that moment.
    TodoWrite {
        line: u64,
        at: Timestamp,
        agent: Option<String>,
        todos: Vec<RawTodo>,
        skipped_entries: usize,
        unknown_statuses: usize,
    },
    /// `TaskCreate`. Its task id is not known yet: see [`TranscriptEvent::TaskCreated`].
    TaskCreate {
        line: u64,
        at: Timestamp,
        agent: Option<String>,
        tool_use_id: String,
        subject: String,
        description: Option<String>,
        active_form: Option<String>,
    },
    /// A tool result carrying `toolUseResult.task.id`: the id of the task that
    /// the call `tool_use_id` created. Pair it with the `TaskCreate` of the same
    /// `tool_use_id` (possibly read in an earlier chunk). Other task tools whose
    /// result carries a `task` object (e.g. `TaskGet`) produce this too; they
    /// pair with no `TaskCreate` and are to be ignored.
    TaskCreated {
        line: u64,
        at: Timestamp,
        tool_use_id: String,
        task_id: String,
    },
    /// `TaskUpdate`; `status` is None when the call did not change it. An
    /// unknown status reads as pending, with a warning. Changes the model does
    /// not track (`description`, `owner`, `addBlocks`…) are not carried.
    TaskUpdate {
        line: u64,
        at: Timestamp,
        agent: Option<String>,
        task_id: String,
        status: Option<Status>,
        subject: Option<String>,
        active_form: Option<String>,
    },
    /// `TaskDelete`.
    TaskDelete {
        line: u64,
        at: Timestamp,
        agent: Option<String>,
        task_id: String,
    },
}

/// Reads the complete lines of the transcript at `path` after `from`.
///
/// Lines longer than `max_line_bytes` are skipped with a warning (without
/// being held in memory whole). Only the bytes present when the read starts
/// are read, so a file being appended to is read up to a consistent point.
/// The sub-agent of a file named `agent-<id>.jsonl` is taken from its name.
///
/// Errors are the operating system's (not found, permission denied); bad
/// content is never an error, only warnings.
pub fn read_transcript(
    path: &Path,
    from: &ReadPosition,
    max_line_bytes: u64,
) -> io::Result<TranscriptChunk> {
    read(path, from, max_line_bytes, Parse::Typed)
}

/// [`read_transcript`] parsing every line that can hold a plan into a
/// `serde_json::Value`, as the reader did before its typed parse: the
/// reference the typed parse is checked against
/// (crates/sources/tests/transcript_typed.rs). Not for use otherwise.
#[doc(hidden)]
pub fn read_transcript_by_values(
    path: &Path,
    from: &ReadPosition,
    max_line_bytes: u64,
) -> io::Result<TranscriptChunk> {
    read(path, from, max_line_bytes, Parse::Values)
}

fn read(
    path: &Path,
    from: &ReadPosition,
    max_line_bytes: u64,
    parse: Parse,
) -> io::Result<TranscriptChunk> {
    let file = LineFile::open(path, from)?;
    let mut scanner = Scanner::new(
        path,
        agent_of_file(path),
        max_line_bytes,
        file.start_line(),
        parse,
    );
    let read = file.read(max_line_bytes, &mut ScanLines(&mut scanner))?;
    let (_, session, events, warnings) = scanner.finish();
    Ok(TranscriptChunk {
        restarted: read.restarted,
        end: read.end,
        bytes_read: read.bytes_read,
        session,
        events,
        warnings,
    })
}

/// Hands the runs of lines that [`LineFile::read`] finds to the scanner
/// whole: it tests each line cheaply and reads session facts from a run's
/// last lines (`scan.rs`).
struct ScanLines<'a, 'p>(&'a mut Scanner<'p>);

impl LineSink for ScanLines<'_, '_> {
    fn line(&mut self, _number: u64, line: &[u8]) {
        // Not called: `run` takes every run. Kept correct all the same.
        let mut run = Vec::with_capacity(line.len() + 1);
        run.extend_from_slice(line);
        run.push(b'\n');
        self.0.lines(&run);
    }

    fn overlong_line(&mut self, _number: u64, len: u64) {
        self.0.overlong_line(len);
    }

    fn run(&mut self, _first: u64, run: &[u8]) -> bool {
        self.0.lines(run);
        true
    }
}

/// `…/agent-<id>.jsonl` → `<id>`: a sub-agent's transcript.
fn agent_of_file(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let agent = name.strip_prefix("agent-")?.strip_suffix(".jsonl")?;
    (!agent.is_empty()).then(|| agent.to_string())
}

impl TranscriptEvent {
    /// The 1-based number of the line the event was read from.
    pub fn line(&self) -> u64 {
        match self {
            TranscriptEvent::TodoWrite { line, .. }
            | TranscriptEvent::TaskCreate { line, .. }
            | TranscriptEvent::TaskCreated { line, .. }
            | TranscriptEvent::TaskUpdate { line, .. }
            | TranscriptEvent::TaskDelete { line, .. } => *line,
        }
    }

    /// The `timestamp` of the line the event was read from.
    pub fn at(&self) -> Timestamp {
        match self {
            TranscriptEvent::TodoWrite { at, .. }
            | TranscriptEvent::TaskCreate { at, .. }
            | TranscriptEvent::TaskCreated { at, .. }
            | TranscriptEvent::TaskUpdate { at, .. }
            | TranscriptEvent::TaskDelete { at, .. } => *at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_from_file_name() {
        let agent = |p: &str| agent_of_file(Path::new(p));
        assert_eq!(
            agent("/p/f/s/subagents/agent-a1b2.jsonl").as_deref(),
            Some("a1b2")
        );
        assert_eq!(agent("/p/f/agent-9f8e.jsonl").as_deref(), Some("9f8e"));
        assert_eq!(agent("/p/f/s1.jsonl"), None);
        assert_eq!(agent("/p/f/agent-.jsonl"), None);
    }
}
