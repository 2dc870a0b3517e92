//! The append-only observation log.

use crate::{Result, Store, StoreError, Tx};
use chittysync_core::{Observation, Source, Status, Timestamp};
use rusqlite::{params, Connection, Row};
use std::collections::HashMap;
use std::sync::OnceLock;

/// How an observation reached this store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Read here: files, transcripts, hooks, user commands.
    Local,
    /// Pulled from the git sync repository.
    Git,
    /// Pulled from the sync hub.
    Hub,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Local => "local",
            Via::Git => "git",
            Via::Hub => "hub",
        }
    }
}

pub(crate) const OBSERVATION_COLUMNS: &str = "o.seq, o.id, o.todo_id, o.project, o.content, o.active_form, o.status, o.observer, o.session, o.device, o.source, o.observed_at, o.via";

/// Reads the columns of [`OBSERVATION_COLUMNS`] starting at `at`.
pub(crate) fn observation_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<Observation> {
    let status: String = row.get(at + 6)?;
    let source: String = row.get(at + 10)?;
    Ok(Observation {
        id: row.get(at + 1)?,
        todo_id: row.get(at + 2)?,
        project: row.get(at + 3)?,
        content: row.get(at + 4)?,
        active_form: row.get(at + 5)?,
        status: Status::parse(&status).unwrap_or(Status::Pending),
        observer: row.get(at + 7)?,
        session: row.get(at + 8)?,
        device: row.get(at + 9)?,
        source: source.parse::<Source>().unwrap_or(Source::File),
        observed_at: Timestamp(row.get(at + 11)?),
    })
}

/// An observation with its place in the local log and how it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedObservation {
    pub seq: i64,
    pub via: String,
    pub observation: Observation,
}

fn logged_from_row(row: &Row<'_>) -> rusqlite::Result<LoggedObservation> {
    Ok(LoggedObservation {
        seq: row.get(0)?,
        via: row.get(12)?,
        observation: observation_from_row(row, 0)?,
    })
}

fn query_logged(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<LoggedObservation>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, logged_from_row)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(StoreError::from)
}

/// The columns an appended observation fills, in the order bound.
const INSERT_COLUMNS: &str = "id, todo_id, project, content, active_form, status, observer, session, device, source, observed_at, via";

/// Observations per multi-row `INSERT`: 12 values each, far below SQLite's
/// limit of 32,766 bound values, and large enough that the statement's cost
/// is spread thin (docs/ARCHITECTURE.md, "How a cold run is stored").
const ROWS_PER_INSERT: usize = 64;

/// `INSERT … VALUES (…), (…) … ON CONFLICT (id) DO NOTHING RETURNING seq, id`
/// for `rows` observations: what was new comes back with its sequence number.
fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT INTO observations ({INSERT_COLUMNS}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        let at = row * 12;
        sql.push('(');
        for column in 1..=12 {
            if column > 1 {
                sql.push(',');
            }
            sql.push_str(&format!("?{}", at + column));
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING seq, id");
    sql
}

impl Tx<'_> {
    /// Appends the observations not already in the log (by id) and returns
    /// those that were new, with their sequence numbers, in log order.
    pub fn append_observations<'o>(
        &self,
        observations: impl IntoIterator<Item = &'o Observation>,
        via: Via,
    ) -> Result<Vec<(i64, &'o Observation)>> {
        static ONE: OnceLock<String> = OnceLock::new();
        static MANY: OnceLock<String> = OnceLock::new();
        let observations: Vec<&Observation> = observations.into_iter().collect();
        let mut fresh = Vec::new();
        let full = observations.len() / ROWS_PER_INSERT * ROWS_PER_INSERT;
        let (many, rest) = observations.split_at(full);
        let chunks = many
            .chunks(ROWS_PER_INSERT)
            .map(|c| (c, MANY.get_or_init(|| insert_sql(ROWS_PER_INSERT))))
            .chain(
                rest.chunks(1)
                    .map(|c| (c, ONE.get_or_init(|| insert_sql(1)))),
            );
        for (chunk, sql) in chunks {
            let mut stmt = self.conn().prepare_cached(sql)?;
            let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 12);
            let statuses: Vec<&str> = chunk.iter().map(|o| o.status.as_str()).collect();
            let sources: Vec<&str> = chunk.iter().map(|o| o.source.as_str()).collect();
            let times: Vec<i64> = chunk.iter().map(|o| o.observed_at.millis()).collect();
            let via = via.as_str();
            for (i, o) in chunk.iter().enumerate() {
                values.extend_from_slice(&[
                    &o.id,
                    &o.todo_id,
                    &o.project,
                    &o.content,
                    &o.active_form,
                    &statuses[i],
                    &o.observer,
                    &o.session,
                    &o.device,
                    &sources[i],
                    &times[i],
                    &via,
                ]);
            }
            // The first of a chunk's rows with an id is the one inserted.
            let mut by_id: HashMap<&str, &Observation> = HashMap::with_capacity(chunk.len());
            for o in chunk.iter().rev() {
                by_id.insert(o.id.as_str(), o);
            }
            let mut rows = stmt.query(values.as_slice())?;
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                let id = row.get_ref(1)?.as_str().ok();
                if let Some(o) = id.and_then(|id| by_id.get(id)) {
                    fresh.push((seq, *o));
                }
            }
        }
        // RETURNING gives rows in no promised order.
        fresh.sort_unstable_by_key(|(seq, _)| *seq);
        Ok(fresh)
    }
}

