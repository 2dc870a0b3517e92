//! Reads of one project (or a few todos) for the views: the MCP tools, the
//! dashboard and the CLI read only what they show, not the whole store
//! (docs/BENCHMARKS.md, "MCP server"). The `todos` table's key starts with
//! the project; sessions are found by project through `sessions_project`
//! (migration 008).

use crate::sessions::{session_from_row, SESSION_COLUMNS};
use crate::todos::{stored_from_row, SELECT_STORED};
use crate::{Result, SessionRecord, Store, StoredTodo};
use std::collections::HashMap;

impl Store {
    /// The folded todos of one project (deleted ones too), in output order:
    /// a range of the table's key.
    pub fn project_todos(&self, project: &str) -> Result<Vec<StoredTodo>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT_STORED} WHERE project = ?1 ORDER BY project, sort_key, todo_id"
        ))?;
        let rows = stmt.query_map([project], stored_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The folded todos whose id starts with `prefix` (lowercase hex), in
    /// output order: a range of the `todos_id` index.
    pub fn todos_with_id_prefix(&self, prefix: &str) -> Result<Vec<StoredTodo>> {
        // Ids are hex: anything else matches nothing (and no GLOB pattern).
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT_STORED} WHERE todo_id GLOB ?1 || '*' ORDER BY project, sort_key, todo_id"
        ))?;
        let rows = stmt.query_map([prefix], stored_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The folded todos with these ids (those that exist), in output order.
    pub fn todos_by_ids(&self, ids: &[String]) -> Result<Vec<StoredTodo>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("{SELECT_STORED} WHERE todo_id = ?1"))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(row) = stmt.query_map([id], stored_from_row)?.next() {
                out.push(row?);
            }
        }
        out.sort_by(|a, b| {
            (&a.project, &a.sort_key, &a.todo_id).cmp(&(&b.project, &b.sort_key, &b.todo_id))
        });
        Ok(out)
    }

    /// The sessions of one project, most recently active first, with their
    /// agents (as [`Store::sessions`] gives every session).
    pub fn project_sessions(&self, project: &str) -> Result<Vec<SessionRecord>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions INDEXED BY sessions_project
             WHERE project = ?1 ORDER BY last_seen DESC, id"
        ))?;
        let mut sessions = stmt
            .query_map([project], session_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT a.session, a.agent FROM sessions s INDEXED BY sessions_project
             JOIN session_agents a ON a.session = s.id
             WHERE s.project = ?1 ORDER BY a.session, a.agent",
        )?;
        let mut agents: HashMap<String, Vec<String>> = HashMap::new();
        for row in stmt.query_map([project], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })? {
            let (session, agent) = row?;
            agents.entry(session).or_default().push(agent);
        }
        for s in &mut sessions {
            s.agents = agents.remove(&s.id).unwrap_or_default();
        }
        Ok(sessions)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::{SessionUpdate, Store, Via};
    use chittysync_core::{Observation, Source, Status, Timestamp};

    pub(crate) fn observation(project: &str, content: &str, session: &str) -> Observation {
        Observation::new(
            project,
            content.to_string(),
            None,
            Status::Pending,
            session.to_string(),
            Some(session.to_string()),
            "laptop",
            Source::Mcp,
            Timestamp(1),
        )
    }

    #[test]
    fn a_project_reads_its_own_todos_and_sessions_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let tx = store.begin().unwrap();
        for (session, project, seen) in [("s1", "api", 5), ("s2", "web", 9), ("s3", "api", 7)] {
            tx.update_session(&SessionUpdate {
                id: session.into(),
                device: "laptop".into(),
                project: Some(project.into()),
                seen_to: Some(Timestamp(seen)),
                agent: Some("worker".into()),
                ..SessionUpdate::default()
            })
            .unwrap();
        }
        tx.ingest(
            &[
                observation("api", "Ship it", "s1"),
                observation("web", "Draw it", "s2"),
                observation("api", "Test it", "s3"),
            ],
            Via::Local,
        )
        .unwrap();
        tx.commit().unwrap();

        let all = store.folded_todos().unwrap();
        let api: Vec<_> = all.iter().filter(|t| t.project == "api").cloned().collect();
        assert_eq!(store.project_todos("api").unwrap(), api);
        assert!(store.project_todos("nothing").unwrap().is_empty());

        let sessions = store.project_sessions("api").unwrap();
        let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["s3", "s1"], "newest activity first");
        assert_eq!(sessions[0].agents, ["worker"]);
        let everyone = store.sessions().unwrap();
        assert_eq!(
            sessions,
            everyone
                .into_iter()
                .filter(|s| s.project.as_deref() == Some("api"))
                .collect::<Vec<_>>()
        );

        let id = &api[0].todo_id;
        assert_eq!(
            store.todos_with_id_prefix(&id[..6]).unwrap(),
            vec![api[0].clone()]
        );
        assert!(store.todos_with_id_prefix("*").unwrap().is_empty());
        let ids: Vec<String> = all.iter().rev().map(|t| t.todo_id.clone()).collect();
        assert_eq!(store.todos_by_ids(&ids).unwrap(), all, "in output order");
    }
}
