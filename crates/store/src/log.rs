//! The observation log: an append-only file beside the SQLite store
//! (docs/ARCHITECTURE.md, "The store").
//!
//! `<store>.log` holds every observation as a framed record, in local order:
//! `u32` length of the body, the body, `u32` CRC-32 of the body. The body
//! starts with the record's `seq` (1, 2, 3…), so a record read at a wrong
//! place is told from the right one. `<store>.log.idx` holds each record's
//! byte offset as a `u64`, by `seq`: derived from the log, rebuilt from it
//! whenever it is short or wrong, and never fsynced.
//!
//! What counts is what the SQLite store says: `meta` keys `log.count` and
//! `log.bytes`, written in the same transaction as everything that refers to
//! the records. A writer (holding SQLite's write lock) cuts whatever lies
//! past them — the appends of a run killed before its commit — before it
//! appends, and fsyncs what it appended before its transaction commits; a
//! reader reads no further than the count its own query saw.

use crate::{Result, StoreError, Via};
use chittysync_core::{Observation, Source, Status, Timestamp};
use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow::{self, Break, Continue};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The first bytes of a log file: its format and version.
const MAGIC: &[u8; 8] = b"CSOBSv1\n";

/// Bytes around a record's body: its length before, its checksum after.
const FRAME: usize = 8;

/// The longest body a record may declare: far above any real observation
/// (content is a todo's text), low enough that a damaged length is refused
/// before anything is allocated for it.
const MAX_BODY: usize = 64 << 20;

/// Where the log and its offsets live, and a handle to read them.
pub(crate) struct Log {
    file: LogFile,
    offsets_path: PathBuf,
    reader: RefCell<Option<File>>,
    offsets: RefCell<Option<File>>,
    walked: RefCell<Walked>,
}

/// Where records start, learned by walking the log when the offsets file
/// cannot tell (missing, wrong, or not a file) and kept for the handle's
/// life: without it every record read would walk the log from its start
/// again. Only counted records are kept, and those never move.
#[derive(Default)]
struct Walked {
    /// By `seq - 1`; 0 for a `seq` the log does not hold (a gap).
    offsets: Vec<u64>,
}

impl Walked {
    /// The start of record `seq`, if walked.
    fn offset_of(&self, seq: i64) -> Option<u64> {
        let at = *self
            .offsets
            .get(usize::try_from(seq.checked_sub(1)?).ok()?)?;
        (at != 0).then_some(at)
    }

    /// Where to walk from to reach record `seq`: the start of the last
    /// walked record at or before it, else the log's first record.
    fn start_for(&self, seq: i64) -> u64 {
        let upto = usize::try_from(seq).unwrap_or(0).min(self.offsets.len());
        self.offsets[..upto]
            .iter()
            .rev()
            .find(|&&at| at != 0)
            .copied()
            .unwrap_or(MAGIC.len() as u64)
    }

    fn note(&mut self, seq: i64, at: u64) {
        let Ok(index) = usize::try_from(seq - 1) else {
            return;
        };
        if index >= self.offsets.len() {
            self.offsets.resize(index + 1, 0);
        }
        self.offsets[index] = at;
    }
}

/// The log file, to be read from start to end: what a fold of the whole
/// log needs, and nothing that ties it to one thread (docs/ARCHITECTURE.md,
/// "How a cold run is stored").
#[derive(Clone)]
pub(crate) struct LogFile {
    path: PathBuf,
}

/// A logged observation as read back.
pub(crate) struct Record {
    pub seq: i64,
    pub via: Via,
    pub observation: Observation,
}

/// The appends of one write transaction.
pub(crate) struct Appender {
    log: BufWriter<File>,
    offsets: BufWriter<File>,
    /// Records and bytes the store counted when the transaction began.
    pub committed: (i64, u64),
    /// Records and bytes with this transaction's appends.
    pub end: (i64, u64),
    /// How many records this transaction appended.
    pub appended: u64,
    body: Vec<u8>,
}

fn io_error(path: &Path, cause: std::io::Error) -> StoreError {
    StoreError::Log {
        path: path.to_path_buf(),
        cause,
    }
}

fn damaged(path: &Path, message: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt("observation log", format!("{}: {message}", path.display()))
}

