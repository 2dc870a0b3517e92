//! The outputs' contents kept rendered per project, so a long-lived process
//! (the daemon) answers a one-todo change by splicing one entry into its
//! project's part and writing the files out, instead of reading and
//! formatting every todo again.
//!
//! Which todos changed comes from the store (each folded row carries the fold
//! generation it last changed at), so changes made by other processes —
//! hooks, `consolidate`, a sync — are seen too.

use super::format::{self, Block, CoordinationProject, Sink, FIRST_ENTRY, NEXT_ENTRY};
use crate::EngineError;
use chittysync_core::{Status, Timestamp};
use chittysync_store::{Store, StoredTodo};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Write};
use std::ops::Range;
use std::sync::OnceLock;

/// A project's entries, as a [`format::list_block`]: in memory, or — read
/// back from the kept blocks — partly still in the `todos.json` they were
/// kept with, copied from there file to file when written
/// (docs/ARCHITECTURE.md, "The outputs").
#[derive(Default)]
struct Entries {
    /// The block's bytes, in order.
    pieces: Vec<Piece>,
    len: usize,
}

enum Piece {
    Text(String),
    /// These bytes of the kept `todos.json`.
    Kept(Range<u64>),
}

impl Piece {
    fn len(&self) -> usize {
        match self {
            Piece::Text(text) => text.len(),
            Piece::Kept(range) => (range.end - range.start) as usize,
        }
    }
}

/// Where an entry's bytes are.
enum Located<'a> {
    Text(&'a str),
    Kept(Range<u64>),
}

impl Located<'_> {
    /// The entry's text; `None` when the kept file cannot be read.
    fn text(&self, kept: Option<&File>) -> Option<Cow<'_, str>> {
        use std::os::unix::fs::FileExt;
        match self {
            Located::Text(text) => Some(Cow::Borrowed(text)),
            Located::Kept(range) => {
                let mut bytes = vec![0; usize::try_from(range.end - range.start).ok()?];
                kept?.read_exact_at(&mut bytes, range.start).ok()?;
                String::from_utf8(bytes).ok().map(Cow::Owned)
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Located::Text(text) => str::len(text),
            Located::Kept(range) => (range.end - range.start) as usize,
        }
    }
}

impl Entries {
    /// A block lying whole in the kept `todos.json`, at `range`.
    fn kept(range: Range<u64>) -> Entries {
        let len = (range.end - range.start) as usize;
        Entries {
            pieces: if len == 0 {
                Vec::new()
            } else {
                vec![Piece::Kept(range)]
            },
            len,
        }
    }

    /// An empty block that will take about `text` bytes of text.
    fn with_capacity(text: usize) -> Entries {
        Entries {
            pieces: vec![Piece::Text(String::with_capacity(text))],
            len: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes held in memory.
    fn text_len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(text) => text.len(),
                Piece::Kept(_) => 0,
            })
            .sum()
    }

    /// The text piece at the end, begun if the last piece is kept.
    fn text(&mut self) -> &mut String {
        if !matches!(self.pieces.last(), Some(Piece::Text(_))) {
            self.pieces.push(Piece::Text(String::new()));
        }
        match self.pieces.last_mut() {
            Some(Piece::Text(text)) => text,
            _ => unreachable!("a text piece was just pushed"),
        }
    }

    /// What goes before the next entry.
    fn separate(&mut self) {
        let separator = if self.is_empty() {
            FIRST_ENTRY
        } else {
            NEXT_ENTRY
        };
        self.text().push_str(separator);
        self.len += separator.len();
    }

    /// Appends an entry held in memory; returns where it lies in the block.
    fn push_text(&mut self, entry: &str) -> Range<usize> {
        self.separate();
        self.text().push_str(entry);
        let start = self.len;
        self.len += entry.len();
        start..self.len
    }

    /// Appends an entry lying at `at` in the kept `todos.json`; returns
    /// where it lies in the block. The entry right after the last one
    /// there extends its piece: in a block, [`NEXT_ENTRY`] lies between.
    fn push_kept(&mut self, at: Range<u64>) -> Range<usize> {
        let next = NEXT_ENTRY.len() as u64;
        match self.pieces.last_mut() {
            Some(Piece::Kept(last)) if last.end + next == at.start => {
                last.end = at.end;
                self.len += NEXT_ENTRY.len();
            }
            _ => {
                self.separate();
                self.pieces.push(Piece::Kept(at.clone()));
            }
        }
        let start = self.len;
        self.len += (at.end - at.start) as usize;
        start..self.len
    }

    /// The block written: kept bytes copied from `kept`.
    fn out<'a>(&'a self, kept: Option<&'a File>) -> EntriesOut<'a> {
        EntriesOut {
            entries: self,
            kept,
        }
    }
}

