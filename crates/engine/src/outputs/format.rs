//! The byte layout of the output files: one entry per line, so the files stay
//! readable and their git diffs meaningful. Entries arrive already serialized
//! and are kept joined into blocks (a project's entries), so writing a file is
//! a few large writes, not one small write per entry.

use chittysync_core::Timestamp;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;

/// What comes before an array's first entry in a block, and before each
/// later one.
const FIRST_ENTRY: &str = "  ";
pub(crate) const NEXT_ENTRY: &str = ",\n  ";

/// Where an output is written: a file being staged, or memory (the git
/// sync's snapshots, tests). Either takes bytes of a file — the `todos.json`
/// the blocks were kept with, the kept blocks' own file — as well as bytes
/// in memory.
pub(crate) trait Sink: Write {
    /// Appends `len` bytes of `from`, from `at` on.
    fn copy_from(&mut self, from: &File, at: u64, len: u64) -> io::Result<()>;
}

impl Sink for Vec<u8> {
    fn copy_from(&mut self, from: &File, at: u64, len: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let old = self.len();
        let len = usize::try_from(len).map_err(io::Error::other)?;
        self.resize(old + len, 0);
        let read = from.read_exact_at(&mut self[old..], at);
        if read.is_err() {
            self.truncate(old);
        }
        read
    }
}

/// From file to file: `io::copy` between two files is `copy_file_range` on
/// Linux, the bytes never copied through this process's memory. `from` is
/// seeked: each writer copying at the same time has its own descriptor.
impl Sink for BufWriter<&File> {
    fn copy_from(&mut self, mut from: &File, at: u64, len: u64) -> io::Result<()> {
        from.seek(SeekFrom::Start(at))?;
        let copied = io::copy(&mut from.take(len), self)?;
        if copied != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{copied} of {len} bytes at {at}: the file is shorter"),
            ));
        }
        Ok(())
    }
}

/// A block of entries as [`list_block`] joins them, to be written.
pub(crate) trait Block<W> {
    fn len(&self) -> u64;
    fn write_to(&self, w: &mut W) -> io::Result<()>;
}

impl<W: Write> Block<W> for &str {
    fn len(&self) -> u64 {
        str::len(self) as u64
    }

    fn write_to(&self, w: &mut W) -> io::Result<()> {
        w.write_all(self.as_bytes())
    }
}

/// What goes before an entry of a [`list_block`]: the first, or one after
/// another (the block's layout: each entry's place follows from the lengths
/// of those before it).
pub(crate) fn separator(first: bool) -> &'static str {
    if first {
        FIRST_ENTRY
    } else {
        NEXT_ENTRY
    }
}

/// Entries joined as they appear in an array: one per line, indented.
pub(crate) fn list_block<'a>(entries: impl Iterator<Item = &'a str>) -> String {
    let mut block = String::new();
    for entry in entries {
        push_to_block(&mut block, entry);
    }
    block
}

/// Appends one entry to a [`list_block`]; returns where it lies in it.
pub(crate) fn push_to_block(block: &mut String, entry: &str) -> Range<usize> {
    block.push_str(separator(block.is_empty()));
    let start = block.len();
    block.push_str(entry);
    start..block.len()
}

/// Writes the body of a JSON array made of these blocks (empty ones
/// skipped); returns where each block written begins, counted from the body.
fn write_blocks<W: Write, B: Block<W>>(
    w: &mut W,
    blocks: impl Iterator<Item = B>,
) -> io::Result<Vec<u64>> {
    let mut at = 0;
    let mut starts = Vec::new();
    for block in blocks.filter(|b| b.len() > 0) {
        let separator: &[u8] = if starts.is_empty() { b"\n" } else { b",\n" };
        w.write_all(separator)?;
        at += separator.len() as u64;
        starts.push(at);
        block.write_to(w)?;
        at += block.len();
    }
    if !starts.is_empty() {
        w.write_all(b"\n")?;
    }
    Ok(starts)
}

/// `todos.json` holding these blocks of entries, in the order given;
/// returns the byte offset in the file of each non-empty block.
pub(crate) fn write_todos_file<W: Write, B: Block<W>>(
    w: &mut W,
    blocks: impl Iterator<Item = B>,
    generated_at: Timestamp,
) -> io::Result<Vec<u64>> {
    let head = format!("{{\"version\": 1, \"generated_at\": \"{generated_at}\",\n \"todos\": [");
    w.write_all(head.as_bytes())?;
    let mut starts = write_blocks(w, blocks)?;
    for start in &mut starts {
        *start += head.len() as u64;
    }
    w.write_all(b"]}\n")?;
    Ok(starts)
}

/// A `todos.json` holding these serialized entries, in the order given, one per
/// line. Shared with the git merge driver so a merged file looks like ours.
pub fn render_todos_file<'a>(
    entries: impl Iterator<Item = &'a str>,
    generated_at: Timestamp,
) -> String {
    let block = list_block(entries);
    let mut out = Vec::with_capacity(block.len() + 128);
    write_todos_file(&mut out, std::iter::once(block.as_str()), generated_at)
        .expect("writing to memory cannot fail");
    String::from_utf8(out).expect("entries and stamps are UTF-8")
}

/// One project of `project-coordination.json`: the seed's per-project view.
pub(crate) struct CoordinationProject<'a, B> {
    /// The project's fields before its todos, already serialized.
    pub head: &'a str,
    /// Its todos, as a [`list_block`].
    pub todos: B,
}

/// `project-coordination.json` over these projects, in the order given.
pub(crate) fn write_coordination_file<'a, W: Write, B: Block<W>>(
    w: &mut W,
    projects: impl Iterator<Item = CoordinationProject<'a, B>>,
    last_updated: Timestamp,
) -> io::Result<()> {
    write!(
        w,
        "{{\"version\": \"1.0.0\", \"last_updated\": \"{last_updated}\",\n \"projects\": ["
    )?;
    let mut first = true;
    for project in projects {
        w.write_all(if first { b"\n  " } else { b",\n  " })?;
        first = false;
        w.write_all(project.head.as_bytes())?;
        w.write_all(b",\n   \"todos\": [")?;
        let empty = project.todos.len() == 0;
        write_blocks(w, std::iter::once(project.todos))?;
        w.write_all(if empty { b"]}" } else { b"   ]}" })?;
    }
    if !first {
        w.write_all(b"\n")?;
    }
    w.write_all(b"]}\n")
}

/// `conflicts.json`: these blocks of serialized conflicts, and the conflicts
/// the git merge driver resolved (a JSON array kept in the store, so
/// consolidation rewriting this file never loses them).
pub(crate) fn write_conflicts_file<'a, W: Write>(
    w: &mut W,
    blocks: impl Iterator<Item = &'a str>,
    count: u64,
    merge_conflicts: Option<&str>,
    timestamp: Timestamp,
) -> io::Result<()> {
    write!(
        w,
        "{{\"timestamp\": \"{timestamp}\", \"auto_resolved\": {count},\n \"conflicts\": ["
    )?;
    write_blocks(w, blocks)?;
    w.write_all(b"]")?;
    if let Some(merged) = merge_conflicts {
        w.write_all(b",\n \"merge_conflicts\": ")?;
        w.write_all(merged.as_bytes())?;
    }
    w.write_all(b"}\n")
}
