//! Turning what was read into sessions and observations, in one transaction.
//!
//! Session facts go first (a transcript tells the session's cwd, hence its
//! project), then every sighting is placed in its project and stored. Task
//! calls are tied to their task through the store: a `TaskCreate` waits for the
//! tool result that names its task id, and a status-only `TaskUpdate` takes the
//! subject the task was last known by.

use crate::read::ReadFile;
use crate::summary::Report;
use chittysync_core::{Observation, Sighting, Source, Status, Timestamp};
use chittysync_sources::{
    AgentFile, RawTodo, Reading, SourceKind, TranscriptChunk, TranscriptEvent, Warning,
};
use chittysync_store::{
    BulkLoad, FileRecord, PendingCreate, SessionUpdate, StoreError, TaskName, Tx, Via,
};
use std::collections::{BTreeSet, HashMap, HashSet};

mod agents;
mod placer;
mod tasks;

use placer::list_of_observer;
pub(crate) use placer::{session_of_list, Placement, Placer};
pub(crate) use tasks::TaskCall;

/// The observer id of a session's agent: the session itself for its main agent.
pub fn observer_of(session: &str, agent: Option<&str>) -> String {
    match agent {
        Some(agent) if agent != session => format!("{session}/{agent}"),
        _ => session.to_string(),
    }
}

/// The observer id of a task.
pub fn task_observer(list: &str, task_id: &str) -> String {
    format!("task:{list}/{task_id}")
}

/// Told, after each step of reading a run's changed files, how many of them
/// are taken in and how many there are (see [`crate::Engine::on_progress`]).
pub type Progress = dyn Fn(u64, u64) + Send;

/// Files read in parallel and taken in per step of a run (see
/// [`Ingest::read_and_run`]): enough to keep every core busy, few enough
/// that their parsed contents stay small.
const FILES_PER_STEP: usize = 2048;

/// Above this many sightings, one scan of the sessions beats a lookup each.
const PRELOAD_THRESHOLD: usize = 2_000;

/// Collects a run's sightings with where each belongs.
#[derive(Default)]
pub(crate) struct Sightings {
    pub items: Vec<(Sighting, Placement)>,
    /// In a cold run: the bulk load its observations go to, step by step.
    pub bulk: Option<Settling>,
}

/// A cold run's store, and what it still has to read that could move a
/// session's project: each step's sightings whose project is settled are
/// placed and stored at the end of the step, the rest wait (see
/// [`Ingest::store_settled`]).
pub(crate) struct Settling {
    load: BulkLoad,
    /// Claude Code sessions whose main transcript is still to be read from
    /// its start: that read decides the session's folder (docs/DESIGN.md, "Projects").
    pending_mains: HashSet<String>,
    /// Other agents' files still to be read: each may tell its sessions'
    /// folders (their ids are namespaced, `agent:id`).
    pending_agent_files: usize,
    /// How many of [`Sightings::items`] were found waiting at the end of an
    /// earlier step (they come first).
    held: usize,
}

impl Sightings {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_list(
        &mut self,
        todos: &[RawTodo],
        session: &str,
        agent: Option<&str>,
        source: Source,
        at: Timestamp,
    ) {
        let observer = observer_of(session, agent);
        for todo in todos {
            self.items.push((
                Sighting {
                    content: todo.content.clone(),
                    active_form: todo.active_form.clone(),
                    status: todo.status,
                    observer: observer.clone(),
                    session: Some(session.to_string()),
                    source,
                    observed_at: at,
                },
                Placement::Session(session.to_string()),
            ));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_task(
        &mut self,
        list: &str,
        task_id: &str,
        name: &TaskName,
        status: Status,
        session: Option<&str>,
        source: Source,
        at: Timestamp,
    ) {
        self.items.push((
            Sighting {
                content: name.subject.clone(),
                active_form: name.active_form.clone(),
                status,
                observer: task_observer(list, task_id),
                session: session.map(str::to_string),
                source,
                observed_at: at,
            },
            Placement::TaskList(list.to_string()),
        ));
    }
}

/// One ingest — a consolidation's files, or a hook's payload — into the store.
pub(crate) struct Ingest<'t, 'c, 'r> {
    pub tx: &'t Tx<'c>,
    pub device: &'t str,
    pub placer: Placer<'r>,
    pub sightings: Sightings,
    pub report: &'t mut Report,
    /// What this run learnt that moves todos placed before: sessions whose
    /// project changed, shared lists that gained a session.
    pub moved: Moved,
}

/// Sessions and task lists whose project changed during a run: the todos
/// they were placed with earlier are placed again (see [`Ingest::replace`]).
#[derive(Default)]
pub(crate) struct Moved {
    sessions: BTreeSet<String>,
    lists: BTreeSet<String>,
    /// Sessions this run recorded first (from their task lists): nothing of
    /// theirs was placed before the run, so learning their folder moves nothing.
    new_sessions: HashSet<String>,
}

impl Ingest<'_, '_, '_> {
    /// Whether a run over this many changed files is a bulk load when the
    /// store is empty (a cold run: more files than one step).
    pub(crate) fn may_bulk_load(changed: usize) -> bool {
        changed > FILES_PER_STEP
    }

