//! What a consolidation did, as the summary the command prints.

use chittysync_sources::Warning;
use serde::Serialize;

/// The summary of one run — exactly the fields docs/DESIGN.md, "Commands" names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Source files found and stat'ed.
    pub files_scanned: u64,
    /// Files whose size or mtime changed, so they were read.
    pub files_changed: u64,
    /// Files that could not be used: unreadable, broken, too large, not todos.
    pub files_skipped: u64,
    /// Observations that were new to the store.
    pub observations: u64,
    /// Todos in the fold (not counting deleted ones).
    pub unique_todos: u64,
    pub projects: u64,
    pub sessions: u64,
    /// Todos whose observers disagree.
    pub conflicts: u64,
    pub elapsed_ms: u64,
}

/// A run's summary, its warnings, and whether the outputs were rewritten.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub summary: Summary,
    pub warnings: Vec<Warning>,
    /// Entries skipped inside files that were otherwise read (no content, not an object).
    pub skipped_entries: u64,
    /// Statuses that were not one of the four, read as `pending`.
    pub unknown_statuses: u64,
    /// Whether the fold changed and the outputs were written.
    pub outputs_written: bool,
}
