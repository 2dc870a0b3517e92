//! The per-line work of a transcript read: the cheap tests that let most lines
//! through untouched, and the bookkeeping of line numbers, facts and warnings.

use super::events::{self, Problem};
use super::facts::LineFacts;
use super::line::Line;
use super::{SessionFacts, TranscriptEvent};
use crate::error::Warning;
use crate::loose::FromValue;
use chittysync_core::Timestamp;
use memchr::memmem::Finder;
use std::path::Path;
use std::sync::OnceLock;

/// The cheap test a line must pass before it is parsed: it must contain one of
/// the plan tools' names as a JSON string — `"TodoWrite"`, `"TaskCreate"`,
/// `"TaskUpdate"`, `"TaskDelete"` — or both `"task"` and `"toolUseResult"` (a
/// created task's id). The quotes matter: a raw `"` cannot occur inside a JSON
/// string (it is escaped), so a tool result that merely *mentions* a tool does
/// not match. The three task tools share one search for `"Task` followed by a
/// check of the next bytes, so a line costs three fast passes, not six.
///
/// JSON may also spell a letter as a `\u` escape (`"Todo\u0057rite"` is
/// `"TodoWrite"`). No writer of transcripts does (JSON.stringify and serde
/// escape only quotes, backslashes and control characters), but the test must
/// never skip a line that holds a plan: a line with an escaped letter —
/// `\u00` then `4`–`7`, the escapes of `@`–`DEL`, every letter among them —
/// is parsed whatever else it holds (docs/SOURCES.md, "Transcripts").
struct Needles {
    escape: Finder<'static>,
    todo_write: Finder<'static>,
    task_tool: Finder<'static>,
    task_key: Finder<'static>,
    tool_use_result: Finder<'static>,
    facts: [Finder<'static>; FACT_COUNT],
    model: Finder<'static>,
}

const TASK_TOOL_PREFIX: &[u8] = b"\"Task";
/// A `\u` escape of a character below U+0100 (see [`Needles`]).
const ESCAPE_PREFIX: &[u8] = b"\\u00";
const TASK_TOOL_SUFFIXES: [&[u8]; 3] = [b"Create\"", b"Update\"", b"Delete\""];

/// The session facts looked for at the end of each chunk, by key.
const FACT_COUNT: usize = 5;
const FACT_KEYS: [&[u8]; FACT_COUNT] = [
    b"\"timestamp\"",
    b"\"cwd\"",
    b"\"gitBranch\"",
    b"\"version\"",
    b"\"sessionId\"",
];
const TIMESTAMP: usize = 0;
const CWD: usize = 1;
const GIT_BRANCH: usize = 2;
const VERSION: usize = 3;

impl Needles {
    fn new() -> Needles {
        Needles {
            escape: Finder::new(ESCAPE_PREFIX),
            todo_write: Finder::new(b"\"TodoWrite\""),
            task_tool: Finder::new(TASK_TOOL_PREFIX),
            task_key: Finder::new(b"\"task\""),
            tool_use_result: Finder::new(b"\"toolUseResult\""),
            facts: FACT_KEYS.map(Finder::new),
            model: Finder::new(b"\"model\""),
        }
    }

    /// Built once: a daemon reads thousands of small appends.
    fn get() -> &'static Needles {
        static NEEDLES: OnceLock<Needles> = OnceLock::new();
        NEEDLES.get_or_init(Needles::new)
    }

    fn may_hold_plan(&self, line: &[u8]) -> bool {
        let task_tool = |at: usize| {
            let rest = &line[at + TASK_TOOL_PREFIX.len()..];
            TASK_TOOL_SUFFIXES.iter().any(|s| rest.starts_with(s))
        };
        self.todo_write.find(line).is_some()
            || self.task_tool.find_iter(line).any(task_tool)
            || (self.task_key.find(line).is_some() && self.tool_use_result.find(line).is_some())
            || self.escaped_letter(line)
    }