    /// Reads the changed files a step at a time and takes each in, then
    /// stores the observations; returns how many were new. At most two
    /// steps of [`FILES_PER_STEP`] files' parsed contents are held at once
    /// (one taken in, the next read): a cold run over tens of thousands of
    /// files never holds them all beside what they became
    /// (docs/ARCHITECTURE.md, "How a cold run is stored").
    /// `progress` is told how many of the files are taken in after each step.
    pub(crate) fn read_and_run(
        mut self,
        sources: &chittysync_sources::Sources,
        mut changed: Vec<(chittysync_sources::SourceFile, chittysync_sources::ReadFrom)>,
        max_file_bytes: u64,
        progress: Option<&Progress>,
    ) -> Result<u64, StoreError> {
        // Task files first: a transcript's task calls are matched against the
        // lists they name (see `list_for_task`). Projects are placed at the end,
        // once every session's cwd is known, so the rest may come in any order.
        // Gemini chats come last: an older install names their folder only
        // by its hash, matched against the folders the others named.
        changed.sort_by_key(|(file, _)| match &file.kind {
            SourceKind::TaskFile { .. } => 0,
            SourceKind::Transcript { .. } => 1,
            SourceKind::TodoFile { .. } => 2,
            SourceKind::Agent(AgentFile::GeminiChat { .. }) => 4,
            SourceKind::Agent(_) => 3,
        });
        let total = changed.len() as u64;
        // A cold run over many files stores as it reads, so that what it
        // holds stays bounded (docs/ARCHITECTURE.md, "How a cold run is
        // stored").
        if Self::may_bulk_load(changed.len()) {
            if let Some(load) = self.tx.begin_bulk_load()? {
                self.sightings.bulk = Some(Settling {
                    load,
                    pending_mains: changed
                        .iter()
                        .filter_map(|(file, from)| match &file.kind {
                            SourceKind::Transcript {
                                session,
                                agent: None,
                                ..
                            } if from.position.offset == 0 => Some(session.clone()),
                            _ => None,
                        })
                        .collect(),
                    pending_agent_files: changed
                        .iter()
                        .filter(|(file, _)| matches!(file.kind, SourceKind::Agent(_)))
                        .count(),
                    held: 0,
                });
            }
        }
        if changed.len() <= FILES_PER_STEP {
            let files = crate::read::read_all(sources, changed, max_file_bytes);
            self.take_step(&files, &mut 0, total, progress)?;
            return self.finish();
        }
        // Several steps: the next is read on a thread of its own, one file
        // after another, while this one is taken in (the run's thread keeps
        // the other core); two steps' parsed contents are held at most.
        let mut changed = changed.into_iter();
        let mut done = 0;
        chittysync_store::make_beside(
            || {
                let step: Vec<_> = changed.by_ref().take(FILES_PER_STEP).collect();
                (!step.is_empty())
                    .then(|| Ok(crate::read::read_each(sources, step, max_file_bytes)))
            },
            || Ok(()),
            |files| self.take_step(files, &mut done, total, progress),
        )?;
        self.finish()
    }

