//! Session transcripts (`projects/<folder>/<session>.jsonl`), read incrementally.
//!
//! A transcript is appended to for as long as its session runs and can reach
//! gigabytes, yet only a few of its lines are plans. So it is read from where
//! the last read stopped, in large chunks, and each line is first tested with
//! cheap substring searches; only the few that can hold a plan are parsed as
//! JSON. Session facts (cwd, branch, times) come from a handful of lines per
//! chunk, not from parsing every line.

mod events;
mod facts;
mod scan;

use crate::error::Warning;
use chittysync_core::{Status, Timestamp};
use scan::Scanner;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::todo_file::RawTodo;

/// How many leading bytes identify a file: enough to hold the first line's ids
/// and timestamp, so a file replaced by another session's is noticed.
const HEAD_BYTES: u64 = 4096;

/// The read buffer. Large enough that per-chunk work (a few parses for
/// session facts) is negligible, small enough to keep memory flat.
const CHUNK_BYTES: usize = 4 << 20;

/// Where a read of a transcript stopped. `Default` is the start of the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadPosition {
    /// Bytes of complete lines consumed so far.
    pub offset: u64,
    /// Complete lines consumed so far (the next line is `line + 1`).
    pub line: u64,
    /// The fingerprint of the file's first bytes when this position was taken.
    pub head: Option<HeadMark>,
}

/// A fingerprint of the first `len` bytes of a file (at most 4096), so that a
/// file deleted and written anew — possibly longer than before — is read again
/// from the start instead of from the middle of unrelated content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeadMark {
    pub len: u32,
    /// 64-bit FNV-1a: stable across Rust versions and platforms, unlike std's
    /// `DefaultHasher`, because positions are stored on disk.
    pub hash: u64,
}

impl HeadMark {
    pub fn of(bytes: &[u8]) -> HeadMark {
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        HeadMark {
            len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            hash,
        }
    }

    /// Whether `head` (the file's current first bytes, up to 4096) starts with
    /// the bytes this mark was taken from.
    fn matches(&self, head: &[u8]) -> bool {
        let len = self.len as usize;
        head.len() >= len && HeadMark::of(&head[..len]) == *self
    }
}

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
    /// The last `cwd` seen.
    pub cwd: Option<String>,
    /// The last `gitBranch` seen.
    pub git_branch: Option<String>,
    /// The earliest line `timestamp` seen (the first timed line, and plan lines).
    pub first_at: Option<Timestamp>,
    /// The latest line `timestamp` seen (the last timed line, and plan lines).
    pub last_at: Option<Timestamp>,
    /// The last Claude Code `version` seen.
    pub version: Option<String>,
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
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = vec![0; size.min(HEAD_BYTES) as usize];
    let head_len = read_up_to(&mut file, &mut head)?;
    head.truncate(head_len);

    let restarted = size < from.offset
        || from.head.is_some_and(|mark| !mark.matches(&head))
        || !ends_a_line(&mut file, from.offset)?;
    let (offset, line) = if restarted {
        (0, 0)
    } else {
        (from.offset, from.line)
    };

    file.seek(SeekFrom::Start(offset))?;
    let mut scanner = Scanner::new(path, agent_of_file(path), max_line_bytes, line);
    let consumed = read_lines(&mut file, size - offset, max_line_bytes, &mut scanner)?;
    let (line, session, events, warnings) = scanner.finish();
    Ok(TranscriptChunk {
        restarted,
        end: ReadPosition {
            offset: offset + consumed,
            line,
            head: Some(HeadMark::of(&head)),
        },
        bytes_read: consumed,
        session,
        events,
        warnings,
    })
}

/// Whether `offset` is the start of the file or just after a newline, as every
/// position this module hands out is. If not, the file was rewritten with the
/// same first bytes but different lines, and reading on from `offset` would
/// start in the middle of one.
fn ends_a_line(file: &mut File, offset: u64) -> io::Result<bool> {
    if offset == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::Start(offset - 1))?;
    let mut byte = [0];
    Ok(read_up_to(file, &mut byte)? == 1 && byte[0] == b'\n')
}

/// `…/agent-<id>.jsonl` → `<id>`: a sub-agent's transcript.
fn agent_of_file(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let agent = name.strip_prefix("agent-")?.strip_suffix(".jsonl")?;
    (!agent.is_empty()).then(|| agent.to_string())
}

/// Fills `buf` as far as the file allows; fewer bytes only at end of file.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Feeds the complete lines among the next `limit` bytes of `file` to the
/// scanner, chunk by chunk, and returns how many bytes they took.
///
/// A line that outgrows `max_line_bytes` is dropped from the buffer as soon as
/// that is known and the following bytes are discarded up to its end; it is
/// consumed (with a warning) only once its newline has arrived.
fn read_lines(
    file: &mut File,
    limit: u64,
    max_line_bytes: u64,
    scanner: &mut Scanner,
) -> io::Result<u64> {
    let mut buf = vec![0; usize::try_from(limit).map_or(CHUNK_BYTES, |l| l.min(CHUNK_BYTES))];
    let mut filled = 0;
    let mut remaining = limit;
    let mut consumed = 0;
    // Bytes of an overlong line discarded so far, awaiting its newline.
    let mut overlong: Option<u64> = None;
    while remaining > 0 {
        if filled == buf.len() {
            // A line longer than the buffer but within the limit: make room.
            buf.resize(buf.len().max(CHUNK_BYTES) * 2, 0);
        }
        let room = (buf.len() - filled).min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = match file.read(&mut buf[filled..filled + room]) {
            Ok(0) => break, // the file shrank while we read; next read restarts
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        remaining -= n as u64;
        filled += n;

        let mut start = 0;
        if let Some(skipped) = overlong {
            let Some(newline) = memchr::memchr(b'\n', &buf[..filled]) else {
                overlong = Some(skipped + filled as u64);
                filled = 0;
                continue;
            };
            let len = skipped + newline as u64;
            scanner.overlong_line(len);
            consumed += len + 1;
            overlong = None;
            start = newline + 1;
        }
        let end = match memchr::memrchr(b'\n', &buf[start..filled]) {
            Some(last) => start + last + 1,
            None => start,
        };
        scanner.lines(&buf[start..end]);
        consumed += (end - start) as u64;
        buf.copy_within(end..filled, 0);
        filled -= end;
        if filled as u64 > max_line_bytes {
            overlong = Some(filled as u64);
            filled = 0;
        }
    }
    Ok(consumed)
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

    /// Head marks are stored with read positions: the hash must never change.
    #[test]
    fn head_mark_is_fnv1a_64() {
        assert_eq!(HeadMark::of(b"").hash, 0xcbf2_9ce4_8422_2325);
        assert_eq!(HeadMark::of(b"a").hash, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(HeadMark::of(b"foobar").hash, 0x8594_4171_f739_67e8);
        let mark = HeadMark::of(b"{\"a\":1}\n");
        assert_eq!(mark.len, 8);
        assert!(mark.matches(b"{\"a\":1}\n{\"b\":2}\n"));
        assert!(!mark.matches(b"{\"a\":2}\n{\"b\":2}\n"));
        assert!(!mark.matches(b"{\"a\":1}"));
    }

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