    /// Whether the line may spell a letter as a `\u` escape. An escaped
    /// backslash followed by `u00…` (`\\u0041`, text) matches too: parsing
    /// it costs a little, skipping a plan would lose it.
    fn escaped_letter(&self, line: &[u8]) -> bool {
        self.escape.find_iter(line).any(|at| {
            line.get(at + ESCAPE_PREFIX.len())
                .is_some_and(|d| (b'4'..=b'7').contains(d))
        })
    }
}

/// How the lines that can hold a plan are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parse {
    /// The typed parse of `line.rs`, falling back to a `Value` where it fails.
    Typed,
    /// Into a `Value` only: the reader the typed one is checked against
    /// (crates/sources/tests/transcript_typed.rs).
    Values,
}

pub(super) struct Scanner<'p> {
    path: &'p Path,
    parse: Parse,
    file_agent: Option<String>,
    max_line_bytes: u64,
    /// Lines consumed so far, i.e. the number of the last line seen.
    line: u64,
    needles: &'static Needles,
    /// Whether the first line with a timestamp has been seen.
    first_timed: bool,
    facts: SessionFacts,
    events: Vec<TranscriptEvent>,
    warnings: Vec<Warning>,
}

impl<'p> Scanner<'p> {
    pub(super) fn new(
        path: &'p Path,
        file_agent: Option<String>,
        max_line_bytes: u64,
        line: u64,
        parse: Parse,
    ) -> Scanner<'p> {
        Scanner {
            path,
            parse,
            file_agent,
            max_line_bytes,
            line,
            needles: Needles::get(),
            first_timed: false,
            facts: SessionFacts::default(),
            events: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The number of the last line, the facts, the events and the warnings.
    pub(super) fn finish(self) -> (u64, SessionFacts, Vec<TranscriptEvent>, Vec<Warning>) {
        (self.line, self.facts, self.events, self.warnings)
    }

    /// A line longer than the limit (`len` bytes without its newline).
    pub(super) fn overlong_line(&mut self, len: u64) {
        self.line += 1;
        self.warn(format!(
            "line of {len} bytes is longer than the limit of {} bytes; skipped",
            self.max_line_bytes
        ));
    }

    /// Complete lines, each ending in `\n` (`region` may be empty).
    pub(super) fn lines(&mut self, region: &[u8]) {
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', region) {
            self.line(&region[start..newline]);
            start = newline + 1;
        }
        self.facts_from_end(region);
    }

    fn line(&mut self, raw: &[u8]) {
        if raw.len() as u64 > self.max_line_bytes {
            self.overlong_line(raw.len() as u64);
            return;
        }
        self.line += 1;
        let line = trim(raw);
        if !self.first_timed && self.needles.facts[TIMESTAMP].find(line).is_some() {
            if let Some(at) = LineFacts::parse(line).and_then(|f| f.timestamp()) {
                self.first_timed = true;
                self.saw_time(at);
            }
        }
        if self.facts.cwd.is_none() && self.needles.facts[CWD].find(line).is_some() {
            // The session's folder is the first cwd it records (docs/DESIGN.md, "Projects"): a
            // later `cd` into a sub-folder or submodule does not move it.
            if let Some(facts) = LineFacts::parse(line) {
                if let Some(cwd) = facts.values()[CWD].filter(|c| !c.is_empty()) {
                    self.facts.cwd = Some(cwd.to_string());
                }
            }
        }
        // The model an assistant line ran on: whether the session could plan
        // depends on it (docs/SOURCES.md, "Claude Code"). Wanted once a chunk.
        let wants_model = self.facts.model.is_none() && self.needles.model.find(line).is_some();
        let may_hold_plan = self.needles.may_hold_plan(line);
        if !(wants_model || may_hold_plan) {
            return;
        }
        let typed = match self.parse {
            Parse::Typed => Line::parse(line),
            Parse::Values => None,
        };
        let value: serde_json::Value;
        let parsed = match typed {
            Some(parsed) => Ok(parsed),
            // The typed parse fails exactly where a parse into a `Value` does
            // (crate::loose): this one gives the message of a corrupt line
            // (and would read the line, should the typed parse ever fail on
            // one that is not).
            None => match serde_json::from_slice(line) {
                Ok(parsed) => {
                    value = parsed;
                    Ok(Line::from_value(Some(&value)))
                }
                Err(e) => Err(e),
            },
        };
        match parsed {
            Ok(parsed) => {
                if wants_model {
                    self.model_of(&parsed);
                }
                if may_hold_plan {
                    self.plan_line(&parsed);
                }
            }
            Err(e) if may_hold_plan => {
                let e = crate::error::ParseError::from_json(&e);
                self.warn(format!("corrupt line: {e}"));
            }
            Err(_) => {}
        }
    }

