//! Tasks' names and TaskCreate calls awaiting their task id.
//!
//! A `TaskUpdate` names a task by number only; its content (the subject) comes
//! from the task's file or the `TaskCreate` that made it, remembered here.

use crate::{Result, Tx};
use chittysync_core::{Status, Timestamp};
use rusqlite::{params, OptionalExtension};

/// A task's current subject, active form and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskName {
    pub subject: String,
    pub active_form: Option<String>,
    pub status: Status,
}

/// A `TaskCreate` seen in a transcript whose task id has not been read yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCreate {
    pub tool_use_id: String,
    pub session: String,
    pub agent: Option<String>,
    pub subject: String,
    pub active_form: Option<String>,
    pub at: Timestamp,
}

impl Tx<'_> {
    pub fn task_name(&self, list: &str, task_id: &str) -> Result<Option<TaskName>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT subject, active_form, status FROM tasks WHERE list = ?1 AND task_id = ?2",
            )?
            .query_row([list, task_id], |r| {
                let status: String = r.get(2)?;
                Ok(TaskName {
                    subject: r.get(0)?,
                    active_form: r.get(1)?,
                    status: Status::parse(&status).unwrap_or(Status::Pending),
                })
            })
            .optional()?)
    }

    /// Every list that has a task with this number, with the task's name.
    pub fn lists_with_task(&self, task_id: &str) -> Result<Vec<(String, TaskName)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT list, subject, active_form, status FROM tasks WHERE task_id = ?1 ORDER BY list",
        )?;
        let rows = stmt.query_map([task_id], |r| {
            let status: String = r.get(3)?;
            Ok((
                r.get(0)?,
                TaskName {
                    subject: r.get(1)?,
                    active_form: r.get(2)?,
                    status: Status::parse(&status).unwrap_or(Status::Pending),
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn set_task_name(&self, list: &str, task_id: &str, name: &TaskName) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO tasks (list, task_id, subject, active_form, status) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (list, task_id) DO UPDATE SET subject = excluded.subject,
                   active_form = excluded.active_form, status = excluded.status",
            )?
            .execute(params![list, task_id, name.subject, name.active_form, name.status.as_str()])?;
        Ok(())
    }

    pub fn add_pending_create(&self, p: &PendingCreate) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO pending_task_creates (tool_use_id, session, agent, subject, active_form, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tool_use_id) DO NOTHING",
            )?
            .execute(params![
                p.tool_use_id,
                p.session,
                p.agent,
                p.subject,
                p.active_form,
                p.at.millis()
            ])?;
        Ok(())
    }

    /// Removes and returns the pending create for this tool use, if any.
    pub fn take_pending_create(&self, tool_use_id: &str) -> Result<Option<PendingCreate>> {
        let found = self
            .conn()
            .prepare_cached(
                "SELECT tool_use_id, session, agent, subject, active_form, at FROM pending_task_creates WHERE tool_use_id = ?1",
            )?
            .query_row([tool_use_id], |r| {
                Ok(PendingCreate {
                    tool_use_id: r.get(0)?,
                    session: r.get(1)?,
                    agent: r.get(2)?,
                    subject: r.get(3)?,
                    active_form: r.get(4)?,
                    at: Timestamp(r.get(5)?),
                })
            })
            .optional()?;
        if found.is_some() {
            self.conn()
                .prepare_cached("DELETE FROM pending_task_creates WHERE tool_use_id = ?1")?
                .execute([tool_use_id])?;
        }
        Ok(found)
    }
}