/// Opens one of the log's own files — never through a symbolic link, never
/// waiting (a FIFO put in its place opens at once and is refused;
/// `O_NONBLOCK` changes nothing for a regular file), and only if it is a
/// regular file — to read, or to read and write (creating it,
/// private to its user: 0600 whatever it was made with); docs/ARCHITECTURE.md,
/// "The store".
fn open_own(path: &Path, write: bool) -> Result<File> {
    use std::os::unix::fs::PermissionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .create(write)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => io_error(path, not_ours("a symbolic link")),
            _ => io_error(path, e),
        })?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(io_error(path, not_ours("something other than a file")));
    }
    let mode = meta.permissions().mode();
    if write && mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))
            .map_err(|e| io_error(path, e))?;
    }
    Ok(file)
}

/// What stands where one of the store's own files should be.
fn not_ours(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{what} stands in its place (the store follows no link and opens only files)"),
    )
}

impl Log {
    pub(crate) fn beside(store: &Path) -> Log {
        let mut path = store.as_os_str().to_owned();
        path.push(".log");
        let path = PathBuf::from(path);
        let mut offsets_path = path.as_os_str().to_owned();
        offsets_path.push(".idx");
        Log {
            file: LogFile { path },
            offsets_path: PathBuf::from(offsets_path),
            reader: RefCell::new(None),
            offsets: RefCell::new(None),
            walked: RefCell::default(),
        }
    }

    /// The log file, to read from start to end on any thread.
    pub(crate) fn file(&self) -> &LogFile {
        &self.file
    }

    /// Starts appending after `committed` (records, bytes): cuts what lies
    /// past it, checks that nothing before it is missing, and brings the
    /// offsets to the same count.
    pub(crate) fn appender(&self, committed: (i64, u64)) -> Result<Appender> {
        let (count, bytes) = committed;
        let mut log = open_own(&self.file.path, true)?;
        let len = log
            .metadata()
            .map_err(|e| io_error(&self.file.path, e))?
            .len();
        if bytes == 0 {
            if len != MAGIC.len() as u64 || self.file.check_magic(&log).is_err() {
                log.set_len(0).map_err(|e| io_error(&self.file.path, e))?;
                log.write_all(MAGIC)
                    .map_err(|e| io_error(&self.file.path, e))?;
            }
        } else {
            if len < bytes {
                return Err(damaged(
                    &self.file.path,
                    format!(
                        "it is {len} bytes long, but the store counts {count} observations in its first {bytes} bytes"
                    ),
                ));
            }
            if len > bytes {
                log.set_len(bytes)
                    .map_err(|e| io_error(&self.file.path, e))?;
            }
            self.file.check_magic(&log)?;
        }
        let start = bytes.max(MAGIC.len() as u64);
        log.seek(SeekFrom::Start(start))
            .map_err(|e| io_error(&self.file.path, e))?;
        let mut offsets = self.offsets_for(count, start)?;
        offsets
            .seek(SeekFrom::Start(count as u64 * 8))
            .map_err(|e| io_error(&self.offsets_path, e))?;
        Ok(Appender {
            log: BufWriter::with_capacity(1 << 20, log),
            offsets: BufWriter::with_capacity(64 << 10, offsets),
            committed: (count, start),
            end: (count, start),
            appended: 0,
            body: Vec::with_capacity(512),
        })
    }

