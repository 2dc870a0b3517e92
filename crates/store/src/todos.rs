//! Reading the materialized fold, in the order the outputs use.

use crate::{Result, Store, StoreError};
use chittysync_core::{Conflict, Status, TodoEntry};

/// One folded todo as stored: its entry and conflict already serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTodo {
    pub todo_id: String,
    pub project: String,
    pub status: Status,
    pub sessions: Vec<String>,
    /// The `todos.json` entry, serialized.
    pub entry_json: String,
    /// The `conflicts.json` entry, serialized, when observers disagree.
    pub conflict_json: Option<String>,
}

impl StoredTodo {
    pub fn entry(&self) -> Result<TodoEntry> {
        serde_json::from_str(&self.entry_json).map_err(|e| StoreError::corrupt("todo entry", e))
    }

    pub fn conflict(&self) -> Result<Option<Conflict>> {
        self.conflict_json
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::corrupt("conflict", e))
    }
}

impl Store {
    /// Every folded todo (deleted ones too), sorted by project, then normalized content.
    pub fn folded_todos(&self) -> Result<Vec<StoredTodo>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT todo_id, project, status, sessions, entry, conflict FROM todos ORDER BY project, sort_key, todo_id",
        )?;
        let rows = stmt.query_map([], |row| {
            let status: String = row.get(2)?;
            let sessions: String = row.get(3)?;
            Ok(StoredTodo {
                todo_id: row.get(0)?,
                project: row.get(1)?,
                status: Status::parse(&status).unwrap_or(Status::Pending),
                sessions: serde_json::from_str(&sessions).unwrap_or_default(),
                entry_json: row.get(4)?,
                conflict_json: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Todo ids whose normalized content contains `text` (case-insensitive), or
    /// whose id starts with it.
    pub fn find_todos(&self, text: &str) -> Result<Vec<String>> {
        let needle = chittysync_core::normalize(text);
        let like = format!(
            "%{}%",
            needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        let prefix = format!("{}%", text.trim().to_ascii_lowercase());
        let mut stmt = self.conn().prepare_cached(
            "SELECT todo_id FROM todos WHERE todo_id LIKE ?1 OR sort_key LIKE ?2 ESCAPE '\\' ORDER BY project, sort_key",
        )?;
        let rows = stmt.query_map([prefix, like], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The fold generation: a counter bumped whenever any folded todo changes.
    pub fn fold_generation(&self) -> Result<u64> {
        Ok(self
            .meta("fold_generation")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}
