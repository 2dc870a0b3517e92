//! The outputs' contents kept rendered per project, so a long-lived process
//! (the daemon) answers a one-todo change by splicing one entry into its
//! project's part and writing the files out, instead of reading and
//! formatting every todo again.
//!
//! Which todos changed comes from the store (each folded row carries the fold
//! generation it last changed at), so changes made by other processes —
//! hooks, `consolidate`, a sync — are seen too.

mod cache;
mod entries;
mod placed;

pub(crate) use cache::{FileId, Kept};
use entries::{Cursor, Entries, Located};
use placed::{Placed, Sessions};

use super::format::{self, CoordinationProject, Sink};
use crate::EngineError;
use chittysync_core::{Status, Timestamp};
use chittysync_store::{Store, StoredTodo};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Write};
use std::sync::OnceLock;

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
        let range = self.entries.push_text(&todo.entry_json);
        self.placed.push(Placed::changed(todo, range));
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
    /// Entries of the kept `todos.json` are read from `kept`, records of the
    /// kept blocks from `records`.
    fn apply(
        &mut self,
        project: &str,
        changed: Vec<StoredTodo>,
        kept: Option<&File>,
        records: &[u8],
    ) -> Changed {
        let old_entries = std::mem::take(&mut self.entries);
        let mut old_at = Cursor::new(&old_entries);
        let mut old = std::mem::take(&mut self.placed).into_iter();
        let mut out = Builder {
            entries: Entries::with_capacity(old_entries.text_len() + 512 * changed.len()),
            placed: Vec::with_capacity(old.len() + changed.len()),
        };
        let mut moved = Moved::default();
        for todo in changed {
            // The unchanged todos before it, found by halving: a few changes
            // in a large block compare a few keys, not every one.
            let before = old
                .as_slice()
                .partition_point(|p| p.order(records, &todo) == Ordering::Less);
            for unchanged in old.by_ref().take(before) {
                out.keep(old_at.locate(&unchanged.range), unchanged);
            }
            // The todo's previous version, if any, is dropped for the new one.
            let same = |p: &Placed| p.order(records, &todo) == Ordering::Equal;
            let previous = if old.as_slice().first().is_some_and(same) {
                old.next()
            } else {
                None
            };
            let entry = previous.as_ref().map(|p| old_at.locate(&p.range));
            moved.compare(previous.as_ref(), entry, kept, records, &todo);
            out.push_changed(todo);
        }
        for unchanged in old {
            out.keep(old_at.locate(&unchanged.range), unchanged);
        }
        self.entries = out.entries;
        self.placed = out.placed;
        let (conflicts, head) = self.summarize(project, &moved, records);
        Changed {
            entries: moved.entries,
            conflicts,
            head,
        }
    }

    /// Counts the project's conflicts; their block is rendered again
    /// when next written.
    fn render_conflicts(&mut self) {
        self.conflict_count = self.placed.iter().filter(|p| p.conflicted).count() as u64;
        self.conflicts = OnceLock::new();
    }

    /// The project's conflicts block, from its todos' conflicts (kept
    /// records read from `records`).
    fn conflicts(&self, records: &[u8]) -> &str {
        self.conflicts.get_or_init(|| {
            let conflicted = self.placed.iter().filter(|p| p.conflicted);
            format::list_block(conflicted.filter_map(|p| p.fields(records).conflict))
        })
    }

    /// Re-renders what depends on all of the project's todos and moved:
    /// its conflicts and its coordination fields; returns whether each
    /// changed.
    fn summarize(&mut self, project: &str, moved: &Moved, records: &[u8]) -> (bool, bool) {
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
        let kept = (!moved.sessions.change_project(&self.placed, records))
            .then(|| self.coordination_head.rfind(", \"todo_count\": "))
            .flatten()
            .map(|at| &self.coordination_head[..at]);
        let head = match kept {
            Some(before) => format!("{before}{counts}"),
            None => {
                let mut sessions: Vec<&str> = self
                    .placed
                    .iter()
                    .flat_map(|p| p.fields(records).sessions.iter())
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
    fn compare(&mut self, previous: Sessions<'_>, now: &[String]) {
        for session in now.iter().filter(|s| !previous.contains(s)) {
            *self.gained.entry(session.clone()).or_default() += 1;
        }
        for session in previous.iter().filter(|s| !now.iter().any(|n| n == s)) {
            self.lost.insert(session.to_owned());
        }
    }

    /// Whether the project's set of sessions changed, `placed` being its
    /// todos after the change: a session gained is new to the project when
    /// only the todos that gained it hold it now, a session lost is gone
    /// when no todo holds it. Looked up one session at a time, so a
    /// one-todo change costs a pass over the project's todos, not the
    /// sorted list of all their sessions made again.
    fn change_project(&self, placed: &[Placed], records: &[u8]) -> bool {
        if self.gained.is_empty() && self.lost.is_empty() {
            return false;
        }
        if self.gained.len() + self.lost.len() > SESSIONS_CHECKED {
            return true;
        }
        let holders = |session: &str| {
            placed
                .iter()
                .filter(|p| p.fields(records).sessions.contains(session))
                .count()
        };
        self.gained.iter().any(|(s, gained)| holders(s) <= *gained)
            || self.lost.iter().any(|s| holders(s) == 0)
    }
}

impl Moved {
    /// `entry` is where `previous`'s entry is, read from `kept` if there;
    /// its record, if kept, is read from `records`.
    fn compare(
        &mut self,
        previous: Option<&Placed>,
        entry: Option<Located<'_>>,
        kept: Option<&File>,
        records: &[u8],
        todo: &StoredTodo,
    ) {
        let previous = previous.map(|p| p.fields(records));
        let now = (todo.status != Status::Deleted).then_some(todo);
        self.entries |= match (entry, now) {
            (None, None) => false,
            (Some(entry), Some(now)) if entry.len() == now.entry_json.len() => {
                // Unreadable, it is taken as changed: the file is written.
                entry.text(kept).is_none_or(|text| text != now.entry_json)
            }
            _ => true,
        };
        self.conflicts |= previous.as_ref().and_then(|p| p.conflict)
            != now.and_then(|t| t.conflict_json.as_deref());
        self.sessions.compare(
            previous.map_or(Sessions::Owned(&[]), |p| p.sessions),
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
    /// The bytes the blocks were read back from, where the records of the
    /// todos not changed since lie (empty when rendered from the store).
    records: Vec<u8>,
    /// The file `records` were read from, as it was then: long runs of
    /// records are copied from it, file to file, when the blocks are kept
    /// again (see [`Rendered::encode`]).
    records_file: Option<(File, FileId)>,
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
            records: Vec::new(),
            records_file: None,
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
            let changed = block.apply(&project, group, kept, &self.records);
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
        let blocks = self.blocks.values().map(|b| b.conflicts(&self.records));
        let count = self.totals().conflicts;
        format::write_conflicts_file(w, blocks, count, merge_conflicts, at)
    }
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
                // Written as a run writes it, every run of kept records
                // copied from the file they were read from: the same bytes.
                let (cache, ()) = staged(|w| run.encode_copying(w, token, &starts, &kept, 0));
                prop_assert_eq!(&read(&cache), &bytes);
                let (mut decoded, read_kept) =
                    Rendered::decode(bytes.clone(), token, kept_todos(&todos)).expect("decodes");
                decoded.records_read_from(cache);
                prop_assert_eq!(&read_kept, &kept);
                prop_assert_eq!(files(&decoded), files(&original));
                prop_assert_eq!(decoded.totals(), original.totals());
                prop_assert_eq!((decoded.generation, decoded.epoch), (original.generation, original.epoch));
                // Another token, or bytes cut short, are refused.
                prop_assert!(Rendered::decode(bytes.clone(), token.wrapping_add(1), kept_todos(&todos)).is_none());
                prop_assert!(Rendered::decode(bytes[..bytes.len() - 1].to_vec(), token, kept_todos(&todos)).is_none());
                // Damage anywhere (a length among them) is read without a
                // panic or an allocation the bytes do not justify, and what
                // is taken takes changes and is written without a panic.
                for at in 0..bytes.len() - 8 {
                    let mut damaged = bytes.clone();
                    damaged[at] ^= 0xff;
                    if let Some((mut taken, _)) = Rendered::decode(damaged, token, kept_todos(&todos)) {
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

    /// Blocks read back from a file that was changed in place since (by
    /// anything but chittysync, which replaces it) are kept again from the
    /// bytes read, not from the file.
    #[test]
    fn a_records_file_changed_since_it_was_read_is_not_copied_from() {
        let mut run = empty();
        run.apply(as_reported(&[
            todo(1, 1, 1, Status::Pending, 1),
            todo(1, 2, 2, Status::Completed, 2),
        ]));
        let (todos, starts) = staged(|w| run.write_todos(w, Timestamp(0)));
        let kept = Kept {
            files: [FileId::default(); 3],
            merge_conflicts: None,
        };
        let mut bytes = Vec::new();
        run.encode(&mut bytes, 1, &starts, &kept).unwrap();
        let (cache, ()) = staged(|w| run.encode_copying(w, 1, &starts, &kept, 0));
        let (mut decoded, _) = Rendered::decode(bytes.clone(), 1, kept_todos(&todos)).unwrap();
        decoded.records_read_from(cache.try_clone().unwrap());
        // The same length, other bytes, another mtime (set, not waited for:
        // a file system's clock may be coarser than any sleep here).
        std::os::unix::fs::FileExt::write_all_at(&cache, &vec![b'x'; bytes.len()], 0).unwrap();
        let then = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1);
        cache.set_modified(then).unwrap();
        let (again, ()) = staged(|w| decoded.encode_copying(w, 1, &starts, &kept, 0));
        assert_eq!(read(&again), bytes);
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