    /// Takes in a step's files and stores what settled (the caller frees
    /// the step's parsed contents after); counts them in `done` and tells
    /// `progress`.
    fn take_step(
        &mut self,
        files: &[ReadFile],
        done: &mut u64,
        total: u64,
        progress: Option<&Progress>,
    ) -> Result<(), StoreError> {
        // Whether this step read a file that can tell a session's folder
        // (todo and task files never do).
        let mut told_folders = false;
        let count = files.len() as u64;
        for file in files {
            self.take_file(file)?;
            told_folders |= matches!(
                file.file.kind,
                SourceKind::Transcript { .. } | SourceKind::Agent(_)
            );
            if let Some(settling) = &mut self.sightings.bulk {
                match &file.file.kind {
                    SourceKind::Transcript {
                        session,
                        agent: None,
                        ..
                    } => {
                        settling.pending_mains.remove(session);
                    }
                    SourceKind::Agent(_) => settling.pending_agent_files -= 1,
                    _ => {}
                }
            }
        }
        self.store_settled(told_folders)?;
        *done += count;
        if let Some(progress) = progress {
            progress(*done, total);
        }
        Ok(())
    }

    /// In a cold run, places and stores the sightings whose project nothing
    /// still to be read can move; the others wait for the end of the run.
    /// A session's project is settled once its main transcript has been
    /// read from its start (that read records its first folder, which later
    /// reads do not replace) and its folder is known; another agent's, once
    /// none of the agents' files is left; a shared task list's only at the
    /// end (a transcript may tie a session to it). So every sighting is
    /// placed as if all were placed at the end, and the run stores what it
    /// would have stored in one batch.
    ///
    /// The sightings held from earlier steps are looked at again only after
    /// a step that `told_folders` (read transcripts or other agents' files):
    /// after one of todo and task files alone none of them can have settled,
    /// and a cold run of todo files only would otherwise look up every
    /// waiting session again at every step. Held ones stay first, in the
    /// order they came, as if all were looked at.
    fn store_settled(&mut self, told_folders: bool) -> Result<(), StoreError> {
        let Some(settling) = &self.sightings.bulk else {
            return Ok(());
        };
        let from = if told_folders { 0 } else { settling.held };
        let examined = self.sightings.items.split_off(from);
        let mut settled: HashMap<String, bool> = HashMap::new();
        let mut ready = Vec::new();
        for (sighting, placement) in examined {
            let session = match &placement {
                Placement::Session(session) => Some(session.as_str()),
                Placement::TaskList(list) => session_of_list(list),
            };
            let is_settled = match session {
                None => false,
                Some(session) => match settled.get(session) {
                    Some(known) => *known,
                    None => {
                        let known = if session.contains(':') {
                            settling.pending_agent_files == 0
                        } else {
                            !settling.pending_mains.contains(session)
                                && self.tx.session(session)?.is_some_and(|s| s.cwd.is_some())
                        };
                        settled.insert(session.to_string(), known);
                        known
                    }
                },
            };
            if is_settled {
                ready.push((sighting, placement));
            } else {
                self.sightings.items.push((sighting, placement));
            }
        }
        if let Some(settling) = &mut self.sightings.bulk {
            settling.held = self.sightings.items.len();
        }
        let observations = self.place(ready)?;
        self.store(&observations)?;
        Ok(())
    }

    /// Places sightings in their projects, as observations of this device,
    /// marking their sessions as having planned.
    fn place(
        &mut self,
        sightings: Vec<(Sighting, Placement)>,
    ) -> Result<Vec<Observation>, StoreError> {
        let planned: BTreeSet<&str> = sightings
            .iter()
            .filter_map(|(s, _)| s.session.as_deref())
            .collect();
        self.tx.mark_planned(planned)?;
        let mut observations = Vec::with_capacity(sightings.len());
        for (sighting, placement) in sightings {
            let project = self.placer.place(self.tx, &placement, &sighting.content)?;
            observations.push(sighting.into_observation(&project, self.device));
        }
        Ok(observations)
    }

    /// Places every sighting collected and stores the observations; returns
    /// how many were new. The last step of a consolidation and of a hook.
    pub(crate) fn finish(mut self) -> Result<u64, StoreError> {
        if self.sightings.items.len() > PRELOAD_THRESHOLD {
            self.placer.preload(self.tx)?;
        }
        let mut observations = self.replace()?;
        let sightings = std::mem::take(&mut self.sightings.items);
        observations.extend(self.place(sightings)?);
        let change = match self.sightings.bulk.take() {
            Some(settling) => self
                .tx
                .finish_bulk_load(settling.load, &observations, Via::Local)?,
            None => self.tx.ingest(&observations, Via::Local)?,
        };
        Ok(change.new_observations as u64)
    }