    fn model_of(&mut self, line: &Line<'_>) {
        if line.kind.as_str() != Some("assistant") {
            return;
        }
        if let Some(model) = line.message.model.as_str() {
            if !model.is_empty() && !model.starts_with('<') {
                self.facts.model = Some(model.to_string());
            }
        }
    }

    fn plan_line(&mut self, line: &Line<'_>) {
        let mut problems = Vec::new();
        let first = self.events.len();
        events::read_line(
            line,
            self.line,
            self.file_agent.as_deref(),
            &mut self.events,
            &mut problems,
        );
        for i in first..self.events.len() {
            self.saw_time(self.events[i].at());
        }
        for Problem(message) in problems {
            self.warn(message);
        }
    }

    /// Reads the last values of the facts from the last lines of `region`,
    /// going backwards only until each has been found: usually one line.
    fn facts_from_end(&mut self, region: &[u8]) {
        let Some(body) = region.strip_suffix(b"\n") else {
            return;
        };
        let mut missing = [true; FACT_COUNT];
        missing[CWD] = false;
        let mut end = body.len();
        let starts = memchr::memrchr_iter(b'\n', body)
            .map(|newline| newline + 1)
            .chain([0]);
        for start in starts {
            let line = &body[start..end];
            end = start.saturating_sub(1);
            if line.len() as u64 > self.max_line_bytes {
                continue;
            }
            let wanted =
                (0..FACT_COUNT).any(|i| missing[i] && self.needles.facts[i].find(line).is_some());
            if !wanted {
                continue;
            }
            let Some(facts) = LineFacts::parse(trim(line)) else {
                continue;
            };
            self.take_facts(&facts, &mut missing);
            if !missing.contains(&true) {
                break;
            }
        }
    }

    /// Takes the facts still `missing` from one line, newest first; a fact the
    /// line has (even empty) is no longer missing.
    fn take_facts(&mut self, line: &LineFacts<'_>, missing: &mut [bool; FACT_COUNT]) {
        let values = line.values();
        for (i, value) in values.into_iter().enumerate() {
            let Some(value) = value.filter(|_| missing[i]) else {
                continue;
            };
            missing[i] = false;
            if value.is_empty() {
                continue;
            }
            match i {
                TIMESTAMP => {
                    if let Some(at) = Timestamp::parse_rfc3339(value) {
                        self.saw_time(at);
                    }
                }
                // Read line by line from the start instead (see `line`).
                CWD => {}
                GIT_BRANCH => self.facts.git_branch = Some(value.to_string()),
                VERSION => self.facts.version = Some(value.to_string()),
                _ => self.facts.session_id = Some(value.to_string()),
            }
        }
    }

    fn saw_time(&mut self, at: Timestamp) {
        let facts = &mut self.facts;
        facts.first_at = Some(facts.first_at.map_or(at, |t| t.min(at)));
        facts.last_at = Some(facts.last_at.map_or(at, |t| t.max(at)));
    }

    fn warn(&mut self, message: String) {
        self.warnings
            .push(Warning::at_line(self.path, self.line, message));
    }
}

/// The line without a trailing `\r` (a file edited on Windows) or a leading
/// UTF-8 byte-order mark (a file saved by an editor), neither of which JSON allows.
fn trim(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}