    /// The offsets file, holding exactly `count` offsets: cut if longer,
    /// rebuilt from the log if shorter or if its last offset is not the
    /// last record's.
    fn offsets_for(&self, count: i64, log_end: u64) -> Result<File> {
        let want = count as u64 * 8;
        // Something not a file in its place (a FIFO, a link) is no cache:
        // the rebuilt file replaces it, as it replaces a wrong one.
        let offsets = open_own(&self.offsets_path, true).ok();
        let len = match &offsets {
            Some(file) => file
                .metadata()
                .map_err(|e| io_error(&self.offsets_path, e))?
                .len(),
            None => 0,
        };
        let consistent = offsets.as_ref().is_some_and(|offsets| {
            len >= want
                && (count == 0 || {
                    let mut last = [0u8; 8];
                    offsets.read_exact_at(&mut last, want - 8).is_ok_and(|()| {
                        let at = u64::from_le_bytes(last);
                        self.record_at(at)
                            .is_ok_and(|(r, next)| r.seq == count && next == log_end)
                    })
                })
        });
        if let Some(offsets) = offsets.filter(|_| consistent) {
            if len > want {
                offsets
                    .set_len(want)
                    .map_err(|e| io_error(&self.offsets_path, e))?;
            }
            return Ok(offsets);
        }
        // Rebuilt by a scan of the log into a new file put in its place, so
        // a reader holding the old one reads it whole or not at all.
        let fresh_path = {
            let mut p = self.offsets_path.as_os_str().to_owned();
            p.push(".new");
            PathBuf::from(p)
        };
        let _ = std::fs::remove_file(&fresh_path);
        let fresh = open_own(&fresh_path, true)?;
        let mut out = BufWriter::new(&fresh);
        let mut seen = 0;
        self.scan(MAGIC.len() as u64, count, |at, record| {
            let write = |out: &mut BufWriter<&File>, at: u64| {
                out.write_all(&at.to_le_bytes())
                    .map_err(|e| io_error(&fresh_path, e))
            };
            for _hole in seen + 1..record.seq {
                write(&mut out, 0)?;
            }
            seen = record.seq;
            write(&mut out, at).map(|()| Continue(()))
        })?;
        out.flush().map_err(|e| io_error(&fresh_path, e))?;
        drop(out);
        if seen != count {
            return Err(damaged(
                &self.file.path,
                format!("it holds {seen} observations; the store counts {count}"),
            ));
        }
        std::fs::rename(&fresh_path, &self.offsets_path)
            .map_err(|e| io_error(&self.offsets_path, e))?;
        self.forget_handles();
        Ok(fresh)
    }

    /// The file to read records from (opened once, kept).
    fn with_reader<T>(&self, f: impl FnOnce(&File) -> Result<T>) -> Result<T> {
        let mut reader = self.reader.borrow_mut();
        if reader.is_none() {
            *reader = Some(self.file.open_for_reading()?);
        }
        f(reader.as_ref().expect("opened above"))
    }

    /// The record at byte `at`, and where the next one starts.
    pub(crate) fn record_at(&self, at: u64) -> Result<(Record, u64)> {
        self.with_reader(|file| {
            let mut head = [0u8; 512];
            let got =
                read_at_most(file, &mut head, at).map_err(|e| io_error(&self.file.path, e))?;
            if got < 4 {
                return Err(damaged(&self.file.path, format!("no record at byte {at}")));
            }
            let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
            if len > MAX_BODY {
                return Err(damaged(
                    &self.file.path,
                    format!("a record at byte {at} claims {len} bytes"),
                ));
            }
            let mut frame = vec![0u8; len + FRAME];
            if len + FRAME <= got {
                frame.copy_from_slice(&head[..len + FRAME]);
            } else {
                file.read_exact_at(&mut frame, at)
                    .map_err(|e| self.file.cut_short(file, at, len, e))?;
            }
            let record = decode_frame(&frame).map_err(|e| self.file.record_error(at, e))?;
            Ok((record, at + (len + FRAME) as u64))
        })
    }

    /// Drops the kept read handles: the files may have been replaced.
    fn forget_handles(&self) {
        *self.reader.borrow_mut() = None;
        *self.offsets.borrow_mut() = None;
    }

    /// The byte at which record `seq` starts, by the offsets file; `None` if
    /// the offsets file does not know it.
    fn offset_of(&self, seq: i64) -> Option<u64> {
        let mut offsets = self.offsets.borrow_mut();
        if offsets.is_none() {
            *offsets = open_own(&self.offsets_path, false).ok();
        }
        let mut raw = [0u8; 8];
        offsets
            .as_ref()?
            .read_exact_at(&mut raw, (seq as u64).checked_sub(1)? * 8)
            .ok()?;
        Some(u64::from_le_bytes(raw))
    }

    /// Record `seq` by its offset, if the offsets know it and the record
    /// there is that one.
    fn read_by_offset(&self, seq: i64) -> Option<Record> {
        let at = self.offset_of(seq)?;
        let (record, _) = self.record_at(at).ok()?;
        (record.seq == seq).then_some(record)
    }