/// Walks a block's pieces to entries asked for in order.
struct Cursor<'a> {
    pieces: std::slice::Iter<'a, Piece>,
    piece: Option<&'a Piece>,
    /// Where `piece` begins in the block.
    start: usize,
}

impl<'a> Cursor<'a> {
    fn new(entries: &'a Entries) -> Cursor<'a> {
        let mut pieces = entries.pieces.iter();
        let piece = pieces.next();
        Cursor {
            pieces,
            piece,
            start: 0,
        }
    }

    /// Where the entry at `range` in the block is. Entries are asked for
    /// in order, each inside one piece (so they are built, and checked
    /// when read back).
    fn locate(&mut self, range: &Range<usize>) -> Located<'a> {
        while let Some(piece) = self.piece.filter(|p| self.start + p.len() < range.end) {
            self.start += piece.len();
            self.piece = self.pieces.next();
        }
        let inside = range
            .start
            .checked_sub(self.start)
            .zip(range.end.checked_sub(self.start));
        match (self.piece, inside) {
            (Some(Piece::Text(text)), Some((from, to))) => {
                Located::Text(text.get(from..to).expect("entries lie inside a piece"))
            }
            (Some(Piece::Kept(kept)), Some((from, to)))
                if to <= (kept.end - kept.start) as usize =>
            {
                Located::Kept(kept.start + from as u64..kept.start + to as u64)
            }
            _ => panic!("entries lie inside a piece, asked for in order"),
        }
    }
}

/// A block being written: its pieces, the kept ones copied from `kept`.
pub(crate) struct EntriesOut<'a> {
    entries: &'a Entries,
    kept: Option<&'a File>,
}

impl<W: Sink> Block<W> for EntriesOut<'_> {
    fn len(&self) -> u64 {
        self.entries.len as u64
    }

    fn write_to(&self, w: &mut W) -> io::Result<()> {
        for piece in &self.entries.pieces {
            match piece {
                Piece::Text(text) => w.write_all(text.as_bytes())?,
                Piece::Kept(range) => {
                    let kept = self.kept.ok_or_else(|| {
                        io::Error::other("entries kept in todos.json, but no todos.json")
                    })?;
                    w.copy_from(kept, range.start, range.end - range.start)?;
                }
            }
        }
        Ok(())
    }
}

/// A visible todo's place in its project's block.
struct Placed {
    sort_key: String,
    todo_id: String,
    /// Where its entry lies in [`ProjectBlock::entries`].
    range: Range<usize>,
    status: Status,
    sessions: Vec<String>,
    conflict: Option<String>,
}

impl Placed {
    fn order(&self, todo: &StoredTodo) -> Ordering {
        (self.sort_key.as_str(), self.todo_id.as_str())
            .cmp(&(todo.sort_key.as_str(), todo.todo_id.as_str()))
    }
}

/// One project's part of every output.
#[derive(Default)]
struct ProjectBlock {
    /// The visible todos' entries, in output order, as a [`format::list_block`].
    entries: Entries,
    /// The visible todos, in output order.
    placed: Vec<Placed>,
    /// The visible todos' conflicts, as a [`format::list_block`]: rendered
    /// when first written (a run that writes no `conflicts.json` never
    /// needs it).
    conflicts: OnceLock<String>,
    conflict_count: u64,
    /// The project's `project-coordination.json` fields before its todos.
    coordination_head: String,
}

