//! Small helpers for reading loosely-typed JSON written by different versions
//! of Claude Code: every field may be missing or of an unexpected type, and that
//! must never be fatal.

use crate::error::ParseError;
use crate::loose::{FromValue, Id, Text};
use chittysync_core::Status;
use serde_json::Value;

/// Parses a whole file. Whitespace-only (or a lone UTF-8 byte-order mark) is
/// [`ParseError::Empty`], not a JSON error: it is a file being written.
pub(crate) fn parse_document(bytes: &[u8]) -> Result<Value, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    serde_json::from_slice(bytes).map_err(|e| ParseError::from_json(&e))
}

/// "an object", "a string"… for messages about what was found instead.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string field that has some non-whitespace text. Whitespace-only text would
/// normalize to an empty todo, so it counts as absent.
pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    Text::from_value(value).non_blank()
}

/// An id that Claude Code wrote as a string (`"3"`) or, in some versions and
/// hand-made files, as a number (`3`).
pub(crate) fn id_text(value: Option<&Value>) -> Option<String> {
    Id::from_value(value).text()
}

/// A status as written, and whether it was unknown (missing, not a string, or
/// not one of the four). Unknown reads as pending (docs/SOURCES.md, "Claude Code").
pub(crate) fn status(value: Option<&Value>) -> (Status, bool) {
    status_text(value.and_then(Value::as_str))
}

/// [`status`] of a value that is a string (`Some`) or not.
pub(crate) fn status_text(value: Option<&str>) -> (Status, bool) {
    match value.and_then(Status::parse) {
        Some(status) => (status, false),
        None => (Status::Pending, true),
    }
}

/// An array of ids (`blocks`, `blockedBy`); anything else is empty.
pub(crate) fn id_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| id_text(Some(v))).collect(),
        _ => Vec::new(),
    }
}
