//! Task tool calls (`TaskCreate`, `TaskUpdate`) tied to their task through
//! the store: each call names the task's list, a renamed task withdraws its
//! old subject, and a session's call finds the shared list it works on
//! (docs/SOURCES.md, "Claude Code").

use super::placer::looks_like_session_id;
use super::Ingest;
use chittysync_core::{Source, Status, Timestamp};
use chittysync_store::{SessionUpdate, StoreError, TaskName};

/// A task tool call: which task, by which session, told how and when.
pub(crate) struct TaskCall<'a> {
    pub list: &'a str,
    pub task_id: &'a str,
    pub session: &'a str,
    pub source: Source,
    pub at: Timestamp,
}

impl Ingest<'_, '_, '_> {
    /// A task created with a known id: its first name, and a pending sighting.
    pub(crate) fn task_created(
        &mut self,
        call: &TaskCall<'_>,
        subject: String,
        active_form: Option<String>,
    ) -> Result<(), StoreError> {
        let name = TaskName {
            subject,
            active_form,
            status: Status::Pending,
        };
        self.task_called(call, &name)
    }

    /// Records what a task call says of its task: its (possibly new) name and
    /// a sighting in its status.
    fn task_called(&mut self, call: &TaskCall<'_>, name: &TaskName) -> Result<(), StoreError> {
        let session = Some(call.session);
        self.rename_task(call.list, call.task_id, name, session, call.source, call.at)?;
        self.sightings.push_task(
            call.list,
            call.task_id,
            name,
            name.status,
            session,
            call.source,
            call.at,
        );
        Ok(())
    }

    /// A task update: what it does not say (subject, active form, status) is
    /// what the task was last known by. Returns false, changing nothing, when
    /// the task's subject is not known at all (its content would be a guess).
    pub(crate) fn task_updated(
        &mut self,
        call: &TaskCall<'_>,
        status: Option<Status>,
        subject: Option<String>,
        active_form: Option<String>,
    ) -> Result<bool, StoreError> {
        let known = self.tx.task_name(call.list, call.task_id)?;
        let Some(subject) = subject.or_else(|| known.as_ref().map(|k| k.subject.clone())) else {
            return Ok(false);
        };
        let name = TaskName {
            subject,
            active_form: active_form.or_else(|| known.as_ref().and_then(|k| k.active_form.clone())),
            status: status
                .or_else(|| known.as_ref().map(|k| k.status))
                .unwrap_or(Status::Pending),
        };
        self.task_called(call, &name)?;
        Ok(true)
    }

    /// The list a session's task call belongs to. A session's calls go to its
    /// own list unless a hook reported a shared one. When its own list does not
    /// know the task, but exactly one shared list (a `tasks/<name>/` folder that
    /// is no session's) has a task with this number — and the same subject,
    /// when the call names one — the session works on that shared list: this
    /// is how a transcript tells of a shared list when no hook did. It is
    /// recorded for the session and used from then on.
    pub(super) fn list_for_task(
        &mut self,
        session: &str,
        list: &str,
        task_id: &str,
        subject: Option<&str>,
    ) -> Result<String, StoreError> {
        // An earlier call of this run may have tied the session to a list.
        let list = match self.tx.session(session)?.and_then(|s| s.task_list) {
            Some(known) => known,
            None => list.to_string(),
        };
        if list != session || self.tx.task_name(&list, task_id)?.is_some() {
            return Ok(list);
        }
        let mut shared = Vec::new();
        for (candidate, name) in self.tx.lists_with_task(task_id)? {
            let same_subject = subject.is_none_or(|s| {
                chittysync_core::normalize(s) == chittysync_core::normalize(&name.subject)
            });
            if candidate != session
                && same_subject
                && !looks_like_session_id(&candidate)
                && !self.placer.is_session(self.tx, &candidate)?
            {
                shared.push(candidate);
            }
        }
        let [found] = shared.as_slice() else {
            return Ok(list);
        };
        self.tx.update_session(&SessionUpdate {
            id: session.to_string(),
            device: self.device.to_string(),
            task_list: Some(found.clone()),
            ..SessionUpdate::default()
        })?;
        self.placer.forget_session(session);
        self.moved.lists.insert(found.clone());
        Ok(found.clone())
    }

    /// Records a task's (possibly new) name. When a task's subject changes, the
    /// task no longer claims its old content: that todo gets a `deleted` word
    /// from the task, so a renamed task leaves no phantom behind.
    pub(super) fn rename_task(
        &mut self,
        list: &str,
        task_id: &str,
        name: &TaskName,
        session: Option<&str>,
        source: Source,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        if let Some(old) = self.tx.task_name(list, task_id)? {
            if chittysync_core::normalize(&old.subject) != chittysync_core::normalize(&name.subject)
            {
                self.sightings
                    .push_task(list, task_id, &old, Status::Deleted, session, source, at);
            }
        }
        self.tx.set_task_name(list, task_id, name)
    }
}
