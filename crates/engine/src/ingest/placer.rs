//! Where each sighting goes: a session's project (from its folder), a task
//! list's (its session's, or for a shared list that of the sessions using
//! it), else the keyword rules, else `general` (docs/DESIGN.md, "Projects").

use crate::project_lookup::WorkTreeLookup;
use chittysync_core::ProjectRules;
use chittysync_store::{StoreError, Tx};
use std::collections::HashMap;

/// Where a sighting's project comes from.
#[derive(Debug, Clone)]
pub(crate) enum Placement {
    /// The session's project (from its cwd), else keyword rules, else `general`.
    Session(String),
    /// A task list: its session's project when the list is a session's own;
    /// for a shared list, the project of the sessions using it, else its name.
    TaskList(String),
}

/// Decides projects, remembering each session's for the rest of the run.
pub(crate) struct Placer<'r> {
    rules: &'r ProjectRules,
    lookup: WorkTreeLookup,
    /// Per id: `None` if no session has it, else its project (if known).
    session_projects: HashMap<String, Option<Option<String>>>,
    list_projects: HashMap<String, Option<String>>,
    /// Gemini's `projects.json` per Gemini folder, read once a run.
    pub(crate) gemini_projects:
        HashMap<std::path::PathBuf, chittysync_sources::agents::gemini::ProjectMap>,
    /// Every session's folder, for Gemini's hashed project ids; read once a run.
    pub(crate) known_cwds: Option<Vec<String>>,
}

impl<'r> Placer<'r> {
    pub(crate) fn new(rules: &'r ProjectRules) -> Self {
        Placer {
            rules,
            lookup: WorkTreeLookup::default(),
            session_projects: HashMap::new(),
            list_projects: HashMap::new(),
            gemini_projects: HashMap::new(),
            known_cwds: None,
        }
    }

    /// The project of a session whose cwd is known.
    pub(crate) fn project_of_cwd(&mut self, cwd: &str) -> String {
        let lookup = &mut self.lookup;
        self.rules.for_cwd(cwd, |c| lookup.lookup(c))
    }

    /// What is known of an id: `None` if no session has it, else the
    /// session's project (`None` while its cwd is unknown).
    fn lookup_session(
        &mut self,
        tx: &Tx<'_>,
        id: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        if let Some(known) = self.session_projects.get(id) {
            return Ok(known.clone());
        }
        let known = tx.session(id)?.map(|s| s.project);
        self.session_projects.insert(id.to_string(), known.clone());
        Ok(known)
    }

    fn session_project(
        &mut self,
        tx: &Tx<'_>,
        session: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.lookup_session(tx, session)?.flatten())
    }

    fn list_project(&mut self, tx: &Tx<'_>, list: &str) -> Result<Option<String>, StoreError> {
        if let Some(known) = self.list_projects.get(list) {
            return Ok(known.clone());
        }
        let project = tx
            .sessions_of_task_list(list)?
            .into_iter()
            .find_map(|s| s.project);
        self.list_projects.insert(list.to_string(), project.clone());
        Ok(project)
    }

    pub(crate) fn place(
        &mut self,
        tx: &Tx<'_>,
        placement: &Placement,
        content: &str,
    ) -> Result<String, StoreError> {
        match placement {
            Placement::Session(session) => Ok(match self.session_project(tx, session)? {
                Some(project) => project,
                None => self.rules.for_content(content),
            }),
            Placement::TaskList(list) => {
                // A list named like a session id is that session's list
                // (docs/SOURCES.md, "Claude Code"), whether or not its session's files are known.
                if let Some(session) = session_of_list(list) {
                    return self.place(tx, &Placement::Session(session.to_string()), content);
                }
                Ok(self.list_project(tx, list)?.unwrap_or_else(|| list.clone()))
            }
        }
    }

    /// Whether a task list's name is a known session's id (its own list).
    pub(crate) fn is_session(&mut self, tx: &Tx<'_>, id: &str) -> Result<bool, StoreError> {
        Ok(self.lookup_session(tx, id)?.is_some())
    }

    /// Learns every session's project at once, for runs that place many sightings.
    pub(crate) fn preload(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        self.session_projects.extend(
            tx.session_projects()?
                .into_iter()
                .map(|(id, project)| (id, Some(project))),
        );
        Ok(())
    }

    /// Forgets what is cached about a session after its facts changed.
    pub(crate) fn forget_session(&mut self, session: &str) {
        self.session_projects.remove(session);
        self.list_projects.clear();
    }
}

/// Whether a name has the shape of a Claude Code session id (a UUID): such a
/// task list is a session's own, even before that session's files are read.
pub(super) fn looks_like_session_id(name: &str) -> bool {
    name.len() == 36
        && name.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The session a task list belongs to by its name alone: a list named like a
/// session id is that session's (docs/SOURCES.md, "Claude Code"). Decided from the name, never from
/// what the store happens to know yet, so a task's observations are the same
/// whichever file a run reads first (docs/DESIGN.md, "Identity").
pub(crate) fn session_of_list(list: &str) -> Option<&str> {
    looks_like_session_id(list).then_some(list)
}

/// The task list an observer id names (`task:<list>/<id>`), if it is a task's.
pub(super) fn list_of_observer(observer: &str) -> Option<&str> {
    observer
        .strip_prefix("task:")?
        .rsplit_once('/')
        .map(|(list, _)| list)
}
