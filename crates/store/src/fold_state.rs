//! Folding new observations into the stored fold, touching only their todos.
//!
//! The fold's accumulator ([`TodoState`]) is kept on disk: each observer's
//! latest observation per todo (table `latest`) and each todo's first-seen,
//! started and first-completed times (table `todos`). New facts load the states of the todos they
//! name, apply, and write back only what changed — the same core code a full
//! refold uses, so incremental equals full.

use crate::observations::{observation_from_row, OBSERVATION_COLUMNS};
use crate::{Result, Tx, Via};
use chittysync_core::{normalize, Observation, Resolved, Timestamp, TodoState};
use rusqlite::{params, OptionalExtension};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What an ingest changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldChange {
    /// Observations that were not in the log before.
    pub new_observations: usize,
    /// Todos whose folded entry or conflict changed.
    pub changed_todos: Vec<String>,
}

/// A todo's state as loaded, with what is needed to write back only changes.
#[derive(Default)]
struct Loaded {
    state: TodoState,
    /// The local sequence number of each observer's latest observation.
    seq_of_observer: HashMap<String, i64>,
    previous_entry: Option<String>,
    previous_conflict: Option<String>,
}

/// The columns [`loaded_from_todo_row`] reads, in its order.
const STATE_COLUMNS: &str =
    "todo_id, first_seen, started_at, first_completed, entry, conflict, sessions";

/// Above this many todos, one scan beats a lookup per todo.
const BULK_LOAD_THRESHOLD: usize = 512;

