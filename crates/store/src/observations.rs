//! The append-only observation log as the store's callers see it: appends
//! that skip what is already logged, and reads by todo, by time and by
//! local sequence number. The records are in the log file beside the
//! database (`crate::log`); SQLite keeps `log_index` — each observation's
//! todo, id and `seq`, for the histories and to skip what is logged — and
//! how far the log is committed (docs/ARCHITECTURE.md, "The store").

use crate::log::{Appender, Log, LogFile, Record};
use crate::{tail, Result, Store, Tx};
use chittysync_core::{Observation, Source, Status, Timestamp};
use rusqlite::OptionalExtension;
use std::collections::HashSet;

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
    /// The way named `text`; anything unknown was read here.
    pub fn parse(text: &str) -> Via {
        match text {
            "git" => Via::Git,
            "hub" => Via::Hub,
            _ => Via::Local,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Via::Local => "local",
            Via::Git => "git",
            Via::Hub => "hub",
        }
    }
}

/// An observation with its place in the local log and how it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedObservation {
    pub seq: i64,
    pub via: String,
    pub observation: Observation,
}

impl From<Record> for LoggedObservation {
    fn from(record: Record) -> Self {
        LoggedObservation {
            seq: record.seq,
            via: record.via.as_str().to_string(),
            observation: record.observation,
        }
    }
}

/// A log's ids, compact: 32 hex digits (every id chittysync makes) as a
/// number, anything else as text.
#[derive(Default)]
pub(crate) struct IdSet {
    hex: HashSet<u128>,
    other: HashSet<String>,
}

impl IdSet {
    /// Adds an id; false if it was there.
    pub(crate) fn insert(&mut self, id: IdKey<'_>) -> bool {
        match id.number {
            Some(n) => self.hex.insert(n),
            None => self.other.insert(id.text.to_string()),
        }
    }
}

/// An observation id as [`IdSet`] and [`LoadIndex`] keep it, read once:
/// its text, and the number it is when it is 32 lowercase hex digits
/// (every id chittysync makes).
#[derive(Clone, Copy)]
pub(crate) struct IdKey<'a> {
    text: &'a str,
    number: Option<u128>,
}