    /// Places again what was placed before this run learnt a session's folder
    /// (its transcript came after its todo or task files) or a shared list's
    /// sessions, so the picture does not depend on whether the facts came in
    /// one run or several (docs/DESIGN.md, "Projects learnt late").
    ///
    /// Observations are facts and stay as they are. Each one placed in
    /// another project than its observer's now is observed again in the right
    /// project — the same observation a single run would have made, with the
    /// same id — and the observer's word in the old project is withdrawn by a
    /// `deleted` observation a millisecond after its last one there, as a
    /// renamed task withdraws its old subject.
    fn replace(&mut self) -> Result<Vec<Observation>, StoreError> {
        let moved = std::mem::take(&mut self.moved);
        if moved.sessions.is_empty() && moved.lists.is_empty() {
            return Ok(Vec::new());
        }
        let sessions: Vec<String> = moved.sessions.into_iter().collect();
        let lists: Vec<String> = moved.lists.into_iter().collect();
        let mut out = Vec::new();
        // Per (old todo, observer): the observer's last word there.
        let mut withdrawn: std::collections::BTreeMap<(String, String), Observation> =
            Default::default();
        for old in self.tx.local_observations_of(&sessions, &lists)? {
            let placement = match (list_of_observer(&old.observer), &old.session) {
                (Some(list), _) => Placement::TaskList(list.to_string()),
                (None, Some(session)) => Placement::Session(session.clone()),
                (None, None) => continue,
            };
            let project = self.placer.place(self.tx, &placement, &old.content)?;
            if project == old.project {
                continue;
            }
            out.push(Observation::new(
                &project,
                old.content.clone(),
                old.active_form.clone(),
                old.status,
                old.observer.clone(),
                old.session.clone(),
                &old.device,
                old.source,
                old.observed_at,
            ));
            let key = (old.todo_id.clone(), old.observer.clone());
            match withdrawn.get(&key) {
                Some(last) if last.observed_at >= old.observed_at => {}
                _ => {
                    withdrawn.insert(key, old);
                }
            }
        }
        for (_, last) in withdrawn {
            out.push(Observation::new(
                &last.project,
                last.content,
                last.active_form,
                Status::Deleted,
                last.observer,
                last.session,
                &last.device,
                last.source,
                Timestamp(last.observed_at.millis() + 1),
            ));
        }
        Ok(out)
    }

    /// Stores observations: into the cold run's bulk load, or folded in
    /// at once; returns how many were new.
    fn store(&mut self, observations: &[Observation]) -> Result<usize, StoreError> {
        match &mut self.sightings.bulk {
            Some(settling) => self
                .tx
                .bulk_add(&mut settling.load, observations, Via::Local),
            None => Ok(self.tx.ingest(observations, Via::Local)?.new_observations),
        }
    }

    fn record(&mut self, file: &ReadFile, record: FileRecord) -> Result<(), StoreError> {
        self.tx.record_file(&file.file.path, &record)
    }

    fn plain_record(file: &ReadFile) -> FileRecord {
        FileRecord {
            size: file.file.size,
            mtime_ms: file.file.mtime_ms,
            ..FileRecord::default()
        }
    }

    fn warn(&mut self, file: &ReadFile, message: String) {
        self.report
            .warnings
            .push(Warning::new(&file.file.path, message));
    }

    fn count_entries(
        &mut self,
        file: &ReadFile,
        skipped: usize,
        unknown: usize,
        line: Option<u64>,
    ) {
        self.report.skipped_entries += skipped as u64;
        self.report.unknown_statuses += unknown as u64;
        let mut say = |message: String| {
            self.report.warnings.push(Warning {
                path: file.file.path.clone(),
                line,
                message,
            })
        };
        if skipped > 0 {
            say(format!(
                "{skipped} entr{} without a non-empty string `content` skipped",
                if skipped == 1 { "y" } else { "ies" }
            ));
        }
        if unknown > 0 {
            say(format!(
                "{unknown} unknown status{} read as `pending`",
                if unknown == 1 { "" } else { "es" }
            ));
        }
    }

