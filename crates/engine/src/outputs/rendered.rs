//! The outputs' contents kept rendered per project, so a long-lived process
//! (the daemon) answers a one-todo change by re-rendering one project and
//! writing the files out, instead of reading and formatting every todo again.
//!
//! Which projects changed comes from the store (`project_changes`), so changes
//! made by other processes — hooks, `consolidate`, a sync — are seen too.

use super::format::{self, CoordinationProject};
use crate::EngineError;
use chittysync_core::{Status, Timestamp};
use chittysync_store::{Store, StoredTodo};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// One project's part of every output.
struct ProjectBlock {
    /// The visible todos' entries, in output order, as a [`format::list_block`].
    entries: String,
    /// The visible todos' conflicts, as a [`format::list_block`].
    conflicts: String,
    /// The project's `project-coordination.json` fields before its todos.
    coordination_head: String,
    todos: u64,
    conflict_count: u64,
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

impl ProjectBlock {
    /// The block of one project's todos (all of the same project, in output
    /// order); `None` when none of them is visible.
    fn new(project: &str, todos: &[StoredTodo]) -> Option<ProjectBlock> {
        let visible: Vec<&StoredTodo> = todos
            .iter()
            .filter(|t| t.status != Status::Deleted)
            .collect();
        if visible.is_empty() {
            return None;
        }
        let entries = format::list_block(visible.iter().map(|t| t.entry_json.as_str()));
        let conflicted: Vec<&str> = visible
            .iter()
            .filter_map(|t| t.conflict_json.as_deref())
            .collect();
        let sessions: BTreeSet<&str> = visible
            .iter()
            .flat_map(|t| t.sessions.iter().map(String::as_str))
            .collect();
        let count = |s: Status| visible.iter().filter(|t| t.status == s).count();
        let coordination_head = format!(
            "{{\"project_name\": {}, \"sessions\": [{}], \"session_count\": {}, \"todo_count\": {}, \"pending_todos\": {}, \"active_todos\": {}, \"completed_todos\": {}",
            json_string(project),
            sessions.iter().map(|s| json_string(s)).collect::<Vec<_>>().join(", "),
            sessions.len(),
            visible.len(),
            count(Status::Pending),
            count(Status::InProgress),
            count(Status::Completed),
        );
        Some(ProjectBlock {
            conflict_count: conflicted.len() as u64,
            entries,
            conflicts: format::list_block(conflicted.into_iter()),
            coordination_head,
            todos: visible.len() as u64,
        })
    }
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
    blocks: BTreeMap<String, ProjectBlock>,
}

impl Rendered {
    /// Renders every project from the store.
    pub(crate) fn load(store: &Store) -> Result<Rendered, EngineError> {
        // Read the generation first: a change committed in between is then
        // seen again by the next refresh, never missed.
        let generation = store.fold_generation()?;
        let todos = store.folded_todos()?;
        let blocks = todos
            .chunk_by(|a, b| a.project == b.project)
            .filter_map(|group| {
                let project = &group[0].project;
                ProjectBlock::new(project, group).map(|block| (project.clone(), block))
            })
            .collect();
        Ok(Rendered { generation, blocks })
    }

    /// Re-renders the projects that changed since these blocks were rendered.
    pub(crate) fn refresh(&mut self, store: &Store) -> Result<(), EngineError> {
        let generation = store.fold_generation()?;
        if generation == self.generation {
            return Ok(());
        }
        for project in store.projects_changed_since(self.generation)? {
            let todos = store.folded_todos_of(&project)?;
            match ProjectBlock::new(&project, &todos) {
                Some(block) => self.blocks.insert(project, block),
                None => self.blocks.remove(&project),
            };
        }
        self.generation = generation;
        Ok(())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn totals(&self) -> Totals {
        Totals {
            todos: self.blocks.values().map(|b| b.todos).sum(),
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