    /// Record `seq` (1-based; at most the count the caller's snapshot saw).
    pub(crate) fn read(&self, seq: i64) -> Result<Record> {
        if let Some(record) = self.read_by_offset(seq) {
            return Ok(record);
        }
        // Another process may have put new files in place: open them again.
        self.forget_handles();
        if let Some(record) = self.read_by_offset(seq) {
            return Ok(record);
        }
        // The offsets are a cache: without them, the log is walked as an
        // export's page is, from where an earlier walk stopped, and the walk
        // remembered; a record walked past before is read where it lies.
        let walked = self.walked.borrow().offset_of(seq);
        if let Some((record, _)) = walked.and_then(|at| self.record_at(at).ok()) {
            if record.seq == seq {
                return Ok(record);
            }
        }
        let mut found = None;
        self.each_between(seq - 1, seq, |record| {
            found = (record.seq == seq).then_some(record);
            Ok(false)
        })?;
        found.ok_or_else(|| damaged(&self.file.path, format!("it holds no observation {seq}")))
    }

    /// Calls `each` with every record after `after` up to `upto` (seqs), in order.
    pub(crate) fn each_between(
        &self,
        after: i64,
        upto: i64,
        mut each: impl FnMut(Record) -> Result<bool>,
    ) -> Result<()> {
        if upto <= after {
            return Ok(());
        }
        let is_next = |at: u64| self.record_at(at).is_ok_and(|(r, _)| r.seq == after + 1);
        let by_offsets = match after {
            0 => Some(MAGIC.len() as u64),
            _ => self.offset_of(after + 1).filter(|&at| is_next(at)),
        };
        // Offsets that do not know it (a gap left by a store written before
        // the log, an offsets file missing or wrong): walked from the last
        // record an earlier walk found at or before it, and the walk
        // remembered, so the next page does not walk from the start again.
        // (`each` must not read the log: the walk is borrowed meanwhile.)
        let (start, mut walked) = match by_offsets {
            Some(at) => (at, None),
            None => {
                let walked = self.walked.borrow_mut();
                (walked.start_for(after + 1), Some(walked))
            }
        };
        // Stops where `each` has had enough: an export reads a page of the
        // log, not the rest of it after every page.
        self.scan(start, upto, |at, record| {
            if let Some(walked) = walked.as_mut() {
                walked.note(record.seq, at);
            }
            if record.seq > after && !each(record)? {
                return Ok(Break(()));
            }
            Ok(Continue(()))
        })
    }

    /// Reads records sequentially from byte `start` up to and including
    /// record `upto`, or until `each` breaks.
    fn scan(
        &self,
        start: u64,
        upto: i64,
        mut each: impl FnMut(u64, Record) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        self.file.scan_bodies(start, upto, |at, body| {
            let record = decode_body(body).map_err(|e| self.file.record_error(at, e))?;
            each(at, record)
        })
    }
}

impl LogFile {
    /// A record at byte `at` that cannot be read, and why.
    fn record_error(&self, at: u64, why: impl std::fmt::Display) -> StoreError {
        damaged(&self.path, format!("the record at byte {at} {why}"))
    }

    /// The body of `len` bytes of the record at byte `at` could not be read
    /// whole: where the file ends, when that is why.
    fn cut_short(&self, file: &File, at: u64, len: usize, e: std::io::Error) -> StoreError {
        let end = at + (len + FRAME) as u64;
        match file.metadata() {
            Ok(meta) if e.kind() == std::io::ErrorKind::UnexpectedEof && meta.len() < end => self
                .record_error(
                    at,
                    format!(
                        "is cut short: it would end at byte {end}, the file ends at byte {}",
                        meta.len()
                    ),
                ),
            _ => self.record_error(at, format!("cannot be read: {e}")),
        }
    }

    fn check_magic(&self, file: &File) -> Result<()> {
        let mut magic = [0u8; 8];
        file.read_exact_at(&mut magic, 0)
            .map_err(|e| io_error(&self.path, e))?;
        if &magic != MAGIC {
            return Err(damaged(&self.path, "it does not start as a chittysync log"));
        }
        Ok(())
    }

    /// The log opened to read, never through a symbolic link.
    fn open_for_reading(&self) -> Result<File> {
        open_own(&self.path, false)
    }

