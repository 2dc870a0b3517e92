//! Reads for the dashboard (docs/UI.md, "Reading the store"): the folded
//! rows with only the columns a page needs — the entry holds the rest, so
//! nothing is parsed twice — and one consistent view of the store for the
//! several reads that make one picture.

use crate::{Result, Store, StoreError};
use chittysync_core::{Conflict, TodoEntry};

/// A folded todo as the dashboard reads it: its place in output order and
/// its entry and conflict, still serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldRow {
    /// The normalized content: with the project and the id (both in the
    /// entry), the todo's place in output order.
    pub sort_key: String,
    /// The `todos.json` entry, serialized.
    pub entry_json: String,
    /// The `conflicts.json` entry, serialized, when observers disagree.
    pub conflict_json: Option<String>,
}

/// A [`FoldRow`] parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldedTodo {
    pub sort_key: String,
    pub entry: TodoEntry,
    pub conflict: Option<Conflict>,
}

impl FoldRow {
    pub fn parse(self) -> Result<FoldedTodo> {
        let entry = serde_json::from_str(&self.entry_json)
            .map_err(|e| StoreError::corrupt("todo entry", e))?;
        let conflict = match self.conflict_json.as_deref() {
            Some(json) => {
                Some(serde_json::from_str(json).map_err(|e| StoreError::corrupt("conflict", e))?)
            }
            None => None,
        };
        Ok(FoldedTodo {
            sort_key: self.sort_key,
            entry,
            conflict,
        })
    }
}

const SELECT_ROWS: &str = "SELECT sort_key, entry, conflict FROM todos";

fn fold_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<FoldRow> {
    Ok(FoldRow {
        sort_key: row.get(0)?,
        entry_json: row.get(1)?,
        conflict_json: row.get(2)?,
    })
}

impl Store {
    /// Every folded todo (deleted ones too), in output order: a walk of the
    /// table's key.
    pub fn fold_rows(&self) -> Result<Vec<FoldRow>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT_ROWS} ORDER BY project, sort_key, todo_id"
        ))?;
        let rows = stmt.query_map([], fold_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The folded todos whose row changed after fold generation `generation`
    /// (deleted ones too), in output order: a range of the
    /// `todos_generation` index, as [`Store::todos_changed_since`].
    pub fn fold_rows_changed_since(&self, generation: u64) -> Result<Vec<FoldRow>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT_ROWS} INDEXED BY todos_generation WHERE generation > ?1
             ORDER BY project, sort_key, todo_id"
        ))?;
        let rows = stmt.query_map([generation as i64], fold_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Runs `f` in one read transaction: every read in it sees the store as
    /// it was at its first read, whatever other processes commit meanwhile
    /// (a fold generation and the rows it names agree). Inside a transaction
    /// already, `f` just runs.
    pub fn read_consistent<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        if !self.conn().is_autocommit() {
            return f(self);
        }
        self.conn().execute_batch("BEGIN DEFERRED")?;
        let out = f(self);
        // A read transaction has nothing to keep: ending it cannot lose work.
        let end = self.conn().execute_batch("COMMIT");
        if end.is_err() {
            let _ = self.conn().execute_batch("ROLLBACK");
        }
        let value = out?;
        end?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, Via};
    use chittysync_core::{Observation, Status, Timestamp};

    /// `session`'s observation of `content` in project `api`.
    fn observation(content: &str, status: Status, session: &str, at: i64) -> Observation {
        let mut o = crate::views::tests::observation("api", content, session);
        o.status = status;
        o.observed_at = Timestamp(at);
        o.id = o.computed_id();
        o
    }

    #[test]
    fn fold_rows_are_the_stored_rows_and_the_changed_ones_since_a_generation() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let ingest = |store: &mut Store, obs: &[Observation]| {
            let tx = store.begin().unwrap();
            tx.ingest(obs, Via::Local).unwrap();
            tx.commit().unwrap();
        };
        ingest(
            &mut store,
            &[
                observation("Ship it", Status::Pending, "s1", 1),
                observation("Test it", Status::Pending, "s1", 2),
            ],
        );
        let generation = store.fold_generation().unwrap();
        ingest(
            &mut store,
            &[observation("Ship it", Status::Completed, "s2", 3)],
        );
        let same = |rows: Vec<super::FoldRow>, stored: Vec<crate::StoredTodo>| {
            let rows: Vec<_> = rows
                .into_iter()
                .map(|r| (r.sort_key, r.entry_json, r.conflict_json))
                .collect();
            let stored: Vec<_> = stored
                .into_iter()
                .map(|t| (t.sort_key, t.entry_json, t.conflict_json))
                .collect();
            assert_eq!(rows, stored);
        };
        same(store.fold_rows().unwrap(), store.folded_todos().unwrap());
        let changed = store.fold_rows_changed_since(generation).unwrap();
        assert_eq!(changed.len(), 1);
        assert!(changed[0].conflict_json.is_some(), "s1 and s2 disagree");
        same(
            changed.clone(),
            store.todos_changed_since(generation).unwrap(),
        );
        let parsed = changed[0].clone().parse().unwrap();
        let stored = &store.todos_changed_since(generation).unwrap()[0];
        assert_eq!(parsed.entry, stored.entry().unwrap());
        assert_eq!(parsed.conflict, stored.conflict().unwrap());
        assert_eq!(parsed.entry.status, Status::Completed);

        let read = store
            .read_consistent(|s| Ok((s.fold_generation()?, s.fold_rows()?.len())))
            .unwrap();
        assert_eq!(read, (store.fold_generation().unwrap(), 2));
        // Nested, it just runs; after it, writes go on as before.
        let nested = store
            .read_consistent(|s| s.read_consistent(|s| s.fold_generation()))
            .unwrap();
        assert_eq!(nested, read.0);
        ingest(
            &mut store,
            &[observation("Doc it", Status::Pending, "s3", 4)],
        );
        assert_eq!(store.fold_rows().unwrap().len(), 3);
    }
}
