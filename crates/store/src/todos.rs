//! Reading the materialized fold, in the order the outputs use.

use crate::{Result, Store, StoreError};
use chittysync_core::{Conflict, Status, TodoEntry};

/// One folded todo as stored: its entry and conflict already serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTodo {
    pub todo_id: String,
    pub project: String,
    /// The normalized content: with the id, the todo's place in the outputs.
    pub sort_key: String,
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

/// The query that [`stored_from_row`] reads the rows of.
pub(crate) const SELECT_STORED: &str =
    "SELECT todo_id, project, status, sessions, entry, conflict, sort_key FROM todos";

pub(crate) fn stored_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTodo> {
    let status: String = row.get(2)?;
    let sessions: String = row.get(3)?;
    Ok(StoredTodo {
        todo_id: row.get(0)?,
        project: row.get(1)?,
        status: Status::parse(&status).unwrap_or(Status::Pending),
        sessions: serde_json::from_str(&sessions).unwrap_or_default(),
        entry_json: row.get(4)?,
        conflict_json: row.get(5)?,
        sort_key: row.get(6)?,
    })
}

impl Store {
    /// Every folded todo (deleted ones too), sorted by project, then normalized content.
    pub fn folded_todos(&self) -> Result<Vec<StoredTodo>> {
        let mut todos = Vec::new();
        self.each_folded_project(|project| todos.extend(project))?;
        Ok(todos)
    }