/// A block being rebuilt: entries appended in output order.
struct Builder {
    entries: Entries,
    placed: Vec<Placed>,
}

impl Builder {
    fn push(&mut self, entry: &str, mut placed: Placed) {
        placed.range = self.entries.push_text(entry);
        self.placed.push(placed);
    }

    /// An unchanged todo, its entry where it was.
    fn keep(&mut self, entry: Located<'_>, mut placed: Placed) {
        placed.range = match entry {
            Located::Text(text) => self.entries.push_text(text),
            Located::Kept(at) => self.entries.push_kept(at),
        };
        self.placed.push(placed);
    }

    /// A changed todo, if it is visible (deleted ones leave the outputs).
    fn push_changed(&mut self, todo: StoredTodo) {
        if todo.status == Status::Deleted {
            return;
        }
        let placed = Placed {
            sort_key: todo.sort_key,
            todo_id: todo.todo_id,
            range: 0..0,
            status: todo.status,
            sessions: todo.sessions,
            conflict: todo.conflict_json,
        };
        self.push(&todo.entry_json, placed);
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

impl ProjectBlock {
    /// Merges changed todos of this project (in output order) into the block:
    /// unchanged entries are copied over, changed ones replace or join them.
    /// What changed is told by comparing each changed todo with its previous
    /// version, not the blocks (tens of megabytes for a large project).
    /// Entries of the kept `todos.json` are read from `kept`.
    fn apply(&mut self, project: &str, changed: Vec<StoredTodo>, kept: Option<&File>) -> Changed {
        let old_entries = std::mem::take(&mut self.entries);
        let mut old_at = Cursor::new(&old_entries);
        let mut old = std::mem::take(&mut self.placed).into_iter().peekable();
        let mut out = Builder {
            entries: Entries::with_capacity(old_entries.text_len() + 512 * changed.len()),
            placed: Vec::with_capacity(old.len() + changed.len()),
        };
        let mut moved = Moved::default();
        for todo in changed {
            while let Some(unchanged) = old.next_if(|p| p.order(&todo) == Ordering::Less) {
                out.keep(old_at.locate(&unchanged.range), unchanged);
            }
            // The todo's previous version, if any, is dropped for the new one.
            let previous = old.next_if(|p| p.order(&todo) == Ordering::Equal);
            let entry = previous.as_ref().map(|p| old_at.locate(&p.range));
            moved.compare(previous.as_ref(), entry, kept, &todo);
            out.push_changed(todo);
        }
        for unchanged in old {
            out.keep(old_at.locate(&unchanged.range), unchanged);
        }
        self.entries = out.entries;
        self.placed = out.placed;
        let (conflicts, head) = self.summarize(project, &moved);
        Changed {
            entries: moved.entries,
            conflicts,
            head,
        }
    }

    /// Counts the project's conflicts; their block is rendered again
    /// when next written.
    fn render_conflicts(&mut self) {
        self.conflict_count = self.placed.iter().filter(|p| p.conflict.is_some()).count() as u64;
        self.conflicts = OnceLock::new();
    }

    /// The project's conflicts block, from its todos' conflicts.
    fn conflicts(&self) -> &str {
        self.conflicts.get_or_init(|| {
            format::list_block(self.placed.iter().filter_map(|p| p.conflict.as_deref()))
        })
    }

    /// Re-renders what depends on all of the project's todos and moved:
    /// its conflicts and its coordination fields; returns whether each
    /// changed.
    fn summarize(&mut self, project: &str, moved: &Moved) -> (bool, bool) {
        if moved.conflicts {
            self.render_conflicts();
        }
        let count = |s: Status| self.placed.iter().filter(|p| p.status == s).count();
        let counts = format!(
            ", \"todo_count\": {}, \"pending_todos\": {}, \"active_todos\": {}, \"completed_todos\": {}",
            self.placed.len(),
            count(Status::Pending),
            count(Status::InProgress),
            count(Status::Completed),
        );
        // The fields before the counts (the name, the sessions) are kept
        // unless the project's sessions changed: `, "todo_count"` cannot
        // occur inside the JSON strings before it, whose quotes are escaped.
        let kept = (!moved.sessions.change_project(&self.placed))
            .then(|| self.coordination_head.rfind(", \"todo_count\": "))
            .flatten()
            .map(|at| &self.coordination_head[..at]);
        let head = match kept {
            Some(before) => format!("{before}{counts}"),
            None => {
                let mut sessions: Vec<&str> = self
                    .placed
                    .iter()
                    .flat_map(|p| p.sessions.iter().map(String::as_str))
                    .collect();
                sessions.sort_unstable();
                sessions.dedup();
                format!(
                    "{{\"project_name\": {}, \"sessions\": [{}], \"session_count\": {}{counts}",
                    json_string(project),
                    sessions
                        .iter()
                        .map(|s| json_string(s))
                        .collect::<Vec<_>>()
                        .join(", "),
                    sessions.len(),
                )
            }
        };
        let conflicts_changed = moved.conflicts;
        let head_changed = head != self.coordination_head;
        self.coordination_head = head;
        (conflicts_changed, head_changed)
    }
}

/// What the changed todos merged into a block moved, each compared with
/// its previous version (a todo absent before, or deleted now — it leaves
/// the outputs — counts as having none).
#[derive(Default)]
struct Moved {
    entries: bool,
    conflicts: bool,
    sessions: SessionMoves,
}

/// The sessions the changed todos gained and lost, each compared with its
/// previous version.
#[derive(Default)]
struct SessionMoves {
    gained: BTreeMap<String, usize>,
    lost: BTreeSet<String>,
}

/// Past this many sessions gained or lost, whether the project's list
/// changed is not worked out session by session: the list is made again.
const SESSIONS_CHECKED: usize = 8;

impl SessionMoves {
    fn compare(&mut self, previous: &[String], now: &[String]) {
        for session in now.iter().filter(|s| !previous.contains(s)) {
            *self.gained.entry(session.clone()).or_default() += 1;
        }
        for session in previous.iter().filter(|s| !now.contains(s)) {
            self.lost.insert(session.clone());
        }
    }

    /// Whether the project's set of sessions changed, `placed` being its
    /// todos after the change: a session gained is new to the project when
    /// only the todos that gained it hold it now, a session lost is gone
    /// when no todo holds it. Looked up one session at a time, so a
    /// one-todo change costs a pass over the project's todos, not the
    /// sorted list of all their sessions made again.
    fn change_project(&self, placed: &[Placed]) -> bool {
        if self.gained.is_empty() && self.lost.is_empty() {
            return false;
        }
        if self.gained.len() + self.lost.len() > SESSIONS_CHECKED {
            return true;
        }
        let holders = |session: &str| {
            placed
                .iter()
                .filter(|p| p.sessions.iter().any(|s| s == session))
                .count()
        };
        self.gained.iter().any(|(s, gained)| holders(s) <= *gained)
            || self.lost.iter().any(|s| holders(s) == 0)
    }
}

impl Moved {
    /// `entry` is where `previous`'s entry is, read from `kept` if there.
    fn compare(
        &mut self,
        previous: Option<&Placed>,
        entry: Option<Located<'_>>,
        kept: Option<&File>,
        todo: &StoredTodo,
    ) {
        let now = (todo.status != Status::Deleted).then_some(todo);
        self.entries |= match (entry, now) {
            (None, None) => false,
            (Some(entry), Some(now)) if entry.len() == now.entry_json.len() => {
                // Unreadable, it is taken as changed: the file is written.
                entry.text(kept).is_none_or(|text| text != now.entry_json)
            }
            _ => true,
        };
        self.conflicts |= previous.and_then(|p| p.conflict.as_deref())
            != now.and_then(|t| t.conflict_json.as_deref());
        self.sessions.compare(
            previous.map_or(&[], |p| &p.sessions),
            now.map_or(&[], |t| &t.sessions),
        );
    }
}

/// What merging changed todos into a project's block changed.
struct Changed {
    entries: bool,
    conflicts: bool,
    head: bool,
}

/// Which content each output last took, as numbers unique in this process:
/// an output whose number did not move since it was written is written
/// again only if it is missing (docs/ARCHITECTURE.md, "The outputs").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Versions {
    pub todos: u64,
    pub coordination: u64,
    pub conflicts: u64,
}

/// A number no other content of this process had.
fn next_version() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Totals over the visible todos, as a consolidation summary reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Totals {
    pub todos: u64,
    pub projects: u64,
    pub conflicts: u64,
}

/// Every project's block, as of one fold generation.
pub(crate) struct Rendered {
    /// The fold generation these blocks reflect at least.
    generation: u64,
    /// The store's fold epoch when these blocks were rendered from scratch.
    epoch: u64,
    blocks: BTreeMap<String, ProjectBlock>,
    versions: Versions,
    /// The `todos.json` the blocks were read back with, where the entries
    /// not changed since lie.
    kept: Option<KeptTodos>,
}

/// The `todos.json` kept blocks were read back with, opened once for each
/// output copied from it side by side (each copy seeks its own).
pub(crate) struct KeptTodos {
    pub todos: File,
    pub coordination: File,
}

impl Rendered {
    /// Renders every project from the store.
    pub(crate) fn load(store: &Store) -> Result<Rendered, EngineError> {
        // Read the generation first: a change committed in between is then
        // seen again by the next refresh, never missed.
        let mut rendered = Rendered::new(store.fold_generation()?, store.fold_epoch()?);
        // A project at a time: every row is never held beside the blocks.
        store.each_folded_project(|project| rendered.apply(project))?;
        Ok(rendered)
    }

