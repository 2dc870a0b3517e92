//! Sessions: what is known of each Claude Code session, from whichever source told.

use crate::{Result, Store, Tx};
use chittysync_core::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

/// New facts about a session. `None` leaves what is stored; times widen the
/// known span (first seen is the earliest, last seen the latest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionUpdate {
    pub id: String,
    pub device: String,
    /// The folder the session works in. A session keeps the first cwd it is
    /// known by (docs/DESIGN.md, "Projects": a later `cd` does not move it) unless
    /// [`SessionUpdate::first_cwd`] says this one is the first it recorded.
    pub cwd: Option<String>,
    /// `cwd` (and `project`) are the first the session recorded — read from
    /// the start of its transcript — and replace what was stored before.
    pub first_cwd: bool,
    pub project: Option<String>,
    pub git_branch: Option<String>,
    pub task_list: Option<String>,
    pub version: Option<String>,
    /// The model the session ran on (the latest known).
    pub model: Option<String>,
    pub agent: Option<String>,
    pub seen_from: Option<Timestamp>,
    pub seen_to: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub start_source: Option<String>,
    pub ended_at: Option<Timestamp>,
    pub end_reason: Option<String>,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionRecord {
    pub id: String,
    pub device: String,
    pub cwd: Option<String>,
    pub project: Option<String>,
    pub git_branch: Option<String>,
    pub task_list: Option<String>,
    pub version: Option<String>,
    pub model: Option<String>,
    pub agents: Vec<String>,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub start_source: Option<String>,
    pub ended_at: Option<Timestamp>,
    pub end_reason: Option<String>,
}

pub(crate) const SESSION_COLUMNS: &str = "id, device, cwd, project, git_branch, task_list, version, first_seen, last_seen, started_at, start_source, ended_at, end_reason, model";

pub(crate) fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    let time = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(Timestamp))
    };
    Ok(SessionRecord {
        id: row.get(0)?,
        device: row.get(1)?,
        cwd: row.get(2)?,
        project: row.get(3)?,
        git_branch: row.get(4)?,
        task_list: row.get(5)?,
        version: row.get(6)?,
        agents: Vec::new(),
        first_seen: time(7)?,
        last_seen: time(8)?,
        started_at: time(9)?,
        start_source: row.get(10)?,
        ended_at: time(11)?,
        end_reason: row.get(12)?,
        model: row.get(13)?,
    })
}

impl Tx<'_> {
    pub fn update_session(&self, u: &SessionUpdate) -> Result<()> {
        let millis = |t: Option<Timestamp>| t.map(Timestamp::millis);
        self.conn()
            .prepare_cached(
                "INSERT INTO sessions (id, device, cwd, project, git_branch, task_list, version, first_seen, last_seen, started_at, start_source, ended_at, end_reason, model)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15)
                 ON CONFLICT (id) DO UPDATE SET
                   cwd = CASE WHEN ?14 THEN coalesce(excluded.cwd, cwd) ELSE coalesce(cwd, excluded.cwd) END,
                   project = CASE WHEN ?14 OR cwd IS NULL THEN coalesce(excluded.project, project) ELSE coalesce(project, excluded.project) END,
                   git_branch = coalesce(excluded.git_branch, git_branch),
                   task_list = coalesce(excluded.task_list, task_list),
                   version = coalesce(excluded.version, version),
                   first_seen = min(coalesce(excluded.first_seen, first_seen), coalesce(first_seen, excluded.first_seen)),
                   last_seen = max(coalesce(excluded.last_seen, last_seen), coalesce(last_seen, excluded.last_seen)),
                   started_at = coalesce(started_at, excluded.started_at),
                   start_source = coalesce(start_source, excluded.start_source),
                   ended_at = coalesce(excluded.ended_at, ended_at),
                   end_reason = coalesce(excluded.end_reason, end_reason),
                   model = coalesce(excluded.model, model)",
            )?
            .execute(params![
                u.id,
                u.device,
                u.cwd,
                u.project,
                u.git_branch,
                u.task_list,
                u.version,
                millis(u.seen_from.or(u.seen_to)),
                millis(u.seen_to.or(u.seen_from)),
                millis(u.started_at),
                u.start_source,
                millis(u.ended_at),
                u.end_reason,
                u.first_cwd,
                u.model,
            ])?;
        if let Some(agent) = &u.agent {
            self.conn()
                .prepare_cached(
                    "INSERT INTO session_agents (session, agent) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?
                .execute([&u.id, agent])?;
        }
        Ok(())
    }

    /// A session's stored facts, read inside this transaction.
    pub fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        load_session(self.conn(), id)
    }

    /// Every session's project (`None` while its cwd is unknown), in one scan:
    /// cheaper than a lookup per session when a run places many.
    pub fn session_projects(&self) -> Result<Vec<(String, Option<String>)>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, project FROM sessions")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Marks these sessions as having written a plan.
    pub fn mark_planned<'s>(&self, sessions: impl IntoIterator<Item = &'s str>) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare_cached("UPDATE sessions SET planned = 1 WHERE id = ?1 AND planned = 0")?;
        for session in sessions {
            stmt.execute([session])?;
        }
        Ok(())
    }

    /// Every folder a session is known by.
    pub fn session_cwds(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT DISTINCT cwd FROM sessions WHERE cwd IS NOT NULL")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Sessions that work on a (shared) task list.
    pub fn sessions_of_task_list(&self, list: &str) -> Result<Vec<SessionRecord>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE task_list = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([list], session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn load_session(conn: &rusqlite::Connection, id: &str) -> Result<Option<SessionRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"
        ))?
        .query_row([id], session_from_row)
        .optional()?)
}

impl Store {
    /// Per model, the sessions last active at or after `since` that never
    /// wrote a plan (Claude Code's only: other agents' ids carry a prefix).
    pub fn unplanned_sessions_by_model(&self, since: Timestamp) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT model, count(*) FROM sessions
             WHERE model IS NOT NULL AND planned = 0 AND last_seen >= ?1 AND instr(id, ':') = 0
             GROUP BY model ORDER BY count(*) DESC, model",
        )?;
        let rows = stmt.query_map([since.millis()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        load_session(self.conn(), id)
    }

    /// Every session, most recently active first, with its agents.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions ORDER BY last_seen DESC, id"
        ))?;
        let mut sessions = stmt
            .query_map([], session_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT session, agent FROM session_agents ORDER BY session, agent")?;
        let mut agents: std::collections::HashMap<String, Vec<String>> = Default::default();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (session, agent) = row?;
            agents.entry(session).or_default().push(agent);
        }
        for s in &mut sessions {
            s.agents = agents.remove(&s.id).unwrap_or_default();
        }
        Ok(sessions)
    }
}