    /// Calls `each` with every record up to `upto` whose todo `wanted`
    /// accepts, in order; the others are not decoded (docs/ARCHITECTURE.md,
    /// "How a cold run is stored": a fold of the whole log, a part of the
    /// todos at a time).
    pub(crate) fn each_of_todos(
        &self,
        upto: i64,
        mut wanted: impl FnMut(&[u8]) -> bool,
        mut each: impl FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        self.scan_bodies(MAGIC.len() as u64, upto, |at, body| {
            let todo = todo_of(body).map_err(|e| self.record_error(at, e))?;
            if !wanted(todo) {
                return Ok(Continue(()));
            }
            let record = decode_body(body).map_err(|e| self.record_error(at, e))?;
            each(record).map(|()| Continue(()))
        })
    }

    /// Reads the records' bodies sequentially from byte `start` up to and
    /// including record `upto`, or until `each` breaks, each checked against
    /// its checksum.
    fn scan_bodies(
        &self,
        start: u64,
        upto: i64,
        mut each: impl FnMut(u64, &[u8]) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        if upto <= 0 {
            return Ok(());
        }
        let file = self.open_for_reading()?;
        if start == MAGIC.len() as u64 {
            self.check_magic(&file)?;
        }
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        reader
            .seek(SeekFrom::Start(start))
            .map_err(|e| io_error(&self.path, e))?;
        let mut at = start;
        let mut frame = Vec::new();
        loop {
            let mut len = [0u8; 4];
            reader.read_exact(&mut len).map_err(|e| {
                damaged(
                    &self.path,
                    format!("it ends at byte {at}, before observation {upto}: {e}"),
                )
            })?;
            let len = u32::from_le_bytes(len) as usize;
            if len > MAX_BODY {
                return Err(damaged(
                    &self.path,
                    format!("a record at byte {at} claims {len} bytes"),
                ));
            }
            frame.clear();
            frame.extend_from_slice(&(len as u32).to_le_bytes());
            frame.resize(len + FRAME, 0);
            reader
                .read_exact(&mut frame[4..])
                .map_err(|e| self.cut_short(reader.get_ref(), at, len, e))?;
            let body = checked_body(&frame).map_err(|e| self.record_error(at, e))?;
            let seq = Body(body).i64().unwrap_or(i64::MAX);
            if each(at, body)?.is_break() || seq >= upto {
                return Ok(());
            }
            at += (len + FRAME) as u64;
        }
    }
}

fn read_at_most(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl Appender {
    /// Appends an observation as record `end.0 + 1`; returns its seq.
    pub(crate) fn append(&mut self, log: &Log, obs: &Observation, via: Via) -> Result<i64> {
        self.append_as(log, self.end.0 + 1, obs, via)
    }

    /// Appends an observation as record `seq`, after the last one: a store
    /// written before the log keeps its sequence numbers, which sync cursors
    /// name, gaps and all (an offset of 0 stands for a number no record has).
    pub(crate) fn append_as(
        &mut self,
        log: &Log,
        seq: i64,
        obs: &Observation,
        via: Via,
    ) -> Result<i64> {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        encode_body(&mut body, seq, via, obs);
        let written = self.append_body(log, seq, &body);
        self.body = body;
        written?;
        self.appended += 1;
        Ok(seq)
    }

    /// Appends record `seq` as already encoded (a record moved from the
    /// log's tail keeps its bytes), after the last one. Not counted in
    /// [`Appender::appended`]: the store counted it when it first stored it.
    pub(crate) fn append_body(&mut self, log: &Log, seq: i64, body: &[u8]) -> Result<()> {
        for _hole in self.end.0 + 1..seq {
            self.offsets
                .write_all(&0u64.to_le_bytes())
                .map_err(|e| io_error(&log.offsets_path, e))?;
        }
        let len = body.len() as u32;
        let crc = crc32fast::hash(body);
        let at = self.end.1;
        let write = |w: &mut BufWriter<File>| -> std::io::Result<()> {
            w.write_all(&len.to_le_bytes())?;
            w.write_all(body)?;
            w.write_all(&crc.to_le_bytes())
        };
        write(&mut self.log).map_err(|e| io_error(&log.file.path, e))?;
        self.offsets
            .write_all(&at.to_le_bytes())
            .map_err(|e| io_error(&log.offsets_path, e))?;
        self.end = (seq, at + body.len() as u64 + FRAME as u64);
        Ok(())
    }

    /// Makes the appends readable by this process (before the commit).
    pub(crate) fn flush(&mut self, log: &Log) -> Result<()> {
        self.log.flush().map_err(|e| io_error(&log.file.path, e))?;
        self.offsets
            .flush()
            .map_err(|e| io_error(&log.offsets_path, e))
    }

    /// Flushes and fsyncs the appends: called before the transaction that
    /// counts them commits.
    pub(crate) fn sync(&mut self, log: &Log) -> Result<()> {
        self.flush(log)?;
        self.log
            .get_ref()
            .sync_data()
            .map_err(|e| io_error(&log.file.path, e))
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
    }
}

pub(crate) fn encode_body(out: &mut Vec<u8>, seq: i64, via: Via, obs: &Observation) {
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&obs.observed_at.millis().to_le_bytes());
    put_str(out, via.as_str());
    put_str(out, &obs.id);
    put_str(out, &obs.todo_id);
    put_str(out, &obs.project);
    put_str(out, &obs.content);
    put_opt(out, obs.active_form.as_deref());
    put_str(out, obs.status.as_str());
    put_str(out, &obs.observer);
    put_opt(out, obs.session.as_deref());
    put_str(out, &obs.device);
    put_str(out, obs.source.as_str());
}

