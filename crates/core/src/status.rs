//! Todo statuses and where an observation came from.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A todo's status. The derived order is the fold's priority:
/// `Completed > InProgress > Pending > Deleted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Deleted,
    Pending,
    InProgress,
    Completed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::InProgress,
        Status::Completed,
        Status::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deleted => "deleted",
            Status::Pending => "pending",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
        }
    }

    /// Reads a status as an agent wrote it. `None` for a value that is not one of
    /// the four; callers read that as `pending` and count a warning (docs/SOURCES.md, "Claude Code").
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pending" => Some(Status::Pending),
            "in_progress" => Some(Status::InProgress),
            "completed" => Some(Status::Completed),
            "deleted" => Some(Status::Deleted),
            _ => None,
        }
    }

    /// Reads a status as the other agents write it (docs/DESIGN.md,
    /// "Statuses"): the four, and `cancelled` (deleted), `blocked` (pending) and `done`
    /// (completed). Claude Code's files keep to [`Status::parse`], where
    /// those words are unknown.
    pub fn parse_agent_word(text: &str) -> Option<Status> {
        match text {
            "blocked" => Some(Status::Pending),
            "done" => Some(Status::Completed),
            "cancelled" => Some(Status::Deleted),
            other => Status::parse(other),
        }
    }

    /// Whether a todo in this status still needs doing.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Pending | Status::InProgress)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::parse(s).ok_or_else(|| {
            format!("unknown status `{s}` (expected pending, in_progress, completed or deleted)")
        })
    }
}

/// Which kind of record an observation was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A todo or task file on disk.
    File,
    /// A line of a session transcript.
    Transcript,
    /// A Claude Code hook payload.
    Hook,
    /// A plan written through chittysync's MCP server (docs/MCP.md).
    Mcp,
    /// A user command (for example `rollback`).
    User,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::File => "file",
            Source::Transcript => "transcript",
            Source::Hook => "hook",
            Source::Mcp => "mcp",
            Source::User => "user",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "file" => Ok(Source::File),
            "transcript" => Ok(Source::Transcript),
            "hook" => Ok(Source::Hook),
            "mcp" => Ok(Source::Mcp),
            "user" => Ok(Source::User),
            other => Err(format!(
                "unknown source `{other}` (expected file, transcript, hook, mcp or user)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_order() {
        assert!(Status::Completed > Status::InProgress);
        assert!(Status::InProgress > Status::Pending);
        assert!(Status::Pending > Status::Deleted);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("done"), None);
        assert_eq!(Status::parse_agent_word("done"), Some(Status::Completed));
        assert_eq!(Status::parse_agent_word("cancelled"), Some(Status::Deleted));
        assert_eq!(Status::parse_agent_word("blocked"), Some(Status::Pending));
        assert_eq!(
            Status::parse_agent_word("in_progress"),
            Some(Status::InProgress)
        );
        assert_eq!(Status::parse_agent_word("finished"), None);
    }

    #[test]
    fn sources_read_back_as_written() {
        for s in [
            Source::File,
            Source::Transcript,
            Source::Hook,
            Source::Mcp,
            Source::User,
        ] {
            assert_eq!(s.as_str().parse::<Source>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("mcp-ish".parse::<Source>().unwrap_err().contains("mcp"));
    }
}