    fn take_file(&mut self, file: &ReadFile) -> Result<(), StoreError> {
        let at = Timestamp(file.file.mtime_ms);
        match (&file.file.kind, &file.content) {
            (_, Reading::WriteUnderWay) => {
                self.report.summary.files_skipped += 1;
                self.warn(
                    file,
                    "empty file (a write may be under way); it will be read again".into(),
                );
                self.tx.forget_file(&file.file.path)?;
            }
            (_, Reading::Unusable(message)) => {
                self.report.summary.files_skipped += 1;
                self.warn(file, message.clone());
                let mut record = Self::plain_record(file);
                record.error = Some(message.clone());
                self.record(file, record)?;
            }
            (SourceKind::TodoFile { session, agent }, Reading::Todos(list)) => {
                self.count_entries(file, list.skipped_entries, list.unknown_statuses, None);
                self.tx.update_session(&SessionUpdate {
                    id: session.clone(),
                    device: self.device.to_string(),
                    agent: agent.clone(),
                    seen_from: Some(at),
                    seen_to: Some(at),
                    ..SessionUpdate::default()
                })?;
                self.sightings
                    .push_list(&list.items, session, agent.as_deref(), Source::File, at);
                self.record(file, Self::plain_record(file))?;
            }
            (SourceKind::TaskFile { list, task_id }, Reading::Task(task)) => {
                if task.unknown_status {
                    self.count_entries(file, 0, 1, None);
                }
                let name = TaskName {
                    subject: task.subject.clone(),
                    active_form: task.active_form.clone(),
                    status: task.status,
                };
                let session = session_of_list(list);
                if let Some(session) = session {
                    if self.tx.session(session)?.is_none() {
                        self.moved.new_sessions.insert(session.to_string());
                    }
                    self.tx.update_session(&SessionUpdate {
                        id: session.to_string(),
                        device: self.device.to_string(),
                        seen_from: Some(at),
                        seen_to: Some(at),
                        ..SessionUpdate::default()
                    })?;
                }
                self.rename_task(list, task_id, &name, session, Source::File, at)?;
                self.sightings.push_task(
                    list,
                    task_id,
                    &name,
                    task.status,
                    session,
                    Source::File,
                    at,
                );
                self.record(file, Self::plain_record(file))?;
            }
            (SourceKind::Transcript { session, agent, .. }, Reading::Transcript(chunk)) => {
                self.take_transcript(file, session, agent.as_deref(), chunk)?;
                let mut record = Self::plain_record(file);
                record.read_offset = chunk.end.offset;
                record.read_line = chunk.end.line;
                record.head = chunk.end.head.as_ref().map(|h| (h.len, h.hash));
                self.record(file, record)?;
            }
            (SourceKind::Agent(kind), reading) if self.take_agent(file, kind, reading)? => {}
            (kind, _) => {
                // A reader returned content of another kind than the file: a bug,
                // reported rather than hidden.
                self.warn(file, format!("unexpected content for a {kind:?}"));
            }
        }
        Ok(())
    }

    /// Records what a source says of a session (its project decided from its
    /// folder when not given); when that changes the
    /// project of a session known before, what was placed with its old
    /// project is placed again at the end of the run.
    fn session_facts(&mut self, update: &SessionUpdate) -> Result<(), StoreError> {
        let mut update = update.clone();
        if update.project.is_none() {
            update.project = update.cwd.as_deref().map(|c| self.placer.project_of_cwd(c));
        }
        let update = &update;
        let session = &update.id;
        let before = match update.cwd {
            Some(_) if !self.moved.new_sessions.contains(session) => {
                self.tx.session(session)?.map(|s| s.project)
            }
            _ => None,
        };
        self.tx.update_session(update)?;
        self.placer.forget_session(session);
        if let Some(before) = before {
            let after = self.tx.session(session)?.and_then(|s| s.project);
            if after != before {
                self.moved.sessions.insert(session.clone());
            }
        }
        Ok(())
    }

