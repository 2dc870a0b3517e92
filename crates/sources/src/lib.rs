//! Reads the agents' plan records from disk into plain data (docs/SOURCES.md, "Claude Code"):
//! Claude Code's files, and Codex CLI's, Gemini CLI's, Qwen Code's and
//! OpenCode's, each agent one [`AgentSource`].
//!
//! This crate knows the *formats*: where the files are, how their names carry
//! the session and agent, which JSON shapes occur across versions, and how to
//! read an append-only transcript a piece at a time. It decides
//! nothing about identity, projects or the fold — the engine turns what is read
//! here into observations with `chittysync-core`.
//!
//! Nothing here panics or fails on bad input: a file that cannot be understood
//! is an `Err` value or a [`Warning`] naming the file (and line), so one broken
//! file never stops a consolidation.

#![forbid(unsafe_code)]

pub mod agents;
mod discover;
mod error;
mod json;
pub mod lines;
mod loose;
mod read;
mod source;
mod task_file;
mod todo_file;
mod transcript;

pub use discover::{classify, discover, stat_source, Discovery, SourceFile, SourceKind};
pub use error::{ParseError, Warning};
pub use read::{open_regular, read_limited, ReadError};
pub use source::{AgentFile, AgentSource, Claude, Other, ReadFrom, Reading, Sources};
pub use task_file::{parse_task, RawTask};
pub use todo_file::{parse_todo_list, RawTodo, TodoList};
pub use transcript::{
    is_plan_tool, read_tool_call, read_transcript, read_transcript_by_values, HeadMark,
    ReadPosition, SessionFacts, ToolCall, TranscriptChunk, TranscriptEvent,
};
