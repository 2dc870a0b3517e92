//! Plans written through chittysync's MCP server (docs/MCP.md).
//!
//! A `plan_write` is what a `TodoWrite` hook is, told by another door: the
//! caller's whole current list, one observation per item, stamped now, with
//! source `mcp`. It goes through the same [`Ingest`] steps (the same
//! observers, the same project rules), so the fold cannot tell it from a
//! list any other source told, and the outputs are refreshed at once so
//! `todos.json` shows it without waiting for the daemon.

use crate::collisions;
use crate::ingest::{observer_of, Ingest, Moved, Placer, Sightings};
use crate::summary::Report;
use crate::{Engine, EngineError};
use chittysync_core::{
    Collision, Conflict, Observation, Sighting, Source, Status, Timestamp, TodoEntry,
};
use chittysync_sources::RawTodo;
use chittysync_store::{SessionUpdate, StoreError, Tx};

/// Who writes through the MCP server: the session as chittysync names it, in
/// which folder, when.
#[derive(Debug, Clone)]
pub struct McpCaller {
    /// A session id as its agent's other records name it (Claude Code's
    /// `CLAUDE_CODE_SESSION_ID`), or `mcp:<client>:<cwd>` when nothing
    /// identifies the session.
    pub session: String,
    /// The server's folder: the session's (the agent starts the server there).
    pub cwd: Option<String>,
    pub now: Timestamp,
    /// `sessions.stale_after`: which sessions a collision counts (docs/COLLISIONS.md).
    pub stale_after: std::time::Duration,
}

/// The collisions a write put its caller in, each other session told once
/// (docs/COLLISIONS.md): what the PostToolUse hook would say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warned {
    pub collisions: Vec<Collision>,
    /// The hook's warning text, naming the other sessions; `None` without
    /// a collision to tell.
    pub warning: Option<String>,
}

impl Warned {
    /// What the writer is told of what its transaction appended after `before`.
    fn of_write(tx: &Tx<'_>, caller: &McpCaller, before: i64) -> Result<Warned, StoreError> {
        let new = tx.words_after(before)?;
        let collisions =
            collisions::warn_writer(tx, &caller.session, &new, caller.now, caller.stale_after)?;
        let warning = (!collisions.is_empty())
            .then(|| collisions::render_warning(&collisions, &caller.session, caller.now));
        Ok(Warned {
            collisions,
            warning,
        })
    }
}

/// What a `plan_write` took in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanWritten {
    /// The project the list was placed in.
    pub project: String,
    /// Observations new to the store (a list written twice adds none).
    pub observations: u64,
    /// Whether `todos.json` and the other outputs were rewritten.
    pub outputs_written: bool,
    /// The collisions the list put the caller in.
    pub warned: Warned,
}

/// Which todo a `plan_update` is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TodoRef {
    /// Its id, or a prefix of it of four characters or more.
    Id(String),
    /// Its content (compared normalized): a todo not known yet is added.
    Content(String),
}

/// What a `plan_update` did.
#[derive(Debug, Clone, PartialEq)]
pub struct TodoUpdated {
    /// The todo as folded after the update.
    pub todo: TodoEntry,
    /// Whether the todo was not known before (added by content).
    pub added: bool,
    /// Observations new to the store.
    pub observations: u64,
    /// When observers disagree on it: the sides and the rule that resolved them.
    pub conflict: Option<Conflict>,
    /// The collision the update put the caller in.
    pub warned: Warned,
}