    fn take_transcript(
        &mut self,
        file: &ReadFile,
        file_session: &str,
        agent: Option<&str>,
        chunk: &TranscriptChunk,
    ) -> Result<(), StoreError> {
        self.report.warnings.extend(chunk.warnings.iter().cloned());
        // Old sub-agent files (`agent-<id>.jsonl` beside the session) do not
        // name their session; their lines do.
        let session = match (
            &chunk.session.session_id,
            file_session.starts_with("agent-"),
        ) {
            (Some(id), true) => id.clone(),
            _ => file_session.to_string(),
        };
        let facts = &chunk.session;
        let project = facts
            .cwd
            .as_deref()
            .map(|cwd| self.placer.project_of_cwd(cwd));
        if facts.first_at.is_some() || facts.cwd.is_some() || agent.is_some() {
            self.session_facts(&SessionUpdate {
                id: session.clone(),
                device: self.device.to_string(),
                cwd: facts.cwd.clone(),
                // A main transcript read from its start records the folder
                // the session was started in (docs/DESIGN.md, "Projects"); a sub-agent's file
                // or a later chunk only fills in what is not known.
                first_cwd: agent.is_none() && chunk.end.offset == chunk.bytes_read,
                project,
                git_branch: facts.git_branch.clone(),
                version: facts.version.clone(),
                model: facts.model.clone(),
                agent: agent.map(str::to_string),
                seen_from: facts.first_at,
                seen_to: facts.last_at,
                ..SessionUpdate::default()
            })?;
        }
        let list = self
            .tx
            .session(&session)?
            .and_then(|s| s.task_list)
            .unwrap_or_else(|| session.clone());
        for event in &chunk.events {
            self.take_event(file, &session, agent, &list, event)?;
        }
        Ok(())
    }

    fn take_event(
        &mut self,
        file: &ReadFile,
        session: &str,
        file_agent: Option<&str>,
        list: &str,
        event: &TranscriptEvent,
    ) -> Result<(), StoreError> {
        match event {
            TranscriptEvent::TodoWrite {
                line,
                at,
                agent,
                todos,
                skipped_entries,
                unknown_statuses,
            } => {
                self.count_entries(file, *skipped_entries, *unknown_statuses, Some(*line));
                let agent = agent.as_deref().or(file_agent);
                self.sightings
                    .push_list(todos, session, agent, Source::Transcript, *at);
            }
            TranscriptEvent::TaskCreate {
                at,
                agent,
                tool_use_id,
                subject,
                active_form,
                ..
            } => {
                self.tx.add_pending_create(&PendingCreate {
                    tool_use_id: tool_use_id.clone(),
                    session: session.to_string(),
                    agent: agent.clone(),
                    subject: subject.clone(),
                    active_form: active_form.clone(),
                    at: *at,
                })?;
            }
            TranscriptEvent::TaskCreated {
                tool_use_id,
                task_id,
                ..
            } => {
                if let Some(created) = self.tx.take_pending_create(tool_use_id)? {
                    let list =
                        self.list_for_task(session, list, task_id, Some(&created.subject))?;
                    let call = TaskCall {
                        list: &list,
                        task_id,
                        session,
                        source: Source::Transcript,
                        at: created.at,
                    };
                    self.task_created(&call, created.subject, created.active_form)?;
                }
            }
            TranscriptEvent::TaskUpdate {
                line,
                at,
                task_id,
                status,
                subject,
                active_form,
                ..
            } => {
                let list = self.list_for_task(session, list, task_id, subject.as_deref())?;
                let call = TaskCall {
                    list: &list,
                    task_id,
                    session,
                    source: Source::Transcript,
                    at: *at,
                };
                if !self.task_updated(&call, *status, subject.clone(), active_form.clone())? {
                    self.report.warnings.push(Warning {
                        path: file.file.path.clone(),
                        line: Some(*line),
                        message: format!(
                            "TaskUpdate of task {task_id} in list {list}, whose subject is not known; skipped"
                        ),
                    });
                }
            }
            TranscriptEvent::TaskDelete { at, task_id, .. } => {
                if let Some(mut name) = self.tx.task_name(list, task_id)? {
                    name.status = Status::Deleted;
                    self.tx.set_task_name(list, task_id, &name)?;
                    self.sightings.push_task(
                        list,
                        task_id,
                        &name,
                        Status::Deleted,
                        Some(session),
                        Source::Transcript,
                        *at,
                    );
                }
            }
        }
        Ok(())
    }
}
