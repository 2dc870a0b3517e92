//! The log's tail: the records of transactions that append a few
//! observations — a hook, a daemon's run over one changed file, a pull of a
//! few — kept in SQLite's `log_tail` table until a transaction appending
//! more moves them into the log file (docs/ARCHITECTURE.md, "The store").
//!
//! A record here is durable as any SQLite commit is, so a small write pays
//! no fsync of the log file of its own (the hooks' latency, issue 13): the
//! file is fsynced once per move. Every `seq` in the tail is past the last
//! one in the file (`meta` `log.seq`), and a tail row holds the record's
//! body exactly as the file frames it, so both are read by one decoder.

use crate::log::{self, Appender, Log, Record};
use crate::{Result, StoreError, Tx};
use chittysync_core::Observation;
use rusqlite::{Connection, OptionalExtension};

/// How many records the tail holds at most: the transaction that would
/// append past it moves the tail into the log file first.
pub(crate) const TAIL_MAX: u64 = 256;

/// What a transaction knows of the tail once it appended to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TailAppends {
    /// Rows in the tail, this transaction's included.
    pub len: u64,
    /// The last `seq` of the log, file and tail, this transaction's included.
    pub last: i64,
    /// How many rows this transaction added.
    pub appended: u64,
}

impl TailAppends {
    /// A tail known to be empty, with nothing appended: a store migrated
    /// from before the tail (migration 010) has none, and opens its log
    /// file only to move its observations there (009).
    pub(crate) const EMPTY: TailAppends = TailAppends {
        len: 0,
        last: 0,
        appended: 0,
    };
}

/// The log's records past the file, as one SQLite statement saw them
/// together with the file's last `seq`: a writer moving the tail into the
/// file commits both at once, so every record up to the caller's last
/// `seq` is either in the file up to `file_seq` or among `rows`.
pub(crate) struct TailView {
    pub file_seq: i64,
    /// `(seq, body)`, in `seq` order.
    pub rows: Vec<(i64, Vec<u8>)>,
}

fn corrupt(seq: i64, why: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(
        "observation log",
        format!("the record {seq} in the log's tail (table log_tail) {why}"),
    )
}

/// The rows of the tail after `after`, and the file's last `seq`, in one
/// statement (one snapshot).
pub(crate) fn view_after(conn: &Connection, after: i64) -> Result<TailView> {
    let mut stmt = conn.prepare_cached(
        "SELECT CAST(coalesce((SELECT value FROM meta WHERE key = 'log.seq'), 0) AS INTEGER),
                t.seq, t.body
         FROM (SELECT 1) LEFT JOIN log_tail t ON t.seq > ?1
         ORDER BY t.seq",
    )?;
    let mut rows = stmt.query([after])?;
    let mut view = TailView {
        file_seq: 0,
        rows: Vec::new(),
    };
    while let Some(row) = rows.next()? {
        view.file_seq = row.get(0)?;
        if let Some(seq) = row.get::<_, Option<i64>>(1)? {
            view.rows.push((seq, row.get(2)?));
        }
    }
    Ok(view)
}

/// The last `seq` of the log, file and tail (0: none yet).
pub(crate) fn last_seq(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT max(CAST(coalesce((SELECT value FROM meta WHERE key = 'log.seq'), 0) AS INTEGER),
                        coalesce((SELECT max(seq) FROM log_tail), 0))",
        )?
        .query_row([], |r| r.get(0))?)
}

/// What a [`crate::Store`]'s reads outside a transaction learned of the
/// tail, so that looking up many records (a hook telling a session who
/// else holds its project's todos) costs one statement, not one each — each
/// statement outside a transaction takes and lets go SQLite's locks.
///
/// Kept across reads because a record never changes once written: a row
/// read here is the record's bytes wherever it lies later, and the file's
/// last `seq` only grows. Rows the file has since taken are let go, so at
/// most the tail's size is held.
#[derive(Default)]
pub(crate) struct Seen {
    /// The file's last `seq` as last read: every record up to it is in the file.
    file_seq: i64,
    /// The tail's rows past `file_seq` as last read.
    rows: std::collections::BTreeMap<i64, Vec<u8>>,
}

