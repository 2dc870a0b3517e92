//! The rendered blocks kept on disk by a process that runs once, for the
//! next one (docs/ARCHITECTURE.md, "The outputs"): each project's coordination
//! fields and, per visible todo, one record — sort key, id, the length of its
//! entry, status, sessions, conflict. The entries themselves are in the
//! `todos.json` written with the file; their places follow from the lengths.
//! A record read back is not decoded into memory: it is read where it lies
//! when asked ([`record`]) and copied as it is when the blocks are kept
//! again, so a run pays per changed todo, not per todo.

use super::entries::Entries;
use super::placed::{Fields, FieldsRef, Owned, Placed, Sessions};
use super::{KeptTodos, ProjectBlock, Rendered};
use crate::outputs::format::{separator, Sink};
use chittysync_core::Status;
use std::fs::File;
use std::io;
use std::ops::Range;

/// The first bytes of a [`Rendered::encode`]d file, and its format's version.
const CACHE_MAGIC: &[u8; 8] = b"CSRENDR3";

/// A run of kept records at least this long is copied file to file (one
/// `copy_file_range`, cheaper than writing the bytes from memory); a shorter
/// one is written from memory (docs/BENCHMARKS.md, "One changed file").
const COPY_AT_LEAST: usize = 64 << 10;

/// Writes a [`Rendered::encode`]d file, counting its bytes.
struct Encoder<'a, W: Sink> {
    w: &'a mut W,
    len: u64,
    /// The file the kept records were read from, where it still holds them.
    from: Option<&'a File>,
    /// Runs this long and longer are copied from `from`.
    copy_at_least: usize,
}

impl<W: Sink> Encoder<'_, W> {
    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.len += b.len() as u64;
        self.w.write_all(b)
    }

    /// The kept records at `run` of `records`: copied from the file they
    /// were read from when the run is long, else written from memory.
    fn kept(&mut self, records: &[u8], run: Range<usize>) -> io::Result<()> {
        match self.from {
            Some(file) if run.len() >= self.copy_at_least && !run.is_empty() => {
                self.len += run.len() as u64;
                self.w.copy_from(file, run.start as u64, run.len() as u64)
            }
            _ => self.bytes(&records[run]),
        }
    }

    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn str(&mut self, s: &str) -> io::Result<()> {
        self.u64(s.len() as u64)?;
        self.bytes(s.as_bytes())
    }

    fn opt(&mut self, s: Option<&str>) -> io::Result<()> {
        match s {
            Some(s) => {
                self.bytes(&[1])?;
                self.str(s)
            }
            None => self.bytes(&[0]),
        }
    }

    /// The record (see [`record`]) of a todo whose fields are in memory:
    /// a kept one is copied as it lies.
    fn record(&mut self, fields: &Owned, entry_len: usize, status: Status) -> io::Result<()> {
        self.str(&fields.sort_key)?;
        self.str(&fields.todo_id)?;
        self.u64(entry_len as u64)?;
        self.bytes(&[status_code(status)])?;
        self.u64(fields.sessions.len() as u64)?;
        for session in &fields.sessions {
            self.str(session)?;
        }
        self.opt(fields.conflict.as_deref())
    }
}

/// Reads a [`Rendered::encode`]d buffer; `None` at anything out of place.
struct Decoder<'a>(&'a [u8]);

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    fn str(&mut self) -> Option<&'a str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    fn opt(&mut self) -> Option<Option<&'a str>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
}

/// A todo's record, as it lies in the kept blocks' bytes.
pub(super) struct Record<'a> {
    pub fields: FieldsRef<'a>,
    pub entry_len: usize,
    pub status: Status,
}

/// The record `bytes` begin with, and how many bytes it takes; `None` when
/// they are not one (cut short, not UTF-8, a status or flag out of range).
fn read_record(bytes: &[u8]) -> Option<(Record<'_>, usize)> {
    let mut d = Decoder(bytes);
    let sort_key = d.str()?;
    let todo_id = d.str()?;
    let entry_len = d.len()?;
    let status = *Status::ALL.get(usize::from(d.u8()?))?;
    let count = d.len()?;
    let from = bytes.len() - d.0.len();
    for _ in 0..count {
        d.str()?;
    }
    let sessions = &bytes[from..bytes.len() - d.0.len()];
    let conflict = d.opt()?;
    let record = Record {
        fields: FieldsRef {
            sort_key,
            todo_id,
            sessions: Sessions::Kept {
                count,
                bytes: sessions,
            },
            conflict,
        },
        entry_len,
        status,
    };
    Some((record, bytes.len() - d.0.len()))
}