/// Why an update could not be made.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("no todo has the id `{0}`")]
    UnknownId(String),
    #[error("the id prefix `{prefix}` names {count} todos; give more of it")]
    AmbiguousId { prefix: String, count: usize },
    #[error("an id or id prefix needs at least 4 characters; `{0}` is too short")]
    ShortId(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for UpdateError {
    fn from(e: StoreError) -> Self {
        UpdateError::Engine(e.into())
    }
}

impl Engine {
    /// The project the caller's folder decides (docs/DESIGN.md, "Projects"): the same rules as
    /// every session's.
    pub fn project_of_cwd(&self, cwd: &str) -> String {
        Placer::new(&self.rules).project_of_cwd(cwd)
    }

    /// `plan_write`: the caller's whole current list, as `TodoWrite` would
    /// give it. Items it no longer lists keep their last word (docs/DESIGN.md, "The fold").
    pub fn record_plan(
        &mut self,
        caller: &McpCaller,
        todos: &[RawTodo],
    ) -> Result<PlanWritten, EngineError> {
        let mut report = Report::default();
        let tx = self.store.begin()?;
        let before = tx.last_seq()?;
        let mut placer = Placer::new(&self.rules);
        record_session(&tx, caller, &self.device, &mut placer)?;
        let project = session_project(&tx, caller, &self.rules)?;
        let mut sightings = Sightings::default();
        sightings.push_list(todos, &caller.session, None, Source::Mcp, caller.now);
        let ingest = Ingest {
            tx: &tx,
            device: &self.device,
            placer,
            sightings,
            report: &mut report,
            moved: Moved::default(),
        };
        let observations = ingest.finish()?;
        // In the same transaction, as the hook: two writers racing cannot
        // both be told of one collision.
        let warned = Warned::of_write(&tx, caller, before)?;
        tx.commit()?;
        let outputs_written = self.refresh_outputs()?;
        Ok(PlanWritten {
            project,
            observations,
            outputs_written,
            warned,
        })
    }

    /// `plan_update`: one todo's new status (and active form) as the caller's
    /// word. A todo named by id keeps its project; one named by content is
    /// the caller's project's, added when not known there yet.
    pub fn update_todo(
        &mut self,
        caller: &McpCaller,
        target: &TodoRef,
        status: Status,
        active_form: Option<String>,
    ) -> Result<TodoUpdated, UpdateError> {
        let (project, content, known_form) = match target {
            TodoRef::Id(prefix) => {
                let todo = self.todo_by_id(prefix)?;
                (todo.project, todo.content, todo.active_form)
            }
            TodoRef::Content(content) => {
                let stored = self.store.session(&caller.session)?.and_then(|s| s.project);
                let project = match (stored, caller.cwd.as_deref()) {
                    (Some(project), _) => project,
                    (None, Some(cwd)) => self.project_of_cwd(cwd),
                    (None, None) => self.rules.for_content(content),
                };
                // A known todo keeps its spelling: the caller's only names it.
                let id = chittysync_core::todo_id(&project, content);
                match self.todo_by_id(&id) {
                    Ok(todo) => (todo.project, todo.content, todo.active_form),
                    Err(_) => (project, content.clone(), None),
                }
            }
        };
        let todo_id = chittysync_core::todo_id(&project, &content);
        let added = self
            .store
            .todos_by_ids(std::slice::from_ref(&todo_id))?
            .is_empty();
        let tx = self.store.begin()?;
        let before = tx.last_seq()?;
        let mut placer = Placer::new(&self.rules);
        record_session(&tx, caller, &self.device, &mut placer)?;
        let sighting = Sighting {
            content,
            active_form: active_form.or(known_form),
            status,
            observer: observer_of(&caller.session, None),
            session: Some(caller.session.clone()),
            source: Source::Mcp,
            observed_at: caller.now,
        };
        let observation: Observation = sighting.into_observation(&project, &self.device);
        tx.mark_planned([caller.session.as_str()])?;
        let change = tx.ingest(&[observation], chittysync_store::Via::Local)?;
        let warned = Warned::of_write(&tx, caller, before)?;
        tx.commit()?;
        self.refresh_outputs()?;
        let stored = self
            .store
            .todos_by_ids(std::slice::from_ref(&todo_id))?
            .into_iter()
            .next()
            .ok_or_else(|| UpdateError::UnknownId(todo_id.clone()))?;
        Ok(TodoUpdated {
            todo: stored.entry()?,
            added,
            observations: change.new_observations as u64,
            conflict: stored.conflict()?,
            warned,
        })
    }

    /// The todo an id or id prefix names.
    fn todo_by_id(&self, prefix: &str) -> Result<TodoEntry, UpdateError> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 {
            return Err(UpdateError::ShortId(prefix));
        }
        let mut found: Vec<TodoEntry> = Vec::new();
        for t in self.store.todos_with_id_prefix(&prefix)? {
            found.push(t.entry()?);
        }
        match found.len() {
            0 => Err(UpdateError::UnknownId(prefix)),
            1 => Ok(found.remove(0)),
            count => Err(UpdateError::AmbiguousId { prefix, count }),
        }
    }
}

/// Records the caller's session: seen now, on this device, in its folder.
fn record_session(
    tx: &Tx<'_>,
    caller: &McpCaller,
    device: &str,
    placer: &mut Placer<'_>,
) -> Result<(), StoreError> {
    tx.update_session(&SessionUpdate {
        id: caller.session.clone(),
        device: device.to_string(),
        cwd: caller.cwd.clone(),
        project: caller.cwd.as_deref().map(|cwd| placer.project_of_cwd(cwd)),
        seen_from: Some(caller.now),
        seen_to: Some(caller.now),
        ..SessionUpdate::default()
    })
}

/// The caller's session's project as stored (its first folder decides,
/// docs/DESIGN.md, "Projects"), else its folder's, else `general`.
fn session_project(
    tx: &Tx<'_>,
    caller: &McpCaller,
    rules: &chittysync_core::ProjectRules,
) -> Result<String, StoreError> {
    if let Some(project) = tx.session(&caller.session)?.and_then(|s| s.project) {
        return Ok(project);
    }
    Ok(match caller.cwd.as_deref() {
        Some(cwd) => Placer::new(rules).project_of_cwd(cwd),
        None => rules.for_content(""),
    })
}