impl<'a> IdKey<'a> {
    pub(crate) fn of(text: &'a str) -> IdKey<'a> {
        IdKey {
            text,
            number: lower_hex(text, 32),
        }
    }
}

/// The rows of `log_index` a load appends, kept until its end to be
/// written once, sorted: (todo, id, seq), compact as [`IdSet`] keeps ids.
/// A todo id of 16 lowercase hex digits and an id of 32 (what chittysync
/// makes) are kept as numbers, which sort as their text does; anything
/// else as text. At 815,770 observations this is 26 MB, not 106.
#[derive(Default)]
pub(crate) struct LoadIndex {
    hex: Vec<(u64, u128, i64)>,
    other: Vec<(String, String, i64)>,
}

/// `text` as a number, if it is `digits` lowercase hex digits.
fn lower_hex(text: &str, digits: usize) -> Option<u128> {
    (text.len() == digits
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then(|| u128::from_str_radix(text, 16).ok())
    .flatten()
}

impl LoadIndex {
    fn push(&mut self, todo_id: &str, id: IdKey<'_>, seq: i64) {
        match (lower_hex(todo_id, 16), id.number) {
            (Some(todo), Some(number)) => self.hex.push((todo as u64, number, seq)),
            _ => self
                .other
                .push((todo_id.to_string(), id.text.to_string(), seq)),
        }
    }

    /// How many todos it names (each counted once after [`LoadIndex::sort`]).
    pub(crate) fn todos(&self) -> usize {
        self.hex.chunk_by(|a, b| a.0 == b.0).count()
            + self.other.chunk_by(|a, b| a.0 == b.0).count()
    }

    /// Puts the rows in `log_index`'s key order.
    pub(crate) fn sort(&mut self) {
        self.hex.sort_unstable();
        self.other.sort_unstable();
    }
}

impl Tx<'_> {
    /// Writes a load's index of the log, in the order it holds it.
    pub(crate) fn write_load_index(&self, index: &LoadIndex) -> Result<()> {
        use std::fmt::Write as _;
        let (mut todo, mut id) = (String::with_capacity(16), String::with_capacity(32));
        for (todo_n, id_n, seq) in &index.hex {
            todo.clear();
            id.clear();
            let _ = write!(todo, "{todo_n:016x}");
            let _ = write!(id, "{id_n:032x}");
            self.index_logged(&todo, &id, *seq)?;
        }
        for (todo, id, seq) in &index.other {
            self.index_logged(todo, id, *seq)?;
        }
        Ok(())
    }

    /// How far the log is committed: its last `seq` and its length in bytes.
    fn log_committed(&self) -> Result<(i64, u64)> {
        Ok((self.counter("log.seq")? as i64, self.counter("log.bytes")?))
    }

    /// Counts the log file's new end as committed (called by [`Tx::commit`]
    /// once the appends are fsynced).
    pub(crate) fn set_log_end(&self, end: (i64, u64)) -> Result<()> {
        self.set_meta("log.seq", &end.0.to_string())?;
        self.set_meta("log.bytes", &end.1.to_string())
    }

    /// Counts `appended` more observations in the log, file and tail.
    pub(crate) fn count_logged(&self, appended: u64) -> Result<()> {
        let records = self.counter("log.records")? + appended;
        self.set_meta("log.records", &records.to_string())
    }

    /// Runs `f` with this transaction's appender to the log file, made at
    /// its first use, when the log's tail moves into the file.
    pub(crate) fn with_appender<T>(&self, f: impl FnOnce(&mut Appender) -> Result<T>) -> Result<T> {
        let mut slot = self.appender.borrow_mut();
        if slot.is_none() {
            let mut appender = self.log.appender(self.log_committed()?)?;
            self.move_tail(&mut appender, self.log)?;
            *slot = Some(appender);
        }
        f(slot.as_mut().expect("made above"))
    }

    /// The last `seq` of the log, this transaction's appends included.
    pub(crate) fn log_seq(&self) -> Result<i64> {
        if let Some(appender) = self.appender.borrow().as_ref() {
            return Ok(appender.end.0);
        }
        match self.tail.borrow().as_ref() {
            Some(tail) => Ok(tail.last),
            None => tail::last_seq(self.conn()),
        }
    }

    /// The log file's last `seq` with this transaction's appends, once it
    /// has opened the file (otherwise the committed one, which
    /// [`tail::view_after`] reads).
    fn file_end(&self) -> Option<i64> {
        self.appender.borrow().as_ref().map(|a| a.end.0)
    }

    /// Makes this transaction's appends readable.
    fn flush_log(&self) -> Result<()> {
        if let Some(appender) = self.appender.borrow_mut().as_mut() {
            appender.flush(self.log)?;
        }
        Ok(())
    }

    /// Record `seq`, this transaction's appends included.
    pub(crate) fn logged(&self, seq: i64) -> Result<Record> {
        self.flush_log()?;
        read(self.conn(), self.log, seq)
    }

    /// Every record after `after`, this transaction's appends included,
    /// while `each` says go on.
    pub(crate) fn each_logged_after(
        &self,
        after: i64,
        each: impl FnMut(Record) -> Result<bool>,
    ) -> Result<()> {
        self.flush_log()?;
        each_between(
            self.conn(),
            self.log,
            self.file_end(),
            after,
            self.log_seq()?,
            each,
        )
    }

    /// The whole log as this transaction sees it, its own appends
    /// included, to read from start to end (on any thread).
    pub(crate) fn whole_log(&self) -> Result<WholeLog> {
        self.flush_log()?;
        let upto = self.log_seq()?;
        let view = tail::view_after(self.conn(), 0)?;
        Ok(WholeLog {
            file: self.log.file().clone(),
            file_upto: upto.min(self.file_end().unwrap_or(view.file_seq)),
            tail: view
                .rows
                .into_iter()
                .filter(|(seq, _)| *seq <= upto)
                .collect(),
        })
    }

    /// Whether the log holds an observation of this todo with this id.
    fn is_logged(&self, todo_id: &str, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM log_index WHERE todo_id = ?1 AND id = ?2")?
            .query_row([todo_id, id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Adds an observation to the index of the log by todo.
    pub(crate) fn index_logged(&self, todo_id: &str, id: &str, seq: i64) -> Result<()> {
        self.conn()
            .prepare_cached("INSERT INTO log_index (todo_id, id, seq) VALUES (?1, ?2, ?3)")?
            .execute(rusqlite::params![todo_id, id, seq])?;
        Ok(())
    }

    /// Appends the observations not already in the log (by id) and returns
    /// those that were new, with their sequence numbers, in log order.
    pub fn append_observations<'o>(
        &self,
        observations: impl IntoIterator<Item = &'o Observation>,
        via: Via,
    ) -> Result<Vec<(i64, &'o Observation)>> {
        let mut batch = IdSet::default();
        let mut fresh = Vec::new();
        for obs in observations {
            if !batch.insert(IdKey::of(&obs.id)) || self.is_logged(&obs.todo_id, &obs.id)? {
                continue;
            }
            let seq = match self.append_to_tail(obs, via)? {
                Some(seq) => seq,
                None => self.with_appender(|a| a.append(self.log, obs, via))?,
            };
            self.index_logged(&obs.todo_id, &obs.id, seq)?;
            fresh.push((seq, obs));
        }
        Ok(fresh)
    }

    /// Appends observations to a log that held none before this
    /// transaction's load, without indexing them: the load remembers `ids`
    /// (to skip a second copy) and `index` (todo, id, seq), and writes the
    /// index once, sorted, at its end.
    pub(crate) fn append_unindexed<'o>(
        &self,
        observations: &'o [Observation],
        via: Via,
        ids: &mut IdSet,
        index: &mut LoadIndex,
    ) -> Result<Vec<(i64, &'o Observation)>> {
        let mut fresh = Vec::new();
        self.with_appender(|a| {
            for obs in observations {
                let id = IdKey::of(&obs.id);
                if !ids.insert(id) {
                    continue;
                }
                let seq = a.append(self.log, obs, via)?;
                index.push(&obs.todo_id, id, seq);
                fresh.push((seq, obs));
            }
            Ok(())
        })?;
        Ok(fresh)
    }

    /// The observations read on this device (`via` local) by these sessions
    /// or by the tasks of these lists, oldest first: those to place again
    /// when what decides their project changed. A scan of the log, for the
    /// rare runs that learn a session's folder after placing its todos.
    pub fn local_observations_of(
        &self,
        sessions: &[String],
        lists: &[String],
    ) -> Result<Vec<Observation>> {
        let sessions: HashSet<&str> = sessions.iter().map(String::as_str).collect();
        let prefixes: Vec<String> = lists.iter().map(|l| format!("task:{l}/")).collect();
        let mut found = Vec::new();
        self.each_logged_after(0, |record| {
            let o = &record.observation;
            if record.via == Via::Local
                && (o.session.as_deref().is_some_and(|s| sessions.contains(s))
                    || prefixes.iter().any(|p| o.observer.starts_with(p.as_str())))
            {
                found.push(record);
            }
            Ok(true)
        })?;
        found.sort_by_key(|r| (r.observation.observed_at, r.seq));
        Ok(found.into_iter().map(|r| r.observation).collect())
    }
}

impl Tx<'_> {
    /// Migration 009: moves the rows of the `observations` table of a store
    /// written before the log into the log file, each keeping its `seq`
    /// (sync cursors name them), indexes them, and drops the table — in the
    /// migration's transaction, so a kill leaves the store as it was and the
    /// file's appends to be cut (docs/ARCHITECTURE.md, "The store").
    pub(crate) fn move_observations_to_log(&self) -> Result<()> {
        let mut index = Vec::new();
        {
            let mut stmt = self.conn().prepare(
                "SELECT seq, id, todo_id, project, content, active_form, status, observer,
                        session, device, source, observed_at, via
                 FROM observations ORDER BY seq",
            )?;
            let mut rows = stmt.query([])?;
            self.with_appender(|appender| {
                while let Some(row) = rows.next()? {
                    let seq: i64 = row.get(0)?;
                    let text = |i: usize| -> rusqlite::Result<String> { row.get(i) };
                    let obs = Observation {
                        id: text(1)?,
                        todo_id: text(2)?,
                        project: text(3)?,
                        content: text(4)?,
                        active_form: row.get(5)?,
                        status: Status::parse(&text(6)?).unwrap_or(Status::Pending),
                        observer: text(7)?,
                        session: row.get(8)?,
                        device: text(9)?,
                        source: text(10)?.parse::<Source>().unwrap_or(Source::File),
                        observed_at: Timestamp(row.get(11)?),
                    };
                    appender.append_as(self.log, seq, &obs, Via::parse(&text(12)?))?;
                    index.push((obs.todo_id, obs.id, seq));
                }
                Ok(())
            })?;
        }
        index.sort_unstable();
        for (todo_id, id, seq) in &index {
            self.index_logged(todo_id, id, *seq)?;
        }
        self.conn().execute_batch("DROP TABLE observations")?;
        Ok(())
    }
}

impl Store {
    /// The last `seq` of the log this store has committed, file and tail.
    pub(crate) fn log_seq(&self) -> Result<i64> {
        tail::last_seq(self.conn())
    }