/// The record that `bytes` are, whole.
pub(super) fn record(bytes: &[u8]) -> Option<Record<'_>> {
    read_record(bytes).and_then(|(record, len)| (len == bytes.len()).then_some(record))
}

/// The `count` sessions encoded in `bytes` (of a record checked when read
/// back).
pub(super) fn sessions(bytes: &[u8], count: usize) -> impl Iterator<Item = &str> {
    let mut d = Decoder(bytes);
    (0..count).map_while(move |_| d.str())
}

/// What a process that exits after one run keeps on disk for the next
/// (docs/ARCHITECTURE.md, "The outputs"), besides the blocks: written by
/// [`Rendered::encode`], read back by [`Rendered::decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    /// Which file each output was when the blocks were kept (`todos.json`,
    /// `project-coordination.json`, `conflicts.json`; the default when not
    /// known): the entries are read back from `todos.json`, and an output
    /// still the same file holds what the blocks say.
    pub files: [FileId; 3],
    /// The merge conflicts `conflicts.json` named.
    pub merge_conflicts: Option<String>,
}

/// One file as `stat` tells it apart from another: replaced (renamed over)
/// or rewritten, it differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FileId {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
}

impl FileId {
    pub(crate) fn of(meta: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

impl Rendered {
    /// Writes these blocks, tagged with `token`, without their entries:
    /// those are in `todos.json`, at `starts` (where [`Rendered::write_todos`]
    /// put each project's block), and read back from there. Records read
    /// back are copied as they lie, a run of them side by side at once.
    pub(crate) fn encode(
        &self,
        w: &mut impl Sink,
        token: u64,
        starts: &[u64],
        kept: &Kept,
    ) -> io::Result<()> {
        self.encode_copying(w, token, starts, kept, COPY_AT_LEAST)
    }

    /// [`Rendered::encode`], copying runs of kept records `copy_at_least`
    /// long and longer from the file they were read from, if it is still as
    /// it was then (a file changed in place since is not copied from).
    pub(super) fn encode_copying(
        &self,
        w: &mut impl Sink,
        token: u64,
        starts: &[u64],
        kept: &Kept,
        copy_at_least: usize,
    ) -> io::Result<()> {
        if starts.len() != self.blocks.len() {
            return Err(io::Error::other("todos.json holds other blocks"));
        }
        let from = self.records_file.as_ref().and_then(|(file, id)| {
            let now = file.metadata().ok().map(|m| FileId::of(&m));
            (now == Some(*id)).then_some(file)
        });
        let mut e = Encoder {
            w,
            len: 0,
            from,
            copy_at_least,
        };
        e.bytes(CACHE_MAGIC)?;
        e.u64(token)?;
        for file in &kept.files {
            e.u64(file.dev)?;
            e.u64(file.ino)?;
            e.u64(file.size)?;
            e.bytes(&file.mtime_ns.to_le_bytes())?;
        }
        e.opt(kept.merge_conflicts.as_deref())?;
        e.u64(self.generation)?;
        e.u64(self.epoch)?;
        e.u64(self.blocks.len() as u64)?;
        for ((project, block), start) in self.blocks.iter().zip(starts) {
            e.str(project)?;
            e.u64(*start)?;
            e.u64(block.entries.len() as u64)?;
            e.str(&block.coordination_head)?;
            e.u64(block.placed.len() as u64)?;
            // Kept records waiting to be copied: a run of them side by side.
            let mut run: Range<usize> = 0..0;
            for placed in &block.placed {
                match &placed.fields {
                    Fields::Kept(at) if run.end == at.start && !run.is_empty() => run.end = at.end,
                    Fields::Kept(at) => {
                        e.kept(&self.records, std::mem::replace(&mut run, at.clone()))?;
                    }
                    Fields::Owned(fields) => {
                        e.kept(&self.records, std::mem::take(&mut run))?;
                        e.record(fields, placed.range.len(), placed.status)?;
                    }
                }
            }
            e.kept(&self.records, run)?;
        }
        // The length last: a file cut short is told apart from a whole one.
        let len = e.len + 8;
        e.u64(len)?;
        e.w.flush()
    }

    /// The blocks [`Rendered::encode`] wrote with this `token`, their
    /// entries left in `todos` (the `todos.json` they were kept with) until
    /// written and their records in `bytes`, or `None` when the bytes are
    /// not such blocks (another token, cut short, damaged): the caller then
    /// renders from the store.
    pub(crate) fn decode(bytes: Vec<u8>, token: u64, todos: KeptTodos) -> Option<(Rendered, Kept)> {
        let (mut d, kept) = header(&bytes, token)?;
        // Where the decoder is in `bytes` (the length after the body).
        let body_len = bytes.len() - 8;
        // A block's entries lie inside `todos.json`: a length beyond it is
        // damage.
        let todos_len = todos.todos.metadata().ok()?.len();
        let mut rendered = Rendered::new(d.u64()?, d.u64()?);
        for _ in 0..d.u64()? {
            let project = d.string()?;
            let start = d.u64()?;
            let len = d.u64()?;
            let end = start.checked_add(len)?;
            if end > todos_len {
                return None;
            }
            let entries = Entries::kept(start..end);
            let coordination_head = d.string()?;
            let count = d.len()?;
            let mut placed = Vec::with_capacity(count.min(d.0.len() / 8));
            // Entries follow one another in the block, apart by a separator.
            let mut at = 0;
            for i in 0..count {
                let (record, record_len) = read_record(d.0)?;
                let from = body_len - d.0.len();
                let entry_start = at + separator(i == 0).len();
                at = entry_start.checked_add(record.entry_len)?;
                placed.push(Placed {
                    range: entry_start..at,
                    status: record.status,
                    conflicted: record.fields.conflict.is_some(),
                    fields: Fields::Kept(from..from + record_len),
                });
                d.take(record_len)?;
            }
            if at != entries.len() {
                return None;
            }
            let mut block = ProjectBlock {
                entries,
                placed,
                coordination_head,
                ..ProjectBlock::default()
            };
            // Derived from the todos: built again, not kept.
            block.render_conflicts();
            rendered.blocks.insert(project, block);
        }
        if !d.0.is_empty() {
            return None;
        }
        rendered.kept = Some(todos);
        rendered.records = bytes;
        Some((rendered, kept))
    }

    /// Tells these blocks, read back by [`Rendered::decode`], the file their
    /// bytes were read from: as long as it stays as it is now, the next
    /// [`Rendered::encode`] copies long runs of records from it.
    pub(crate) fn records_read_from(&mut self, file: File) {
        self.records_file = file
            .metadata()
            .ok()
            .map(|m| FileId::of(&m))
            .filter(|id| id.size == self.records.len() as u64)
            .map(|id| (file, id));
    }
}

/// Checks the length, magic and token of an encoded file and reads what it
/// says of the outputs; the decoder is left at the generation.
fn header(bytes: &[u8], token: u64) -> Option<(Decoder<'_>, Kept)> {
    let (body, len) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if u64::from_le_bytes(len.try_into().ok()?) != bytes.len() as u64 {
        return None;
    }
    let mut d = Decoder(body);
    if d.take(CACHE_MAGIC.len())? != CACHE_MAGIC || d.u64()? != token {
        return None;
    }
    let mut files = [FileId::default(); 3];
    for file in &mut files {
        *file = FileId {
            dev: d.u64()?,
            ino: d.u64()?,
            size: d.u64()?,
            mtime_ns: i128::from_le_bytes(d.take(16)?.try_into().ok()?),
        };
    }
    let merge_conflicts = d.opt()?.map(str::to_owned);
    Some((
        d,
        Kept {
            files,
            merge_conflicts,
        },
    ))
}

/// A status as one byte: its place in [`Status::ALL`].
fn status_code(status: Status) -> u8 {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(0) as u8
}
