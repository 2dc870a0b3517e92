//! What goes wrong while reading sources, as values rather than failures.

use std::fmt;
use std::path::PathBuf;

/// Something worth telling the user about one file (or one line of it) that did
/// not stop the read: a corrupt transcript line, an unreadable folder…
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    /// 1-based line number, for line-oriented files.
    pub line: Option<u64>,
    pub message: String,
}

impl Warning {
    pub fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> Warning {
        Warning {
            path: path.into(),
            line: None,
            message: message.into(),
        }
    }

    pub fn at_line(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Warning {
        Warning {
            path: path.into(),
            line: Some(line),
            message: message.into(),
        }
    }
}

/// `path:line: message`, or `path: message` — the shape compilers use, so
/// editors and terminals can jump to the spot.
impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Why the content of a todo or task file was not read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Zero bytes (or only whitespace): Claude Code truncates before it writes,
    /// so this is usually a write under way; read the file again next time.
    #[error("the file is empty (a write may be under way)")]
    Empty,
    /// Not valid JSON, e.g. a file cut short. `line` and `column` are 1-based.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: u64,
        column: u64,
        message: String,
    },
    /// Valid JSON that is not an array, e.g. another tool's `coordination.json`.
    #[error("not a list of todos: the file holds {found}")]
    NotAList { found: &'static str },
    /// Valid JSON that is not a task object.
    #[error("not a task: {reason}")]
    NotATask { reason: String },
    /// Above the configured size limit. Not produced by the parsers themselves
    /// (they take bytes); it lets callers report a [`crate::ReadError::TooLarge`]
    /// alongside parse problems with one type.
    #[error("the file is {size} bytes, above the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
}

impl ParseError {
    /// serde_json's message without its trailing " at line L column C", which
    /// the variant carries as numbers.
    pub(crate) fn from_json(err: &serde_json::Error) -> ParseError {
        let text = err.to_string();
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
        ParseError::Json {
            line: err.line() as u64,
            column: err.column() as u64,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_display_names_path_and_line() {
        let w = Warning::at_line("/x/s.jsonl", 12, "invalid JSON");
        assert_eq!(w.to_string(), "/x/s.jsonl:12: invalid JSON");
        let w = Warning::new("/x/todos", "permission denied");
        assert_eq!(w.to_string(), "/x/todos: permission denied");
    }
}