    /// [`Store::folded_todos`] a project at a time, in the same order: a
    /// caller that renders them (the outputs) never holds every row at once.
    pub fn each_folded_project(&self, mut each: impl FnMut(Vec<StoredTodo>)) -> Result<()> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT_STORED} ORDER BY project, sort_key, todo_id"
        ))?;
        let mut rows = stmt.query_map([], stored_from_row)?;
        let mut project: Vec<StoredTodo> = Vec::new();
        for row in rows.by_ref() {
            let todo = row?;
            if project.last().is_some_and(|t| t.project != todo.project) {
                each(std::mem::take(&mut project));
            }
            project.push(todo);
        }
        if !project.is_empty() {
            each(project);
        }
        Ok(())
    }

    /// The folded todos whose entry or conflict changed after fold generation
    /// `generation` (deleted ones too), in output order.
    pub fn todos_changed_since(&self, generation: u64) -> Result<Vec<StoredTodo>> {
        // Named, or the planner may prefer walking the whole table in key
        // order to sorting the few rows the index finds.
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT_STORED} INDEXED BY todos_generation WHERE generation > ?1
             ORDER BY project, sort_key, todo_id"
        ))?;
        let rows = stmt.query_map([generation as i64], stored_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The open todos of a project that some session other than `session`
    /// saw, updated at or after `since`: in progress first, then newest
    /// first, at most `limit`, with how many there are in all. What a
    /// starting session is told of the others: a hook, so it reads the
    /// `todos_open` index and the few rows it shows, not the project.
    pub fn open_todos_of_others(
        &self,
        project: &str,
        session: &str,
        since: chittysync_core::Timestamp,
        limit: usize,
    ) -> Result<(Vec<StoredTodo>, u64)> {
        // A todo that only this session saw has exactly this `sessions` value.
        let only_this = serde_json::to_string(&[session]).unwrap_or_default();
        let total: i64 = self
            .conn()
            .prepare_cached(
                "SELECT count(*) FROM todos
                 WHERE project = ?1 AND status IN ('pending', 'in_progress') AND updated_at >= ?2
                   AND sessions NOT IN ('[]', ?3)",
            )?
            .query_row(rusqlite::params![project, since.millis(), only_this], |r| {
                r.get(0)
            })?;
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT_STORED}
             WHERE project = ?1 AND status = ?2 AND updated_at >= ?3 AND sessions NOT IN ('[]', ?4)
             ORDER BY updated_at DESC, todo_id LIMIT ?5"
        ))?;
        let mut todos = Vec::with_capacity(limit);
        for status in [Status::InProgress, Status::Pending] {
            let room = (limit - todos.len()) as i64;
            let rows = stmt.query_map(
                rusqlite::params![project, status.as_str(), since.millis(), only_this, room],
                stored_from_row,
            )?;
            for row in rows {
                todos.push(row?);
            }
        }
        Ok((todos, total as u64))
    }

    /// Todo ids whose normalized content contains `text` (case-insensitive), or
    /// whose id starts with it.
    pub fn find_todos(&self, text: &str) -> Result<Vec<String>> {
        let needle = chittysync_core::normalize(text);
        let like = format!(
            "%{}%",
            needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let prefix = format!("{}%", text.trim().to_ascii_lowercase());
        let mut stmt = self.conn().prepare_cached(
            "SELECT todo_id FROM todos WHERE todo_id LIKE ?1 OR sort_key LIKE ?2 ESCAPE '\\' ORDER BY project, sort_key",
        )?;
        let rows = stmt.query_map([prefix, like], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The newest `updated_at` of any folded todo: a stamp that depends only on
    /// the observations held, for outputs that must be equal on equal stores.
    pub fn newest_update(&self) -> Result<Option<chittysync_core::Timestamp>> {
        Ok(self
            .conn()
            .query_row("SELECT max(updated_at) FROM todos", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .map(chittysync_core::Timestamp))
    }

    /// The fold generation: a counter bumped whenever any folded todo changes.
    pub fn fold_generation(&self) -> Result<u64> {
        self.counter("fold_generation")
    }

    /// A counter bumped when the whole fold is rebuilt: what was rendered
    /// from it before must be rendered again from scratch.
    pub fn fold_epoch(&self) -> Result<u64> {
        self.counter("fold_epoch")
    }
}

/// Counts over the folded todos, leaving out deleted ones unless said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FoldCounts {
    pub todos: u64,
    pub projects: u64,
    pub conflicts: u64,
    pub pending: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub deleted: u64,
}

/// The meta key of the kept counts: `<fold generation> <counts as JSON>`.
const KEPT_COUNTS: &str = "fold_counts";

/// Kept counts, if they were counted at fold generation `generation`: every
/// change of a folded row's status, project or conflict moves the generation.
fn kept_counts(value: &str, generation: u64) -> Option<FoldCounts> {
    let (at, counts) = value.split_once(' ')?;
    (at.parse::<u64>().ok()? == generation)
        .then(|| serde_json::from_str(counts).ok())
        .flatten()
}

impl Store {
    /// The counts of the fold: kept from the last count while the fold has
    /// not changed since (see [`Store::keep_fold_counts`]), else counted —
    /// a scan of every folded todo.
    pub fn fold_counts(&self) -> Result<FoldCounts> {
        let generation = self.fold_generation()?;
        if let Some(counts) = self
            .meta(KEPT_COUNTS)?
            .and_then(|v| kept_counts(&v, generation))
        {
            return Ok(counts);
        }
        self.count_fold()
    }

    /// [`Store::fold_counts`], kept for the runs after this one when they
    /// had to be counted: a re-run with nothing changed reads them back
    /// instead of scanning the fold.
    pub fn keep_fold_counts(&mut self) -> Result<FoldCounts> {
        let generation = self.fold_generation()?;
        if let Some(counts) = self
            .meta(KEPT_COUNTS)?
            .and_then(|v| kept_counts(&v, generation))
        {
            return Ok(counts);
        }
        let tx = self.begin()?;
        // Counted inside the transaction: no other writer moves the fold meanwhile.
        let generation = tx.counter("fold_generation")?;
        let counts = count_fold(tx.conn())?;
        let json =
            serde_json::to_string(&counts).map_err(|e| StoreError::corrupt("fold counts", e))?;
        tx.set_meta(KEPT_COUNTS, &format!("{generation} {json}"))?;
        tx.commit()?;
        Ok(counts)
    }

    fn count_fold(&self) -> Result<FoldCounts> {
        count_fold(self.conn())
    }
}

/// Counts the folded todos: a scan of the `todos` table.
fn count_fold(conn: &rusqlite::Connection) -> Result<FoldCounts> {
    Ok(conn.query_row(
        "SELECT
               count(*) FILTER (WHERE status != 'deleted'),
               count(DISTINCT project) FILTER (WHERE status != 'deleted'),
               count(*) FILTER (WHERE status != 'deleted' AND conflict IS NOT NULL),
               count(*) FILTER (WHERE status = 'pending'),
               count(*) FILTER (WHERE status = 'in_progress'),
               count(*) FILTER (WHERE status = 'completed'),
               count(*) FILTER (WHERE status = 'deleted')
             FROM todos",
        [],
        |r| {
            let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)? as u64) };
            Ok(FoldCounts {
                todos: n(0)?,
                projects: n(1)?,
                conflicts: n(2)?,
                pending: n(3)?,
                in_progress: n(4)?,
                completed: n(5)?,
                deleted: n(6)?,
            })
        },
    )?)
}

impl Store {
    pub fn session_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}
