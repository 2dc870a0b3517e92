//! The append-only observation log.

use crate::{Result, Store, StoreError, Tx};
use chittysync_core::{Observation, Source, Status, Timestamp};
use rusqlite::{params, Connection, Row};

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

impl Tx<'_> {
    /// Appends the observations not already in the log (by id) and returns
    /// those that were new, with their sequence numbers.
    pub fn append_observations<'o>(
        &self,
        observations: impl IntoIterator<Item = &'o Observation>,
        via: Via,
    ) -> Result<Vec<(i64, &'o Observation)>> {
        let mut stmt = self.conn().prepare_cached(
            "INSERT INTO observations (id, todo_id, project, content, active_form, status, observer, session, device, source, observed_at, via)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO NOTHING",
        )?;
        let mut fresh = Vec::new();
        for o in observations {
            let inserted = stmt.execute(params![
                o.id,
                o.todo_id,
                o.project,
                o.content,
                o.active_form,
                o.status.as_str(),
                o.observer,
                o.session,
                o.device,
                o.source.as_str(),
                o.observed_at.millis(),
                via.as_str(),
            ])?;
            if inserted == 1 {
                fresh.push((self.conn().last_insert_rowid(), o));
            }
        }
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