impl Tx<'_> {
    /// Appends observations (skipping those already logged) and folds the new
    /// ones into the stored fold.
    pub fn ingest(&self, observations: &[Observation], via: Via) -> Result<FoldChange> {
        let fresh = self.append_observations(observations, via)?;
        if fresh.is_empty() {
            return Ok(FoldChange::default());
        }
        let mut by_todo: BTreeMap<&str, Vec<(i64, &Observation)>> = BTreeMap::new();
        for (seq, obs) in &fresh {
            by_todo
                .entry(obs.todo_id.as_str())
                .or_default()
                .push((*seq, obs));
        }
        let ids: Vec<&str> = by_todo.keys().copied().collect();
        let mut loaded = self.load_states(&ids)?;
        // Write in the table's key order (project, content): appending to the
        // B-tree instead of inserting at random places is several times cheaper.
        let mut ordered: Vec<(&str, Vec<(i64, &Observation)>)> = by_todo.into_iter().collect();
        ordered.sort_by_cached_key(|(_, new)| {
            (new[0].1.project.clone(), normalize(&new[0].1.content))
        });
        let generation = self.next_generation()?;
        let mut changed_todos = Vec::new();
        for (todo_id, new) in ordered {
            let current = loaded.entry(todo_id.to_string()).or_default();
            let before: HashMap<String, String> = current
                .state
                .latest
                .iter()
                .map(|(observer, o)| (observer.clone(), o.id.clone()))
                .collect();
            let mut seq_of_id: HashMap<&str, i64> = HashMap::new();
            for (seq, obs) in &new {
                current.state.apply(obs);
                seq_of_id.insert(obs.id.as_str(), *seq);
            }
            for (observer, obs) in &current.state.latest {
                if before.get(observer) != Some(&obs.id) {
                    if let Some(seq) = seq_of_id.get(obs.id.as_str()) {
                        self.write_latest(todo_id, observer, *seq)?;
                    }
                }
            }
            if self.write_todo(todo_id, current, generation)? {
                changed_todos.push(todo_id.to_string());
            }
        }
        if !changed_todos.is_empty() {
            self.set_meta("fold_generation", &generation.to_string())?;
        }
        Ok(FoldChange {
            new_observations: fresh.len(),
            changed_todos,
        })
    }

    /// Forgets the stored fold and folds the whole log again. The result must
    /// equal the incremental one; this exists for repairs and to prove that.
    pub fn refold_all(&self) -> Result<usize> {
        let generation = self.next_generation()?;
        // Readers that keep the fold rendered start over.
        self.bump_counter("fold_epoch")?;
        self.conn()
            .execute_batch("DELETE FROM latest; DELETE FROM todos;")?;
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {OBSERVATION_COLUMNS} FROM observations o ORDER BY o.seq"
        ))?;
        let mut loaded: BTreeMap<String, Loaded> = BTreeMap::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let obs = observation_from_row(row, 0)?;
            let entry = loaded.entry(obs.todo_id.clone()).or_default();
            entry.state.apply(&obs);
            if entry.state.latest.get(&obs.observer).map(|o| &o.id) == Some(&obs.id) {
                entry.seq_of_observer.insert(obs.observer.clone(), seq);
            }
        }
        for (todo_id, entry) in &loaded {
            for (observer, seq) in &entry.seq_of_observer {
                self.write_latest(todo_id, observer, *seq)?;
            }
            self.write_todo(todo_id, entry, generation)?;
        }
        self.set_meta("fold_generation", &generation.to_string())?;
        Ok(loaded.len())
    }

    /// The fold generation this transaction's changes get, should it make any.
    fn next_generation(&self) -> Result<u64> {
        Ok(self.counter("fold_generation")? + 1)
    }

    fn write_latest(&self, todo_id: &str, observer: &str, seq: i64) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO latest (todo_id, observer, seq) VALUES (?1, ?2, ?3)
                 ON CONFLICT (todo_id, observer) DO UPDATE SET seq = excluded.seq",
            )?
            .execute(params![todo_id, observer, seq])?;
        Ok(())
    }

    /// Writes a todo's folded row, stamped with `generation` if its entry or
    /// conflict changed; returns whether they did.
    fn write_todo(&self, todo_id: &str, loaded: &Loaded, generation: u64) -> Result<bool> {
        let Some(Resolved { entry, conflict }) = loaded.state.resolve() else {
            return Ok(false);
        };
        let entry_json = serde_json::to_string(&entry)
            .map_err(|e| crate::StoreError::corrupt("todo entry", e))?;
        let conflict_json = conflict
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| crate::StoreError::corrupt("conflict", e))?;
        let changed = loaded.previous_entry.as_deref() != Some(entry_json.as_str())
            || loaded.previous_conflict != conflict_json;
        let millis = |t: Option<Timestamp>| t.map(Timestamp::millis);
        self.conn()
            .prepare_cached(
                "INSERT INTO todos (todo_id, project, sort_key, status, sessions, first_seen, started_at, updated_at, completed_at, first_completed, entry, conflict, generation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (todo_id) DO UPDATE SET
                   generation = CASE WHEN ?14 THEN excluded.generation ELSE todos.generation END,
                   project = excluded.project, sort_key = excluded.sort_key, status = excluded.status,
                   sessions = excluded.sessions, first_seen = excluded.first_seen,
                   started_at = excluded.started_at, updated_at = excluded.updated_at,
                   completed_at = excluded.completed_at, first_completed = excluded.first_completed,
                   entry = excluded.entry, conflict = excluded.conflict",
            )?
            .execute(params![
                todo_id,
                entry.project,
                normalize(&entry.content),
                entry.status.as_str(),
                serde_json::to_string(&entry.sessions).unwrap_or_else(|_| "[]".into()),
                millis(entry.first_seen).unwrap_or_default(),
                millis(entry.started_at),
                millis(entry.updated_at).unwrap_or_default(),
                millis(entry.completed_at),
                millis(loaded.state.first_completed),
                entry_json,
                conflict_json,
                generation as i64,
                changed,
            ])?;
        Ok(changed)
    }

    fn todo_count(&self) -> Result<usize> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM todos", [], |r| r.get::<_, i64>(0))?
            as usize)
    }

    /// Loads the stored states of these todos (absent ones are simply missing).
    fn load_states(&self, ids: &[&str]) -> Result<HashMap<String, Loaded>> {
        let mut out: HashMap<String, Loaded> = HashMap::with_capacity(ids.len());
        if ids.len() > BULK_LOAD_THRESHOLD {
            let wanted: HashSet<&str> = ids.iter().copied().collect();
            if self.todo_count()? == 0 {
                return Ok(out);
            }
            let mut stmt = self
                .conn()
                .prepare(&format!("SELECT {STATE_COLUMNS} FROM todos"))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                if wanted.contains(id.as_str()) {
                    out.insert(id, loaded_from_todo_row(row)?);
                }
            }
            let mut stmt = self.conn().prepare(&format!(
                "SELECT l.todo_id, {OBSERVATION_COLUMNS} FROM latest l JOIN observations o ON o.seq = l.seq"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                if let Some(entry) = out.get_mut(id.as_str()) {
                    add_latest(entry, row.get(1)?, observation_from_row(row, 1)?);
                }
            }
            return Ok(out);
        }
        let mut todo_stmt = self.conn().prepare_cached(&format!(
            "SELECT {STATE_COLUMNS} FROM todos WHERE todo_id = ?1"
        ))?;
        let mut latest_stmt = self.conn().prepare_cached(&format!(
            "SELECT l.todo_id, {OBSERVATION_COLUMNS} FROM latest l JOIN observations o ON o.seq = l.seq WHERE l.todo_id = ?1"
        ))?;
        for id in ids {
            let Some(mut entry) = todo_stmt.query_row([id], loaded_from_todo_row).optional()?
            else {
                continue;
            };
            let mut rows = latest_stmt.query([id])?;
            while let Some(row) = rows.next()? {
                add_latest(&mut entry, row.get(1)?, observation_from_row(row, 1)?);
            }
            out.insert(id.to_string(), entry);
        }
        Ok(out)
    }
}

fn loaded_from_todo_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Loaded> {
    let mut state = TodoState {
        first_seen: Some(Timestamp(row.get(1)?)),
        ..TodoState::default()
    };
    state.started_at = row.get::<_, Option<i64>>(2)?.map(Timestamp);
    state.first_completed = row.get::<_, Option<i64>>(3)?.map(Timestamp);
    let sessions: String = row.get(6)?;
    state.sessions = serde_json::from_str(&sessions).unwrap_or_default();
    Ok(Loaded {
        state,
        seq_of_observer: HashMap::new(),
        previous_entry: row.get(4)?,
        previous_conflict: row.get(5)?,
    })
}

fn add_latest(entry: &mut Loaded, seq: i64, obs: Observation) {
    entry.seq_of_observer.insert(obs.observer.clone(), seq);
    entry.state.latest.insert(obs.observer.clone(), obs);
}
