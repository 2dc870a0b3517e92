//! The outputs' contents kept rendered per project, so a long-lived process
//! (the daemon) answers a one-todo change by splicing one entry into its
//! project's part and writing the files out, instead of reading and
//! formatting every todo again.
//!
//! Which todos changed comes from the store (each folded row carries the fold
//! generation it last changed at), so changes made by other processes —
//! hooks, `consolidate`, a sync — are seen too.

use super::format::{self, CoordinationProject};
use crate::EngineError;
use chittysync_core::{Status, Timestamp};
use chittysync_store::{Store, StoredTodo};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;

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
    entries: String,
    /// The visible todos, in output order.
    placed: Vec<Placed>,
    /// The visible todos' conflicts, as a [`format::list_block`].
    conflicts: String,
    conflict_count: u64,
    /// The project's `project-coordination.json` fields before its todos.
    coordination_head: String,
}

/// A block being rebuilt: entries appended in output order.
struct Builder {
    entries: String,
    placed: Vec<Placed>,
}

impl Builder {
    fn push(&mut self, entry: &str, mut placed: Placed) {
        placed.range = format::push_to_block(&mut self.entries, entry);
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
    fn apply(&mut self, project: &str, changed: Vec<StoredTodo>) -> Changed {
        let old_entries = std::mem::take(&mut self.entries);
        let mut old = std::mem::take(&mut self.placed).into_iter().peekable();
        let mut out = Builder {
            entries: String::with_capacity(old_entries.len() + 512 * changed.len()),
            placed: Vec::with_capacity(old.len() + changed.len()),
        };
        for todo in changed {
            while let Some(kept) = old.next_if(|p| p.order(&todo) == Ordering::Less) {
                let entry = &old_entries[kept.range.clone()];
                out.push(entry, kept);
            }
            // The todo's previous version, if any, is dropped for the new one.
            old.next_if(|p| p.order(&todo) == Ordering::Equal);
            out.push_changed(todo);
        }
        for kept in old {
            let entry = &old_entries[kept.range.clone()];
            out.push(entry, kept);
        }
        let entries = out.entries != old_entries;
        self.entries = out.entries;
        self.placed = out.placed;
        let (conflicts, head) = self.summarize(project);
        Changed {
            entries,
            conflicts,
            head,
        }
    }

    /// Re-renders what depends on all of the project's todos: its conflicts
    /// and its coordination fields; returns whether each changed.
    fn summarize(&mut self, project: &str) -> (bool, bool) {
        let conflicts: Vec<&str> = self
            .placed
            .iter()
            .filter_map(|p| p.conflict.as_deref())
            .collect();
        let count = conflicts.len() as u64;
        let block = format::list_block(conflicts.into_iter());
        let conflicts_changed = count != self.conflict_count || block != self.conflicts;
        self.conflict_count = count;
        self.conflicts = block;
        let mut sessions: Vec<&str> = self
            .placed
            .iter()
            .flat_map(|p| p.sessions.iter().map(String::as_str))
            .collect();
        sessions.sort_unstable();
        sessions.dedup();
        let count = |s: Status| self.placed.iter().filter(|p| p.status == s).count();
        let head = format!(
            "{{\"project_name\": {}, \"sessions\": [{}], \"session_count\": {}, \"todo_count\": {}, \"pending_todos\": {}, \"active_todos\": {}, \"completed_todos\": {}",
            json_string(project),
            sessions.iter().map(|s| json_string(s)).collect::<Vec<_>>().join(", "),
            sessions.len(),
            self.placed.len(),
            count(Status::Pending),
            count(Status::InProgress),
            count(Status::Completed),
        );
        let head_changed = head != self.coordination_head;
        self.coordination_head = head;
        (conflicts_changed, head_changed)
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
}

impl Rendered {
    /// Renders every project from the store.
    pub(crate) fn load(store: &Store) -> Result<Rendered, EngineError> {
        // Read the generation first: a change committed in between is then
        // seen again by the next refresh, never missed.
        let mut rendered = Rendered::new(store.fold_generation()?, store.fold_epoch()?);
        rendered.apply(store.folded_todos()?);
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
            let changed = block.apply(&project, group);
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

    pub(crate) fn totals(&self) -> Totals {
        Totals {
            todos: self.blocks.values().map(|b| b.placed.len() as u64).sum(),
            projects: self.blocks.len() as u64,
            conflicts: self.blocks.values().map(|b| b.conflict_count).sum(),
        }
    }

    pub(crate) fn write_todos(&self, w: &mut impl Write, at: Timestamp) -> io::Result<()> {
        let blocks = self.blocks.values().map(|b| b.entries.as_str());
        format::write_todos_file(w, blocks, at)
    }

    pub(crate) fn write_coordination(&self, w: &mut impl Write, at: Timestamp) -> io::Result<()> {
        let projects = self.blocks.values().map(|b| CoordinationProject {
            head: &b.coordination_head,
            todos: &b.entries,
        });
        format::write_coordination_file(w, projects, at)
    }

    pub(crate) fn write_conflicts(
        &self,
        w: &mut impl Write,
        merge_conflicts: Option<&str>,
        at: Timestamp,
    ) -> io::Result<()> {
        let blocks = self.blocks.values().map(|b| b.conflicts.as_str());
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
                incremental.apply(as_reported(batch));
            }
            let mut full = empty();
            full.apply(as_reported(&batches.concat()));
            prop_assert_eq!(files(&incremental), files(&full));
            prop_assert_eq!(incremental.totals(), full.totals());
        }
    }
}
