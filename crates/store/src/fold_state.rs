//! Folding new observations into the stored fold, touching only their todos.
//!
//! The fold's accumulator ([`TodoState`]) is kept on disk: each observer's
//! latest observation per todo (table `latest`) and each todo's first-seen,
//! started and first-completed times (table `todos`). New facts load the states of the todos they
//! name, apply, and write back only what changed — the same core code a full
//! refold uses, so incremental equals full.

use crate::observations::{IdSet, LoadIndex, WholeLog};
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

impl Loaded {
    /// Folds in an observation logged at `seq` (of a todo with no stored
    /// state: bulk loads and refolds).
    fn add(&mut self, seq: i64, obs: &Observation) {
        self.state.apply(obs);
        if self.state.latest.get(&obs.observer).map(|o| &o.id) == Some(&obs.id) {
            note_seq(&mut self.seq_of_observer, &obs.observer, seq);
        }
    }

    /// [`Loaded::add`] of an observation the caller is done with.
    fn add_owned(&mut self, seq: i64, obs: Observation) {
        if let Some(word) = self.state.apply_owned(obs) {
            note_seq(&mut self.seq_of_observer, &word.observer, seq);
        }
    }
}

/// Sets the `seq` of an observer's latest word (its name copied only the
/// first time).
fn note_seq(seq_of_observer: &mut HashMap<String, i64>, observer: &str, seq: i64) {
    match seq_of_observer.get_mut(observer) {
        Some(known) => *known = seq,
        None => {
            seq_of_observer.insert(observer.to_string(), seq);
        }
    }
}

/// The columns [`loaded_from_todo_row`] reads, in its order.
const STATE_COLUMNS: &str =
    "todo_id, first_seen, started_at, first_completed, entry, conflict, sessions";

/// A folded row of a todo that has none yet.
const INSERT_TODO: &str = "INSERT INTO todos (todo_id, project, sort_key, status, sessions, first_seen, started_at, updated_at, completed_at, first_completed, entry, conflict, generation)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// A folded row, new or replacing the todo's, its generation moved only when
/// `?14` (its entry or conflict changed).
const UPSERT_TODO: &str = "INSERT INTO todos (todo_id, project, sort_key, status, sessions, first_seen, started_at, updated_at, completed_at, first_completed, entry, conflict, generation)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
     ON CONFLICT (todo_id) DO UPDATE SET
       generation = CASE WHEN ?14 THEN excluded.generation ELSE todos.generation END,
       project = excluded.project, sort_key = excluded.sort_key, status = excluded.status,
       sessions = excluded.sessions, first_seen = excluded.first_seen,
       started_at = excluded.started_at, updated_at = excluded.updated_at,
       completed_at = excluded.completed_at, first_completed = excluded.first_completed,
       entry = excluded.entry, conflict = excluded.conflict";

/// An observer's latest word on a todo that has none yet.
const INSERT_LATEST: &str =
    "INSERT INTO latest (todo_id, observer, seq, status, session) VALUES (?1, ?2, ?3, ?4, ?5)";

/// The part of a fold of the whole log in `parts` that a todo falls in, by
/// its id: a range of ids, in order (its first eight hex digits, spread
/// evenly by the hash they are a prefix of). An id that does not start with
/// hex digits (none that this program writes) falls in the first part.
fn part_of(todo: &[u8], parts: u64) -> u64 {
    let prefix = todo
        .get(..8)
        .and_then(|p| std::str::from_utf8(p).ok())
        .and_then(|p| u32::from_str_radix(p, 16).ok())
        .unwrap_or(0);
    (u64::from(prefix) * parts) >> 32
}

/// The most fold states a fold of the whole log holds at once: each is a
/// few KB (every observer's latest observation, the sessions), so this
/// bounds a cold run's memory to some 100 MB for them whatever the size of
/// the home. Two parts are held at once, one folded while the other is
/// written.
const STATES_HELD: usize = 25_000;
const STATES_PER_PART: usize = STATES_HELD / 2;

/// Above this many todos, one scan beats a lookup per todo.
const BULK_LOAD_THRESHOLD: usize = 512;