    /// Record `seq` of the log (at most [`Store::log_seq`] as read before).
    pub(crate) fn logged(&self, seq: i64) -> Result<Record> {
        self.seen.borrow_mut().read(self.conn(), &self.log, seq)
    }

    /// The `seq` of every observation of a todo, by the index.
    pub(crate) fn seqs_of(conn: &rusqlite::Connection, todo_id: &str) -> Result<Vec<i64>> {
        let mut stmt = conn.prepare_cached("SELECT seq FROM log_index WHERE todo_id = ?1")?;
        let rows = stmt.query_map([todo_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    /// Every observation of a todo, oldest first.
    pub fn history(&self, todo_id: &str) -> Result<Vec<LoggedObservation>> {
        let mut records = Self::seqs_of(self.conn(), todo_id)?
            .into_iter()
            .map(|seq| self.logged(seq))
            .collect::<Result<Vec<Record>>>()?;
        records.sort_by_key(|r| (r.observation.observed_at, r.seq));
        Ok(records.into_iter().map(LoggedObservation::from).collect())
    }

    /// Every observation made at or before `time`, for folding the past.
    pub fn observations_until(&self, time: Timestamp) -> Result<Vec<Observation>> {
        let mut found = Vec::new();
        each_between(self.conn(), &self.log, None, 0, self.log_seq()?, |record| {
            if record.observation.observed_at <= time {
                found.push(record.observation);
            }
            Ok(true)
        })?;
        Ok(found)
    }

    /// Observations after local sequence number `after`, at most `limit`, that
    /// arrived by `via` — what an exporter (git, hub) has not sent yet.
    pub fn observations_after(
        &self,
        after: i64,
        via: Via,
        limit: usize,
    ) -> Result<Vec<LoggedObservation>> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        each_between(
            self.conn(),
            &self.log,
            None,
            after,
            self.log_seq()?,
            |record| {
                if record.via == via {
                    found.push(LoggedObservation::from(record));
                }
                Ok(found.len() < limit)
            },
        )?;
        Ok(found)
    }

    /// How many observations the log holds.
    pub fn observation_count(&self) -> Result<u64> {
        self.counter("log.records")
    }
}

/// Record `seq`, from the log's tail or else the file. The tail is asked
/// first: a record that leaves it is in the file before the row is gone.
fn read(conn: &rusqlite::Connection, log: &Log, seq: i64) -> Result<Record> {
    match tail::read(conn, seq)? {
        Some(record) => Ok(record),
        None => log.read(seq),
    }
}

/// Calls `each` with every record after `after` up to `upto`, the file's
/// then the tail's, in order, while it says go on. `file_end` is the file's
/// last `seq` when a transaction has appended to it; otherwise the one the
/// tail was read with.
fn each_between(
    conn: &rusqlite::Connection,
    log: &Log,
    file_end: Option<i64>,
    after: i64,
    upto: i64,
    mut each: impl FnMut(Record) -> Result<bool>,
) -> Result<()> {
    let view = tail::view_after(conn, after)?;
    let mut more = true;
    log.each_between(
        after,
        upto.min(file_end.unwrap_or(view.file_seq)),
        |record| {
            more = each(record)?;
            Ok(more)
        },
    )?;
    for (seq, body) in view.rows.iter().filter(|(seq, _)| *seq <= upto) {
        if !more {
            break;
        }
        more = each(tail::decode(*seq, body)?)?;
    }
    Ok(())
}

/// The whole log as a transaction saw it: the file up to the last record
/// it held then, and the tail's rows. It holds nothing of SQLite's, so a
/// fold of the whole log reads it on a thread of its own while the
/// transaction writes what was folded (docs/ARCHITECTURE.md, "How a cold
/// run is stored").
pub(crate) struct WholeLog {
    file: LogFile,
    file_upto: i64,
    tail: Vec<(i64, Vec<u8>)>,
}

impl WholeLog {
    /// Calls `each` with every record, the file's then the tail's, whose
    /// todo `wanted` accepts; the others are not decoded.
    pub(crate) fn each_of_todos(
        &self,
        mut wanted: impl FnMut(&[u8]) -> bool,
        mut each: impl FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        self.file
            .each_of_todos(self.file_upto, &mut wanted, &mut each)?;
        for (seq, body) in &self.tail {
            if wanted(tail::todo_of(*seq, body)?) {
                each(tail::decode(*seq, body)?)?;
            }
        }
        Ok(())
    }
}