    /// No project yet, at this generation and epoch; its content new.
    fn new(generation: u64, epoch: u64) -> Rendered {
        Rendered {
            generation,
            epoch,
            blocks: BTreeMap::new(),
            versions: Versions {
                todos: next_version(),
                coordination: next_version(),
                conflicts: next_version(),
            },
            kept: None,
        }
    }

    /// Re-renders the todos that changed since these blocks were rendered.
    pub(crate) fn refresh(&mut self, store: &Store) -> Result<(), EngineError> {
        if store.fold_epoch()? != self.epoch {
            *self = Rendered::load(store)?;
            return Ok(());
        }
        let generation = store.fold_generation()?;
        if generation != self.generation {
            self.apply(store.todos_changed_since(self.generation)?);
            self.generation = generation;
        }
        Ok(())
    }

    /// Merges changed todos (in output order) into their projects' blocks,
    /// consuming them: each entry is freed once copied, so a full render
    /// does not hold every todo twice.
    fn apply(&mut self, changed: Vec<StoredTodo>) {
        let mut todos = changed.into_iter().peekable();
        while let Some(first) = todos.next() {
            let project = first.project.clone();
            let mut group = vec![first];
            while let Some(next) = todos.next_if(|t| t.project == project) {
                group.push(next);
            }
            let mut block = self.blocks.remove(&project).unwrap_or_default();
            let kept = self.kept.as_ref().map(|k| &k.todos);
            let changed = block.apply(&project, group, kept);
            if changed.entries {
                self.versions.todos = next_version();
            }
            if changed.entries || changed.head {
                self.versions.coordination = next_version();
            }
            if changed.conflicts {
                self.versions.conflicts = next_version();
            }
            if !block.placed.is_empty() {
                self.blocks.insert(project, block);
            }
        }
    }