/// A reader of a record's body that fails on anything out of bounds.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("is cut short".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i64(&mut self) -> std::result::Result<i64, String> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// An optional text field, borrowed.
    fn opt_text(&mut self) -> std::result::Result<Option<&'a str>, String> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
        if len == u32::MAX {
            return Ok(None);
        }
        let bytes = self.take(len as usize)?;
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "holds text that is not UTF-8".into())
    }

    /// A text field, borrowed.
    fn text(&mut self) -> std::result::Result<&'a str, String> {
        self.opt_text()?.ok_or_else(|| "lacks a field".into())
    }

    fn opt(&mut self) -> std::result::Result<Option<String>, String> {
        Ok(self.opt_text()?.map(str::to_string))
    }

    fn str(&mut self) -> std::result::Result<String, String> {
        Ok(self.text()?.to_string())
    }
}

/// A frame's body, if its checksum holds.
fn checked_body(frame: &[u8]) -> std::result::Result<&[u8], String> {
    if frame.len() < FRAME {
        return Err("is cut short".into());
    }
    let len = frame.len() - FRAME;
    let body = &frame[4..4 + len];
    let crc = u32::from_le_bytes(frame[4 + len..].try_into().expect("4 bytes"));
    if crc32fast::hash(body) != crc {
        return Err("fails its checksum".into());
    }
    Ok(body)
}

fn decode_frame(frame: &[u8]) -> std::result::Result<Record, String> {
    decode_body(checked_body(frame)?)
}

/// The todo id of a record's body, read without decoding the rest.
pub(crate) fn todo_of(body: &[u8]) -> std::result::Result<&[u8], String> {
    let mut b = Body(body);
    b.take(16)?;
    for _skipped in 0..2 {
        let len = u32::from_le_bytes(b.take(4)?.try_into().expect("4 bytes"));
        b.take(len as usize)?;
    }
    let len = u32::from_le_bytes(b.take(4)?.try_into().expect("4 bytes"));
    b.take(len as usize)
}

pub(crate) fn decode_body(body: &[u8]) -> std::result::Result<Record, String> {
    let mut b = Body(body);
    let seq = b.i64()?;
    let observed_at = Timestamp(b.i64()?);
    let via = Via::parse(b.text()?);
    let id = b.str()?;
    let todo_id = b.str()?;
    let project = b.str()?;
    let content = b.str()?;
    let active_form = b.opt()?;
    let status = Status::parse(b.text()?).unwrap_or(Status::Pending);
    let observer = b.str()?;
    let session = b.opt()?;
    let device = b.str()?;
    let source = b.text()?.parse::<Source>().unwrap_or(Source::File);
    Ok(Record {
        seq,
        via,
        observation: Observation {
            id,
            todo_id,
            project,
            content,
            active_form,
            status,
            observer,
            session,
            device,
            source,
            observed_at,
        },
    })
}