/// A load into an empty store (a cold run, a first pull from git or the
/// hub), in as many batches as its caller likes: the observations are
/// appended as they come and nothing else is held; at the end the log is
/// read back a todo at a time (by its index on todos, built first) and the
/// fold rows and each observer's latest word are written; the other
/// secondary indexes are dropped at the start and built again from sorted
/// keys at the end. All inside the caller's transaction, so a kill during
/// the load leaves the store as it was (docs/ARCHITECTURE.md, "How a cold
/// run is stored").
pub struct BulkLoad {
    /// The tables and SQL of the dropped indexes, to build them again.
    deferred: Vec<(String, String)>,
    new_observations: usize,
    /// The ids appended, to skip a second copy.
    ids: IdSet,
    /// What `log_index` will hold: (todo, id, seq) of each appended observation.
    index: LoadIndex,
}

impl Tx<'_> {
    /// Appends observations (skipping those already logged) and folds the new
    /// ones into the stored fold.
    pub fn ingest(&self, observations: &[Observation], via: Via) -> Result<FoldChange> {
        // A large batch into an empty store is a bulk load: the secondary
        // indexes are built once after it, instead of kept up to date row
        // by row.
        if observations.len() > BULK_LOAD_THRESHOLD {
            if let Some(load) = self.begin_bulk_load()? {
                return self.finish_bulk_load(load, observations, via);
            }
        }
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
                        self.write_latest(todo_id, obs, *seq)?;
                    }
                }
            }
            if self.write_todo(todo_id, current, generation, false)? {
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

    /// Starts a [`BulkLoad`], if the store holds no observation and no
    /// folded todo (else `None`: batches are [`Tx::ingest`]ed).
    pub fn begin_bulk_load(&self) -> Result<Option<BulkLoad>> {
        if !self.is_empty_store()? {
            return Ok(None);
        }
        Ok(Some(BulkLoad {
            deferred: self.defer_indexes(&["latest", "todos"])?,
            new_observations: 0,
            ids: IdSet::default(),
            index: LoadIndex::default(),
        }))
    }

    /// Appends a batch of a bulk load (skipping observations already
    /// logged); returns how many were new.
    pub fn bulk_add(
        &self,
        load: &mut BulkLoad,
        observations: &[Observation],
        via: Via,
    ) -> Result<usize> {
        let fresh = self
            .append_unindexed(observations, via, &mut load.ids, &mut load.index)?
            .len();
        load.new_observations += fresh;
        Ok(fresh)
    }

    /// Appends a bulk load's last batch, writes the log's index, folds the
    /// log, writes the fold and builds the indexes again. A load that came
    /// in this one batch is folded from memory, a todo's observations
    /// grouped; one that came in several is read back from the log a todo
    /// at a time, so that no batch is held after it is appended.
    pub fn finish_bulk_load(
        &self,
        mut load: BulkLoad,
        last: &[Observation],
        via: Via,
    ) -> Result<FoldChange> {
        let fresh = self.append_unindexed(last, via, &mut load.ids, &mut load.index)?;
        drop(load.ids);
        let generation = self.next_generation()?;
        // In the index's key order: appended to its B-tree, not scattered.
        load.index.sort();
        let changed_todos = if load.new_observations == 0 {
            self.write_load_index(&load.index)?;
            drop(load.index);
            self.fold_batch(&fresh, generation)?
        } else {
            let index = load.index;
            let todos = index.todos();
            // Written while the first part is folded; freed once written.
            self.fold_whole_log(todos, generation, move || self.write_load_index(&index))?
                .1
        };
        self.restore_indexes(&load.deferred)?;
        if !changed_todos.is_empty() {
            self.set_meta("fold_generation", &generation.to_string())?;
        }
        Ok(FoldChange {
            new_observations: load.new_observations + fresh.len(),
            changed_todos,
        })
    }

    /// Folds a batch of new observations (with their `seq`) of todos that
    /// have no fold rows yet, each todo's state freed once written; returns
    /// the todos whose rows were written.
    fn fold_batch(&self, fresh: &[(i64, &Observation)], generation: u64) -> Result<Vec<String>> {
        let mut by_todo: BTreeMap<&str, Vec<(i64, &Observation)>> = BTreeMap::new();
        for (seq, obs) in fresh {
            by_todo
                .entry(obs.todo_id.as_str())
                .or_default()
                .push((*seq, obs));
        }
        // In the tables' key order, (project, content) and (todo, observer):
        // appended to the B-trees, not scattered.
        let mut ordered: Vec<(&str, Vec<(i64, &Observation)>)> = by_todo.into_iter().collect();
        ordered.sort_by_cached_key(|(_, new)| {
            (new[0].1.project.clone(), normalize(&new[0].1.content))
        });
        // Each observer's latest word, borrowed from the batch by its `seq`
        // (the batch outlives this; a clone of each would be freed unused).
        let mut latest_rows: Vec<(&str, i64, &Observation)> = Vec::new();
        let mut changed = Vec::new();
        for (todo_id, new) in ordered {
            let mut entry = Loaded::default();
            for (seq, obs) in &new {
                entry.add(*seq, obs);
            }
            for (seq, word) in &new {
                if entry.seq_of_observer.get(word.observer.as_str()) == Some(seq) {
                    latest_rows.push((todo_id, *seq, word));
                }
            }
            if self.write_todo(todo_id, &entry, generation, true)? {
                changed.push(todo_id.to_string());
            }
        }
        latest_rows.sort_unstable_by(|a, b| (a.0, &a.2.observer).cmp(&(b.0, &b.2.observer)));
        for (todo_id, seq, word) in &latest_rows {
            self.insert_latest(todo_id, word, *seq)?;
        }
        Ok(changed)
    }

    /// Folds the whole log into `latest` and `todos`, which hold nothing of
    /// it yet (docs/ARCHITECTURE.md, "How a cold run is stored"). The log
    /// is read from its start once per part of the todos, on a thread of
    /// its own: while this one writes a part's rows (and first runs
    /// `meanwhile`, a load's index of the log), that one folds the next, so
    /// at most two parts of [`STATES_PER_PART`] fold states are held. The
    /// parts are ranges of the todos' ids, in order, so each observer's
    /// latest word goes into `latest` (keyed by todo, then observer) after
    /// every row written before it: appended to its B-tree, not put between
    /// rows. `todos` is how many there are, to choose the parts. Returns
    /// how many were folded and those whose rows were written.
    fn fold_whole_log(
        &self,
        todos: usize,
        generation: u64,
        meanwhile: impl FnOnce() -> Result<()>,
    ) -> Result<(usize, Vec<String>)> {
        let parts = todos.div_ceil(STATES_PER_PART).max(1) as u64;
        self.fold_whole_log_in_parts(parts, generation, meanwhile)
    }

    fn fold_whole_log_in_parts(
        &self,
        parts: u64,
        generation: u64,
        meanwhile: impl FnOnce() -> Result<()>,
    ) -> Result<(usize, Vec<String>)> {
        let log = self.whole_log()?;
        let mut part = 0;
        let mut folded = 0;
        let mut changed = Vec::new();
        crate::make_beside(
            || {
                let next = (part < parts).then(|| fold_part(&log, part, parts));
                part += 1;
                next
            },
            meanwhile,
            |ordered| {
                folded += ordered.len();
                self.write_part(ordered, generation, &mut changed)
            },
        )?;
        Ok((folded, changed))
    }

    /// Writes the fold rows of a part of a fold of the whole log, in
    /// `todos`' key order, then each observer's latest word in `latest`'s;
    /// adds to `changed` the todos whose rows were written.
    fn write_part(
        &self,
        ordered: &[(String, Loaded)],
        generation: u64,
        changed: &mut Vec<String>,
    ) -> Result<()> {
        let mut latest_rows = Vec::new();
        for (todo_id, entry) in ordered {
            if self.write_todo(todo_id, entry, generation, true)? {
                changed.push(todo_id.clone());
            }
            for (observer, seq) in &entry.seq_of_observer {
                if let Some(word) = entry.state.latest.get(observer) {
                    latest_rows.push((todo_id.as_str(), *seq, word));
                }
            }
        }
        latest_rows.sort_unstable_by(|a, b| (a.0, &a.2.observer).cmp(&(b.0, &b.2.observer)));
        for (todo_id, seq, word) in latest_rows {
            self.insert_latest(todo_id, word, seq)?;
        }
        Ok(())
    }

    /// How many todos the log holds observations of.
    fn logged_todos(&self) -> Result<usize> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM (SELECT DISTINCT todo_id FROM log_index)",
            [],
            |r| r.get::<_, i64>(0),
        )? as usize)
    }

    /// Forgets the stored fold and folds the whole log again. The result must
    /// equal the incremental one; this exists for repairs and to prove that.
    pub fn refold_all(&self) -> Result<usize> {
        let generation = self.next_generation()?;
        // Readers that keep the fold rendered start over.
        self.bump_counter("fold_epoch")?;
        self.conn()
            .execute_batch("DELETE FROM latest; DELETE FROM todos;")?;
        let deferred = self.defer_indexes(&["latest", "todos"])?;
        let (todos, _) = self.fold_whole_log(self.logged_todos()?, generation, || Ok(()))?;
        self.restore_indexes(&deferred)?;
        self.set_meta("fold_generation", &generation.to_string())?;
        Ok(todos)
    }

    /// The fold generation this transaction's changes get, should it make any.
    fn next_generation(&self) -> Result<u64> {
        Ok(self.counter("fold_generation")? + 1)
    }

    /// Sets an observer's latest word on a todo: the observation's `seq`,
    /// and its status and session, which the collision queries read
    /// without the log (docs/COLLISIONS.md).
    fn write_latest(&self, todo_id: &str, word: &Observation, seq: i64) -> Result<()> {
        self.put_latest(
            "INSERT INTO latest (todo_id, observer, seq, status, session) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (todo_id, observer) DO UPDATE SET
               seq = excluded.seq, status = excluded.status, session = excluded.session",
            todo_id,
            word,
            seq,
        )
    }

    /// Adds an observer's latest word on a todo that has none yet (bulk
    /// loads, whose tables' secondary indexes are deferred).
    fn insert_latest(&self, todo_id: &str, word: &Observation, seq: i64) -> Result<()> {
        self.put_latest(INSERT_LATEST, todo_id, word, seq)
    }

    fn put_latest(&self, sql: &str, todo_id: &str, word: &Observation, seq: i64) -> Result<()> {
        self.conn().prepare_cached(sql)?.execute(params![
            todo_id,
            word.observer,
            seq,
            word.status.as_str(),
            word.session
        ])?;
        Ok(())
    }

    /// Whether the store holds no observation and no folded todo.
    fn is_empty_store(&self) -> Result<bool> {
        Ok(self.log_seq()? == 0 && no_todos(self.conn())?)
    }

    /// Drops the secondary indexes of these tables (their definitions as the
    /// schema holds them, whichever migration made them) and returns the SQL
    /// that makes them again. Inside the transaction: a run killed before
    /// its commit leaves them as they were.
    fn defer_indexes(&self, tables: &[&str]) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn().prepare(
            "SELECT name, tbl_name, sql FROM sqlite_master
             WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(?1))",
        )?;
        let tables = serde_json::to_string(tables).unwrap_or_default();
        let indexes = stmt
            .query_map([tables], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut deferred = Vec::with_capacity(indexes.len());
        for (name, table, sql) in indexes {
            self.conn()
                .execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
            deferred.push((table, sql));
        }
        Ok(deferred)
    }

    /// Builds again the indexes [`Tx::defer_indexes`] dropped.
    fn restore_indexes(&self, deferred: &[(String, String)]) -> Result<()> {
        for (_, sql) in deferred {
            self.conn().execute_batch(sql)?;
        }
        Ok(())
    }

    /// Writes a todo's folded row, stamped with `generation` if its entry or
    /// conflict changed; returns whether they did. `new_row`: the todo has no
    /// row yet (a bulk load, whose unique index on `todo_id` is deferred).
    fn write_todo(
        &self,
        todo_id: &str,
        loaded: &Loaded,
        generation: u64,
        new_row: bool,
    ) -> Result<bool> {
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
        let mut stmt =
            self.conn()
                .prepare_cached(if new_row { INSERT_TODO } else { UPSERT_TODO })?;
        let values = params![
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
        ];
        // A new row takes all but the last value: whether it changed.
        stmt.execute(if new_row { &values[..13] } else { values })?;
        Ok(changed)
    }

    /// Loads the stored states of these todos (absent ones are simply missing).
    fn load_states(&self, ids: &[&str]) -> Result<HashMap<String, Loaded>> {
        let mut out: HashMap<String, Loaded> = HashMap::with_capacity(ids.len());
        if ids.len() > BULK_LOAD_THRESHOLD {
            let wanted: HashSet<&str> = ids.iter().copied().collect();
            if self.is_empty_store()? {
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
            let mut stmt = self.conn().prepare("SELECT todo_id, seq FROM latest")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                if let Some(entry) = out.get_mut(id) {
                    let record = self.logged(row.get(1)?)?;
                    add_latest(entry, record.seq, record.observation);
                }
            }
            return Ok(out);
        }
        let mut todo_stmt = self.conn().prepare_cached(&format!(
            "SELECT {STATE_COLUMNS} FROM todos WHERE todo_id = ?1"
        ))?;
        let mut latest_stmt = self
            .conn()
            .prepare_cached("SELECT seq FROM latest WHERE todo_id = ?1")?;
        for id in ids {
            let Some(mut entry) = todo_stmt.query_row([id], loaded_from_todo_row).optional()?
            else {
                continue;
            };
            let seqs = latest_stmt
                .query_map([id], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for seq in seqs {
                let record = self.logged(seq)?;
                add_latest(&mut entry, record.seq, record.observation);
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

/// Whether the fold holds no todo.
pub(crate) fn no_todos(conn: &rusqlite::Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM todos)", [], |r| r.get(0))?)
}

/// Folds the todos of one part of the whole log (see
/// [`Tx::fold_whole_log`]): every record of them, in the order logged.
/// Returns their states in `todos`' key order, (project, content).
fn fold_part(log: &WholeLog, part: u64, parts: u64) -> Result<Vec<(String, Loaded)>> {
    let mut states: HashMap<String, Loaded> = HashMap::new();
    log.each_of_todos(
        |todo| part_of(todo, parts) == part,
        |record| {
            let obs = record.observation;
            match states.get_mut(obs.todo_id.as_str()) {
                Some(state) => state.add_owned(record.seq, obs),
                None => {
                    let mut state = Loaded::default();
                    let todo_id = obs.todo_id.clone();
                    state.add_owned(record.seq, obs);
                    states.insert(todo_id, state);
                }
            }
            Ok(())
        },
    )?;
    let mut ordered: Vec<(String, Loaded)> = states.into_iter().collect();
    ordered.sort_by_cached_key(|(id, entry)| {
        let any = entry.state.latest.values().next();
        (
            any.map(|o| o.project.clone()),
            any.map(|o| normalize(&o.content)),
            id.clone(),
        )
    });
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use crate::{Store, Via};
    use chittysync_core::{Observation, Source, Status, Timestamp};

    /// The parts of a fold of the whole log are ranges of todo ids, in
    /// order, so `latest` is written in its key order; every id has one.
    #[test]
    fn the_parts_are_ranges_of_ids_in_order() {
        let mut ids: Vec<String> = (0..2000)
            .map(|i| chittysync_core::todo_id("p", &format!("todo {i}")))
            .collect();
        ids.sort();
        for parts in [1, 2, 5, 7] {
            let of: Vec<u64> = ids
                .iter()
                .map(|id| super::part_of(id.as_bytes(), parts))
                .collect();
            assert!(of.windows(2).all(|w| w[0] <= w[1]), "{parts} parts");
            assert!(of.iter().all(|p| *p < parts), "{parts} parts");
            // Spread evenly: each part holds some of 2,000 hashed ids.
            for part in 0..parts {
                assert!(of.iter().filter(|p| **p == part).count() > 2000 / parts as usize / 2);
            }
        }
        assert_eq!(super::part_of(b"ffffffffffffffff", 7), 6);
        assert_eq!(super::part_of(b"not hex!", 7), 0);
        assert_eq!(super::part_of(b"abc", 7), 0);
    }

    /// A fold of the whole log in parts (a home of more todos than
    /// `STATES_PER_PART`) writes the same rows as in one.
    #[test]
    fn the_whole_log_folded_in_parts_equals_it_folded_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let all: Vec<Observation> = (0..600)
            .map(|i: usize| {
                Observation::new(
                    &format!("p{}", i % 5),
                    format!("Todo {}", i % 97),
                    None,
                    Status::ALL[i % 4],
                    format!("s{}", i % 11),
                    Some(format!("s{}", i % 11)),
                    "dev",
                    Source::File,
                    Timestamp((i * 7 % 13) as i64),
                )
            })
            .collect();
        for batch in all.chunks(50) {
            let tx = store.begin().unwrap();
            tx.ingest(batch, Via::Local).unwrap();
            tx.commit().unwrap();
        }
        let rows = |store: &Store| {
            let latest: Vec<(String, String, i64, String, Option<String>)> = store
                .conn()
                .prepare("SELECT todo_id, observer, seq, status, session FROM latest ORDER BY 1, 2")
                .unwrap()
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            (store.folded_todos().unwrap(), latest)
        };
        let incremental = rows(&store);
        for parts in [1, 2, 7, 1000] {
            let tx = store.begin().unwrap();
            tx.conn()
                .execute_batch("DELETE FROM latest; DELETE FROM todos;")
                .unwrap();
            let (folded, _) = tx.fold_whole_log_in_parts(parts, 1, || Ok(())).unwrap();
            assert_eq!(folded, incremental.0.len(), "{parts} parts");
            tx.commit().unwrap();
            assert_eq!(rows(&store), incremental, "{parts} parts");
        }
    }
}