impl Seen {
    /// The last `seq` what was seen covers, file and rows.
    fn last(&self) -> i64 {
        self.rows
            .last_key_value()
            .map_or(self.file_seq, |(&seq, _)| seq)
    }

    /// Record `seq`: from the rows seen, else the file, reading the tail's
    /// new rows first when `seq` is past what was seen.
    pub(crate) fn read(&mut self, conn: &Connection, log: &Log, seq: i64) -> Result<Record> {
        if seq > self.last() {
            let view = view_after(conn, self.last())?;
            self.file_seq = self.file_seq.max(view.file_seq);
            let file_seq = self.file_seq;
            self.rows.retain(|&s, _| s > file_seq);
            self.rows.extend(view.rows);
        }
        match self.rows.get(&seq) {
            Some(body) => decode(seq, body),
            None => log.read(seq),
        }
    }
}

/// Record `seq` if the tail holds it.
pub(crate) fn read(conn: &Connection, seq: i64) -> Result<Option<Record>> {
    let body: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM log_tail WHERE seq = ?1")?
        .query_row([seq], |r| r.get(0))
        .optional()?;
    body.map(|body| decode(seq, &body)).transpose()
}

/// A tail row's body as a record, checked to be record `seq`.
pub(crate) fn decode(seq: i64, body: &[u8]) -> Result<Record> {
    let record = log::decode_body(body).map_err(|e| corrupt(seq, e))?;
    if record.seq != seq {
        return Err(corrupt(seq, format!("holds record {}", record.seq)));
    }
    Ok(record)
}

/// The todo id of a tail row's body, without decoding the rest.
pub(crate) fn todo_of(seq: i64, body: &[u8]) -> Result<&[u8]> {
    log::todo_of(body).map_err(|e| corrupt(seq, e))
}

impl Tx<'_> {
    /// Appends an observation to the tail as the log's next record, if the
    /// tail has room and this transaction has not opened the log file;
    /// `None` otherwise (the caller appends to the file).
    pub(crate) fn append_to_tail(&self, obs: &Observation, via: crate::Via) -> Result<Option<i64>> {
        if self.appender.borrow().is_some() {
            return Ok(None);
        }
        let mut slot = self.tail.borrow_mut();
        let tail = match &mut *slot {
            Some(tail) => tail,
            None => slot.insert(TailAppends {
                len: self
                    .conn()
                    .prepare_cached("SELECT count(*) FROM log_tail")?
                    .query_row([], |r| r.get::<_, i64>(0))? as u64,
                last: last_seq(self.conn())?,
                appended: 0,
            }),
        };
        if tail.len >= TAIL_MAX {
            return Ok(None);
        }
        let seq = tail.last + 1;
        let mut body = Vec::with_capacity(256);
        log::encode_body(&mut body, seq, via, obs);
        self.conn()
            .prepare_cached("INSERT INTO log_tail (seq, body) VALUES (?1, ?2)")?
            .execute(rusqlite::params![seq, body])?;
        tail.len += 1;
        tail.last = seq;
        tail.appended += 1;
        Ok(Some(seq))
    }

    /// Moves the log's tail into the log file now, fsynced when this
    /// transaction commits (a long-lived process settling while idle; the
    /// tests of the file's own guarantees).
    pub fn settle_log(&self) -> Result<()> {
        self.with_appender(|_| Ok(()))
    }

    /// Moves the tail into the log file through this transaction's
    /// appender, which has just been opened: the records keep their `seq`
    /// and bytes, and leave the table in the same transaction that counts
    /// them in the file.
    pub(crate) fn move_tail(&self, appender: &mut Appender, log: &Log) -> Result<()> {
        if self.tail.borrow().is_some_and(|t| t.len == 0) {
            return Ok(());
        }
        let view = view_after(self.conn(), 0)?;
        if view.rows.is_empty() {
            return Ok(());
        }
        for (seq, body) in &view.rows {
            appender.append_body(log, *seq, body)?;
        }
        self.conn().execute("DELETE FROM log_tail", [])?;
        if let Some(tail) = self.tail.borrow_mut().as_mut() {
            tail.len = 0;
        }
        Ok(())
    }
}
