//! Specialist agents started for a topic (docs/TOPICS.md): each
//! start, its pid, its end and the session it became.

use crate::{Result, Store, Tx};
use chittysync_core::Timestamp;
use rusqlite::{params, Connection, Row};
use serde::Serialize;

/// A start about to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSpawn {
    pub project: String,
    pub topic: String,
    pub device: String,
    pub command: Vec<String>,
    pub cwd: String,
    pub pending: usize,
    pub reason: String,
    pub todos_file: String,
    pub log_file: String,
    pub started_at: Timestamp,
}

/// One recorded start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpawnRecord {
    pub id: i64,
    pub project: String,
    pub topic: String,
    pub device: String,
    pub command: Vec<String>,
    pub cwd: String,
    pub pending: usize,
    pub reason: String,
    pub todos_file: String,
    pub log_file: String,
    pub started_at: Timestamp,
    pub pid: Option<u32>,
    pub ended_at: Option<Timestamp>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub session: Option<String>,
}

impl SpawnRecord {
    /// Whether it ended badly (not started, a signal, a non-zero exit).
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.exit_code.is_some_and(|c| c != 0)
    }

    /// How a failed start failed, in words: its error, else its exit status.
    pub fn failure(&self) -> String {
        match (&self.error, self.exit_code) {
            (Some(e), _) => e.clone(),
            (None, Some(code)) => format!("exit status {code}"),
            (None, None) => "failed".into(),
        }
    }
}

const COLUMNS: &str = "id, project, topic, device, command, cwd, pending, reason, todos_file, \
     log_file, started_at, pid, ended_at, exit_code, error, session";

fn from_row(row: &Row<'_>) -> rusqlite::Result<SpawnRecord> {
    let command: String = row.get(4)?;
    Ok(SpawnRecord {
        id: row.get(0)?,
        project: row.get(1)?,
        topic: row.get(2)?,
        device: row.get(3)?,
        command: serde_json::from_str(&command).unwrap_or_default(),
        cwd: row.get(5)?,
        pending: row.get::<_, i64>(6)?.max(0) as usize,
        reason: row.get(7)?,
        todos_file: row.get(8)?,
        log_file: row.get(9)?,
        started_at: Timestamp(row.get(10)?),
        pid: row.get::<_, Option<i64>>(11)?.map(|p| p as u32),
        ended_at: row.get::<_, Option<i64>>(12)?.map(Timestamp),
        exit_code: row.get(13)?,
        error: row.get(14)?,
        session: row.get(15)?,
    })
}

fn all(conn: &Connection, topic: Option<(&str, &str)>) -> Result<Vec<SpawnRecord>> {
    let rows = match topic {
        Some((project, topic)) => conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM spawns WHERE project = ?1 AND topic = ?2 ORDER BY id"
            ))?
            .query_map(params![project, topic], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        None => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM spawns ORDER BY id"))?
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

impl Store {
    /// Every start, oldest first.
    pub fn spawns(&self) -> Result<Vec<SpawnRecord>> {
        all(self.conn(), None)
    }

    /// Records the argv a start runs (its placeholders filled).
    pub fn set_spawn_command(&self, id: i64, command: &[String]) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE spawns SET command = ?2 WHERE id = ?1")?
            .execute(params![
                id,
                serde_json::to_string(command).unwrap_or_default()
            ])?;
        Ok(())
    }

    /// Records the process a start became.
    pub fn spawn_started(&self, id: i64, pid: u32) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE spawns SET pid = ?2 WHERE id = ?1")?
            .execute(params![id, pid as i64])?;
        Ok(())
    }

    /// Records how a start ended: its exit code (none when killed by a
    /// signal or never started) and what went wrong.
    pub fn spawn_ended(
        &self,
        id: i64,
        at: Timestamp,
        exit_code: Option<i32>,
        error: Option<&str>,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE spawns SET ended_at = ?2, exit_code = ?3, error = ?4
                 WHERE id = ?1 AND ended_at IS NULL",
            )?
            .execute(params![id, at.0, exit_code, error])?;
        Ok(())
    }

    /// Records the session a start became.
    pub fn link_spawn_session(&self, id: i64, session: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE spawns SET session = ?2 WHERE id = ?1 AND session IS NULL")?
            .execute(params![id, session])?;
        Ok(())
    }
}

impl Tx<'_> {
    /// A topic's starts, oldest first (read under the write lock, so the
    /// decision and the record of a start are one step).
    pub fn spawns_of(&self, project: &str, topic: &str) -> Result<Vec<SpawnRecord>> {
        all(self.conn(), Some((project, topic)))
    }

    /// Records a start before it happens; returns its id.
    pub fn insert_spawn(&self, s: &NewSpawn) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO spawns (project, topic, device, command, cwd, pending, reason,
                     todos_file, log_file, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                s.project,
                s.topic,
                s.device,
                serde_json::to_string(&s.command).unwrap_or_default(),
                s.cwd,
                s.pending as i64,
                s.reason,
                s.todos_file,
                s.log_file,
                s.started_at.0,
            ])?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Sets where a start's files are (known once its id is).
    pub fn set_spawn_files(&self, id: i64, todos_file: &str, log_file: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE spawns SET todos_file = ?2, log_file = ?3 WHERE id = ?1")?
            .execute(params![id, todos_file, log_file])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_is_recorded_then_ended_and_linked() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let tx = store.begin().unwrap();
        let id = tx
            .insert_spawn(&NewSpawn {
                project: "api".into(),
                topic: "router".into(),
                device: "laptop".into(),
                command: vec!["agent".into(), "a b; c".into()],
                cwd: "/w/api".into(),
                pending: 3,
                reason: "3 pending".into(),
                todos_file: String::new(),
                log_file: String::new(),
                started_at: Timestamp(5),
            })
            .unwrap();
        tx.set_spawn_files(id, "/t.json", "/l.log").unwrap();
        assert_eq!(tx.spawns_of("api", "router").unwrap().len(), 1);
        assert!(tx.spawns_of("api", "other").unwrap().is_empty());
        tx.commit().unwrap();
        store.spawn_started(id, 42).unwrap();
        store.spawn_ended(id, Timestamp(9), Some(1), None).unwrap();
        // A second end does not overwrite the first.
        store.spawn_ended(id, Timestamp(10), Some(0), None).unwrap();
        store.link_spawn_session(id, "s1").unwrap();
        let all = store.spawns().unwrap();
        assert_eq!(all[0].command[1], "a b; c");
        assert_eq!(
            (all[0].pid, all[0].exit_code, all[0].ended_at),
            (Some(42), Some(1), Some(Timestamp(9)))
        );
        assert_eq!(all[0].session.as_deref(), Some("s1"));
        assert_eq!(all[0].log_file, "/l.log");
        assert!(all[0].failed());
    }
}