impl Tx<'_> {
    /// The observations read on this device (`via` local) by these sessions
    /// or by the tasks of these lists, oldest first: those to place again
    /// when what decides their project changed. A scan of the log, for the
    /// rare runs that learn a session's folder after placing its todos.
    pub fn local_observations_of(
        &self,
        sessions: &[String],
        lists: &[String],
    ) -> Result<Vec<Observation>> {
        let sessions = serde_json::json!(sessions).to_string();
        let prefixes: Vec<String> = lists.iter().map(|l| format!("task:{l}/")).collect();
        let prefixes = serde_json::json!(prefixes).to_string();
        Ok(query_logged(
            self.conn(),
            &format!(
                "SELECT {OBSERVATION_COLUMNS} FROM observations o WHERE o.via = 'local' AND (
                   o.session IN (SELECT value FROM json_each(?1))
                   OR EXISTS (SELECT 1 FROM json_each(?2) p
                              WHERE substr(o.observer, 1, length(p.value)) = p.value))
                 ORDER BY o.observed_at, o.seq"
            ),
            params![sessions, prefixes],
        )?
        .into_iter()
        .map(|l| l.observation)
        .collect())
    }
}

impl Store {
    /// Every observation of a todo, oldest first.
    pub fn history(&self, todo_id: &str) -> Result<Vec<LoggedObservation>> {
        query_logged(
            self.conn(),
            &format!(
                "SELECT {OBSERVATION_COLUMNS} FROM observations o WHERE o.todo_id = ?1 ORDER BY o.observed_at, o.seq"
            ),
            [todo_id],
        )
    }

    /// Every observation made at or before `time`, for folding the past.
    pub fn observations_until(&self, time: Timestamp) -> Result<Vec<Observation>> {
        Ok(query_logged(
            self.conn(),
            &format!(
                "SELECT {OBSERVATION_COLUMNS} FROM observations o WHERE o.observed_at <= ?1 ORDER BY o.seq"
            ),
            [time.millis()],
        )?
        .into_iter()
        .map(|l| l.observation)
        .collect())
    }

    /// Observations after local sequence number `after`, at most `limit`, that
    /// arrived by `via` — what an exporter (git, hub) has not sent yet.
    pub fn observations_after(
        &self,
        after: i64,
        via: Via,
        limit: usize,
    ) -> Result<Vec<LoggedObservation>> {
        query_logged(
            self.conn(),
            &format!(
                "SELECT {OBSERVATION_COLUMNS} FROM observations o WHERE o.seq > ?1 AND o.via = ?2 ORDER BY o.seq LIMIT ?3"
            ),
            params![after, via.as_str(), limit as i64],
        )
    }

    /// How many observations the log holds.
    pub fn observation_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM observations", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }
}