    /// Which content each output takes now.
    pub(crate) fn versions(&self) -> Versions {
        self.versions
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Leaves the blocks' memory to the process's exit: freeing a large
    /// project's todos one allocation at a time is work a process that is
    /// about to exit does for nothing.
    pub(crate) fn leak_blocks(&mut self) {
        std::mem::forget(std::mem::take(&mut self.blocks));
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn totals(&self) -> Totals {
        Totals {
            todos: self.blocks.values().map(|b| b.placed.len() as u64).sum(),
            projects: self.blocks.len() as u64,
            conflicts: self.blocks.values().map(|b| b.conflict_count).sum(),
        }
    }

    /// Writes `todos.json`; returns where each project's block begins in it.
    pub(crate) fn write_todos(&self, w: &mut impl Sink, at: Timestamp) -> io::Result<Vec<u64>> {
        let kept = self.kept.as_ref().map(|k| &k.todos);
        let blocks = self.blocks.values().map(|b| b.entries.out(kept));
        format::write_todos_file(w, blocks, at)
    }

    /// Copies from the kept `todos.json` through its own descriptor: it may
    /// run beside [`Rendered::write_todos`].
    pub(crate) fn write_coordination(&self, w: &mut impl Sink, at: Timestamp) -> io::Result<()> {
        let kept = self.kept.as_ref().map(|k| &k.coordination);
        let projects = self.blocks.values().map(|b| CoordinationProject {
            head: &b.coordination_head,
            todos: b.entries.out(kept),
        });
        format::write_coordination_file(w, projects, at)
    }

    pub(crate) fn write_conflicts(
        &self,
        w: &mut impl Write,
        merge_conflicts: Option<&str>,
        at: Timestamp,
    ) -> io::Result<()> {
        let blocks = self.blocks.values().map(ProjectBlock::conflicts);
        let count = self.totals().conflicts;
        format::write_conflicts_file(w, blocks, count, merge_conflicts, at)
    }
}

/// The first bytes of a [`Rendered::encode`]d file, and its format's version.
const CACHE_MAGIC: &[u8; 8] = b"CSRENDR2";

/// Writes a [`Rendered::encode`]d file, counting its bytes.
struct Encoder<W: Write> {
    w: W,
    len: u64,
}

impl<W: Write> Encoder<W> {
    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.len += b.len() as u64;
        self.w.write_all(b)
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

    fn str(&mut self) -> Option<String> {
        let n = self.len()?;
        Some(std::str::from_utf8(self.take(n)?).ok()?.to_owned())
    }

    fn opt(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
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
    /// put each project's block), and read back from there.
    pub(crate) fn encode(
        &self,
        w: impl Write,
        token: u64,
        starts: &[u64],
        kept: &Kept,
    ) -> io::Result<()> {
        if starts.len() != self.blocks.len() {
            return Err(io::Error::other("todos.json holds other blocks"));
        }
        let mut e = Encoder { w, len: 0 };
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
            e.u64(block.entries.len as u64)?;
            e.str(&block.coordination_head)?;
            e.u64(block.placed.len() as u64)?;
            for placed in &block.placed {
                e.str(&placed.sort_key)?;
                e.str(&placed.todo_id)?;
                e.u64(placed.range.start as u64)?;
                e.u64(placed.range.end as u64)?;
                e.bytes(&[status_code(placed.status)])?;
                e.u64(placed.sessions.len() as u64)?;
                for session in &placed.sessions {
                    e.str(session)?;
                }
                e.opt(placed.conflict.as_deref())?;
            }
        }
        // The length last: a file cut short is told apart from a whole one.
        let len = e.len + 8;
        e.u64(len)?;
        e.w.flush()
    }

    /// The blocks [`Rendered::encode`] wrote with this `token`, their
    /// entries left in `todos` (the `todos.json` they were kept with) until
    /// written, or `None` when the bytes are not such blocks (another token,
    /// cut short, damaged): the caller then renders from the store.
    pub(crate) fn decode(bytes: &[u8], token: u64, todos: KeptTodos) -> Option<(Rendered, Kept)> {
        let (mut d, kept) = Self::header(bytes, token)?;
        // A block's entries lie inside `todos.json`: a length beyond it is
        // damage.
        let todos_len = todos.todos.metadata().ok()?.len();
        let mut rendered = Rendered::new(d.u64()?, d.u64()?);
        for _ in 0..d.u64()? {
            let project = d.str()?;
            let start = d.u64()?;
            let len = d.u64()?;
            let end = start.checked_add(len)?;
            if end > todos_len {
                return None;
            }
            usize::try_from(len).ok()?;
            let entries = Entries::kept(start..end);
            let coordination_head = d.str()?;
            let count = d.len()?;
            let mut placed = Vec::with_capacity(count.min(d.0.len() / 8));
            // Entries lie in order, apart, inside the block.
            let mut free_from = 0;
            for _ in 0..count {
                let sort_key = d.str()?;
                let todo_id = d.str()?;
                let range = d.len()?..d.len()?;
                if range.start < free_from || range.end < range.start || range.end > entries.len {
                    return None;
                }
                free_from = range.end;
                let status = *Status::ALL.get(usize::from(d.u8()?))?;
                let sessions = (0..d.u64()?).map(|_| d.str()).collect::<Option<_>>()?;
                let conflict = d.opt()?;
                placed.push(Placed {
                    sort_key,
                    todo_id,
                    range,
                    status,
                    sessions,
                    conflict,
                });
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
        rendered.kept = Some(todos);
        d.0.is_empty().then_some((rendered, kept))
    }

    /// Checks the length, magic and token of an encoded file and reads what
    /// it says of the outputs; the decoder is left at the generation.
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
        let merge_conflicts = d.opt()?;
        Some((
            d,
            Kept {
                files,
                merge_conflicts,
            },
        ))
    }
}

/// A status as one byte: its place in [`Status::ALL`].
fn status_code(status: Status) -> u8 {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// One version of a todo, as the store would hand it over.
    fn todo(project: u8, key: u8, version: u16, status: Status, sessions: u8) -> StoredTodo {
        let todo_id = format!("{project:02x}{key:02x}");
        StoredTodo {
            entry_json: format!("{{\"id\":\"{todo_id}\",\"version\":{version}}}"),
            conflict_json: version
                .is_multiple_of(3)
                .then(|| format!("{{\"id\":\"{todo_id}\"}}")),
            sessions: (0..sessions).map(|s| format!("session-{s}")).collect(),
            project: format!("project-{project}"),
            sort_key: format!("todo {key}"),
            todo_id,
            status,
        }
    }

    fn arb_todo() -> impl Strategy<Value = StoredTodo> {
        (
            0u8..3,
            0u8..6,
            any::<u16>(),
            prop::sample::select(Status::ALL.to_vec()),
            0u8..3,
        )
            .prop_map(|(p, k, v, s, n)| todo(p, k, v, s, n))
    }

    /// Changes as the store reports them: the newest version of each todo
    /// changed, in output order.
    fn as_reported(batch: &[StoredTodo]) -> Vec<StoredTodo> {
        let mut newest = BTreeMap::new();
        for todo in batch {
            let key = (
                todo.project.clone(),
                todo.sort_key.clone(),
                todo.todo_id.clone(),
            );
            newest.insert(key, todo.clone());
        }
        newest.into_values().collect()
    }

    fn empty() -> Rendered {
        Rendered::new(0, 0)
    }

    fn files(rendered: &Rendered) -> Vec<Vec<u8>> {
        let at = Timestamp(0);
        let mut todos = Vec::new();
        rendered.write_todos(&mut todos, at).unwrap();
        let mut coordination = Vec::new();
        rendered.write_coordination(&mut coordination, at).unwrap();
        let mut conflicts = Vec::new();
        rendered.write_conflicts(&mut conflicts, None, at).unwrap();
        vec![todos, coordination, conflicts]
    }

    proptest! {
        /// Merging batches of changes one after another renders the same
        /// files as rendering the final state of every todo at once.
        #[test]
        fn merged_changes_render_like_a_full_render(
            batches in prop::collection::vec(prop::collection::vec(arb_todo(), 0..8), 1..6)
        ) {
            let mut incremental = empty();
            for batch in &batches {
                let (before, versions) = (files(&incremental), incremental.versions());
                incremental.apply(as_reported(batch));
                // An output whose bytes changed has a new version (it is
                // written again); the time stamps are the same here.
                let (after, now) = (files(&incremental), incremental.versions());
                prop_assert!(before[0] == after[0] || versions.todos != now.todos);
                prop_assert!(before[1] == after[1] || versions.coordination != now.coordination);
                prop_assert!(before[2] == after[2] || versions.conflicts != now.conflicts);
            }
            let mut full = empty();
            full.apply(as_reported(&batches.concat()));
            prop_assert_eq!(files(&incremental), files(&full));
            prop_assert_eq!(incremental.totals(), full.totals());
        }

        /// Blocks kept on disk (their entries in the `todos.json` written
        /// with them) and read back by the next process render the same
        /// files, and take later changes as the originals do — run after
        /// run, each writing its files with the unchanged entries copied
        /// from the previous run's `todos.json`.
        #[test]
        fn kept_blocks_read_back_are_the_same_blocks(
            batches in prop::collection::vec(prop::collection::vec(arb_todo(), 0..8), 1..4),
            laters in prop::collection::vec(prop::collection::vec(arb_todo(), 0..8), 1..4),
            token in any::<u64>(),
        ) {
            // `original` stays in memory; `run` is each process's blocks.
            let (mut original, mut run) = (empty(), empty());
            for batch in &batches {
                original.apply(as_reported(batch));
                run.apply(as_reported(batch));
            }
            let kept = Kept {
                files: [FileId { ino: 7, ..FileId::default() }; 3],
                merge_conflicts: Some("[]".into()),
            };
            for later in &laters {
                // The files as a run stages them, from file to file.
                let (todos, starts) = staged(|w| run.write_todos(w, Timestamp(0)));
                let (coordination, ()) = staged(|w| run.write_coordination(w, Timestamp(0)));
                let expected = files(&original);
                prop_assert_eq!(&read(&todos), &expected[0]);
                prop_assert_eq!(&read(&coordination), &expected[1]);
                let mut bytes = Vec::new();
                run.encode(&mut bytes, token, &starts, &kept).unwrap();
                let (mut decoded, read_kept) =
                    Rendered::decode(&bytes, token, kept_todos(&todos)).expect("decodes");
                prop_assert_eq!(&read_kept, &kept);
                prop_assert_eq!(files(&decoded), files(&original));
                prop_assert_eq!(decoded.totals(), original.totals());
                prop_assert_eq!((decoded.generation, decoded.epoch), (original.generation, original.epoch));
                // Another token, or bytes cut short, are refused.
                prop_assert!(Rendered::decode(&bytes, token.wrapping_add(1), kept_todos(&todos)).is_none());
                prop_assert!(Rendered::decode(&bytes[..bytes.len() - 1], token, kept_todos(&todos)).is_none());
                // Damage anywhere (a length among them) is read without a
                // panic or an allocation the bytes do not justify, and what
                // is taken takes changes and is written without a panic.
                for at in 0..bytes.len() - 8 {
                    let mut damaged = bytes.clone();
                    damaged[at] ^= 0xff;
                    if let Some((mut taken, _)) = Rendered::decode(&damaged, token, kept_todos(&todos)) {
                        taken.apply(as_reported(later));
                        files(&taken);
                    }
                }
                let versions = decoded.versions();
                let before = files(&decoded);
                original.apply(as_reported(later));
                decoded.apply(as_reported(later));
                let after = files(&decoded);
                prop_assert_eq!(&after, &files(&original));
                prop_assert!(before[0] == after[0] || versions.todos != decoded.versions().todos);
                prop_assert!(before[1] == after[1] || versions.coordination != decoded.versions().coordination);
                run = decoded;
            }
        }
    }

    /// What `write` writes into a file as an output is staged.
    fn staged<T>(write: impl FnOnce(&mut io::BufWriter<&File>) -> io::Result<T>) -> (File, T) {
        let file = tempfile::tempfile().unwrap();
        let mut w = io::BufWriter::with_capacity(8 << 10, &file);
        let out = write(&mut w).unwrap();
        w.flush().unwrap();
        drop(w);
        (file, out)
    }

    fn read(mut file: &File) -> Vec<u8> {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        file.rewind().unwrap();
        file.read_to_end(&mut bytes).unwrap();
        bytes
    }

    /// `todos` opened for each output copied from it.
    fn kept_todos(todos: &File) -> KeptTodos {
        KeptTodos {
            todos: todos.try_clone().unwrap(),
            coordination: todos.try_clone().unwrap(),
        }
    }
}
