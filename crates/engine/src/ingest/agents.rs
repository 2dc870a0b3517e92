//! Other agents' readings (docs/SOURCES.md) into sessions and sightings.
//!
//! Each agent's session is namespaced by the agent (`codex:<id>`), and so is
//! its observer: its todos fold with everyone's, and the agent of any todo is
//! known from its observers' names (`chittysync_core::agent`).

use super::{observer_of, Ingest};
use crate::read::ReadFile;
use chittysync_core::agent::namespaced;
use chittysync_core::{Source, Timestamp};
use chittysync_sources::agents::{gemini, opencode, Agent, PlanWrite, SessionRead};
use chittysync_sources::{AgentFile, Reading};
use chittysync_store::{SessionUpdate, StoreError};
use std::path::{Path, PathBuf};

/// The most read of Gemini's `projects.json` (a map of folders to names).
const PROJECTS_FILE_BYTES: u64 = 4 << 20;

impl Ingest<'_, '_, '_> {
    /// Takes in another agent's reading; false when the reading is not of
    /// the kind the file is (the caller reports that).
    pub(super) fn take_agent(
        &mut self,
        file: &ReadFile,
        kind: &AgentFile,
        reading: &Reading,
    ) -> Result<bool, StoreError> {
        match (kind, reading) {
            (_, Reading::Session(read)) => {
                self.report.warnings.extend(read.warnings.iter().cloned());
                self.take_session_read(file, kind, read)?;
                let mut record = Self::plain_record(file);
                if kind.is_appended() {
                    record.read_offset = read.end.offset;
                    record.read_line = read.end.line;
                    record.head = read.end.head.as_ref().map(|h| (h.len, h.hash));
                }
                self.record(file, record)?;
            }
            (
                AgentFile::OpenCodeDb,
                Reading::Database {
                    read: db,
                    stat_after,
                },
            ) => {
                self.report.warnings.extend(db.warnings.iter().cloned());
                for session in &db.sessions {
                    self.take_database_session(file, session)?;
                }
                let mut record = Self::plain_record(file);
                if let Some((size, mtime_ms)) = *stat_after {
                    record.size = size;
                    record.mtime_ms = mtime_ms;
                }
                record.cursor = serde_json::to_string(&db.cursor).ok();
                self.record(file, record)?;
            }
            (AgentFile::OpenCodeSession { session }, Reading::SessionInfo(info)) => {
                let id = info.id.as_deref().unwrap_or(session);
                let cwd = info.directory.clone();
                self.session_facts(&SessionUpdate {
                    id: namespaced(Agent::OpenCode.as_str(), id),
                    device: self.device.to_string(),
                    first_cwd: cwd.is_some(),
                    cwd,
                    version: info.version.clone(),
                    seen_from: info.created,
                    seen_to: info.updated,
                    ..SessionUpdate::default()
                })?;
                self.record(file, Self::plain_record(file))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A session's record: its facts, then every plan it wrote.
    fn take_session_read(
        &mut self,
        file: &ReadFile,
        kind: &AgentFile,
        read: &SessionRead,
    ) -> Result<(), StoreError> {
        let agent = kind.agent();
        let named = match kind {
            AgentFile::QwenTodo { session }
            | AgentFile::QwenChat { session }
            | AgentFile::OpenCodeTodo { session } => Some(session.clone()),
            AgentFile::CodexRollout { .. } => {
                chittysync_sources::agents::codex::session_of_file(&file.file.path)
            }
            _ => None,
        };
        let Some(own) = read.session.clone().or(named) else {
            if !read.plans.is_empty() {
                self.warn(
                    file,
                    format!(
                        "no session id in the file; its {} plan(s) are skipped",
                        read.plans.len()
                    ),
                );
            }
            return Ok(());
        };
        // A Gemini sub-agent's chat (`chats/<parent>/…`) is an agent of its
        // parent session, as Claude Code's sub-agents are.
        let (session, sub_agent) = match kind {
            AgentFile::GeminiChat {
                parent_session: Some(parent),
                ..
            } => (parent.clone(), Some(own)),
            _ => (own, None),
        };
        let session = namespaced(agent.as_str(), &session);
        let cwd = match (&read.cwd, kind) {
            (Some(cwd), _) => Some(cwd.clone()),
            (None, AgentFile::GeminiChat { project_id, .. }) => {
                self.gemini_folder(&file.file.path, project_id)
            }
            (None, _) => None,
        };
        let at = Timestamp(file.file.mtime_ms);
        self.session_facts(&SessionUpdate {
            id: session.clone(),
            device: self.device.to_string(),
            // A rollout names its folder on its first line, which every read
            // of it takes again: that is the session's first folder.
            first_cwd: cwd.is_some() && matches!(kind, AgentFile::CodexRollout { .. }),
            cwd,
            version: read.version.clone(),
            model: read.model.clone(),
            agent: sub_agent.clone(),
            seen_from: read.first_at.or(Some(at)),
            seen_to: read.last_at.or(Some(at)),
            ..SessionUpdate::default()
        })?;
        let source = if kind.is_appended() || matches!(kind, AgentFile::CodexRollout { .. }) {
            Source::Transcript
        } else {
            Source::File
        };
        for plan in &read.plans {
            self.take_plan(file, &session, sub_agent.as_deref(), source, plan);
        }
        Ok(())
    }

    /// One session of OpenCode's database whose list changed.
    fn take_database_session(
        &mut self,
        file: &ReadFile,
        db: &opencode::DbSession,
    ) -> Result<(), StoreError> {
        let Some(own) = db.plan.session.as_deref() else {
            return Ok(());
        };
        let session = namespaced(Agent::OpenCode.as_str(), own);
        self.session_facts(&SessionUpdate {
            id: session.clone(),
            device: self.device.to_string(),
            first_cwd: db.cwd.is_some(),
            cwd: db.cwd.clone(),
            version: db.version.clone(),
            seen_from: Some(db.plan.at),
            seen_to: Some(db.plan.at),
            ..SessionUpdate::default()
        })?;
        self.take_plan(file, &session, None, Source::File, &db.plan);
        Ok(())
    }

    /// A whole list at one moment: one sighting per item, as a `TodoWrite`.
    fn take_plan(
        &mut self,
        file: &ReadFile,
        session: &str,
        sub_agent: Option<&str>,
        source: Source,
        plan: &PlanWrite,
    ) {
        self.count_entries(
            file,
            plan.todos.skipped_entries,
            plan.todos.unknown_statuses,
            plan.line,
        );
        debug_assert_eq!(observer_of(session, None), session);
        self.sightings
            .push_list(&plan.todos.items, session, sub_agent, source, plan.at);
    }

    /// The folder of a Gemini project id, from `projects.json` beside the
    /// chats' `tmp/` (read once a run). Older installs name projects by a
    /// SHA-256 of their folder, which cannot be turned back into a folder:
    /// those sessions take the keyword rules, then `general`.
    fn gemini_folder(&mut self, chat: &Path, project_id: &str) -> Option<String> {
        // <gemini home>/tmp/<project-id>/chats/[<parent>/]<file>
        let home: PathBuf = chat
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "tmp"))?
            .parent()?
            .to_path_buf();
        let warnings = &mut self.report.warnings;
        let map = self
            .placer
            .gemini_projects
            .entry(home.clone())
            .or_insert_with(|| {
                let (map, found) = gemini::read_projects(&home, PROJECTS_FILE_BYTES);
                warnings.extend(found);
                map
            });
        if let Some(folder) = map.folder(project_id) {
            return Some(folder.to_string());
        }
        // An older install's id: the SHA-256 of a folder that another
        // session may have named (read last in a run for this reason).
        let known = match &self.placer.known_cwds {
            Some(known) => known,
            None => {
                let known = self.tx.session_cwds().ok()?;
                self.placer.known_cwds.insert(known)
            }
        };
        gemini::match_project_hash(project_id, known.iter().map(String::as_str)).map(str::to_string)
    }
}
