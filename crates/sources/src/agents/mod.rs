//! Other agents' plan records (SPEC §3b): Codex CLI, Gemini CLI, Qwen Code and
//! OpenCode. Each agent's module is the one place that knows its formats; what
//! they read is handed on in the shapes below, which say nothing of projects
//! or identity (the engine decides those, as for Claude Code's files).

use crate::error::Warning;
use crate::todo_file::TodoList;
use crate::transcript::ReadPosition;
use chittysync_core::Timestamp;

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
