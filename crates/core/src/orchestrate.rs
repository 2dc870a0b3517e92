//! The orchestration plan (docs/HUB_API.md; docs/TOPICS.md): pending todos
//! spread over the active sessions of their project by load.
//!
//! For each project (or only one), its pending todos in the order of
//! `todos.json` (normalized content, then id) are given one by one to the
//! active session of that project with the fewest open todos at that moment
//! — its pending and in-progress todos, plus what it was given so far; ties go
//! to the smaller session id. Pending todos of a project without an active
//! session are unassigned. Which sessions are active is the caller's word
//! (the local views and the hub decide it each their way); everything else is
//! here, once, so `chittysync orchestrate` and `POST /api/orchestrate` give
//! the same plan for the same picture — whatever order it is given in.

use crate::key::normalize;
use crate::{Status, TodoEntry};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An active session that can take work.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ActiveSession {
    pub session: String,
    pub project: String,
}

/// Todos given to one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub session: String,
    pub project: String,
    /// Todo ids, in the order they were given.
    pub todos: Vec<String>,
}

/// The plan: assignments by project, then session; the todos left over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub assignments: Vec<Assignment>,
    /// Pending todos of projects with no active session, in todo order.
    pub unassigned: Vec<String>,
}

/// The plan for `todos` (the fold; any status) and `active` sessions, of
/// every project or only `only`.
pub fn orchestrate(todos: &[TodoEntry], active: &[ActiveSession], only: Option<&str>) -> Plan {
    // A session's load: the open todos listing it.
    let mut load_of: BTreeMap<&str, u64> = BTreeMap::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut pending: BTreeMap<&str, Vec<(String, &str)>> = BTreeMap::new();
    for todo in todos {
        if !seen.insert(todo.id.as_str()) || !todo.status.is_open() {
            continue;
        }
        let sessions: BTreeSet<&str> = todo.sessions.iter().map(String::as_str).collect();
        for session in sessions {
            *load_of.entry(session).or_default() += 1;
        }
        if todo.status == Status::Pending && only.is_none_or(|p| p == todo.project) {
            pending
                .entry(todo.project.as_str())
                .or_default()
                .push((normalize(&todo.content), todo.id.as_str()));
        }
    }
    let mut sessions_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in active {
        sessions_of
            .entry(s.project.as_str())
            .or_default()
            .insert(s.session.as_str());
    }
    let mut plan = Plan::default();
    for (project, mut todos) in pending {
        todos.sort();
        let Some(sessions) = sessions_of.get(project).filter(|s| !s.is_empty()) else {
            plan.unassigned
                .extend(todos.into_iter().map(|(_, id)| id.to_string()));
            continue;
        };
        // (load, session id) → todos given; the map's order is the rule.
        let mut queue: BTreeMap<(u64, &str), Vec<String>> = sessions
            .iter()
            .map(|s| ((load_of.get(s).copied().unwrap_or(0), *s), Vec::new()))
            .collect();
        for (_, id) in todos {
            if let Some(((load, session), mut given)) = queue.pop_first() {
                given.push(id.to_string());
                queue.insert((load + 1, session), given);
            }
        }
        let mut given: Vec<Assignment> = queue
            .into_iter()
            .filter(|(_, todos)| !todos.is_empty())
            .map(|((_, session), todos)| Assignment {
                session: session.to_string(),
                project: project.to_string(),
                todos,
            })
            .collect();
        given.sort_by(|a, b| a.session.cmp(&b.session));
        plan.assignments.extend(given);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use proptest::prelude::*;

    fn entry(project: &str, content: &str, status: Status, sessions: &[&str]) -> TodoEntry {
        TodoEntry {
            id: crate::todo_id(project, content).to_string(),
            content: content.into(),
            active_form: None,
            status,
            project: project.into(),
            sessions: sessions.iter().map(|s| s.to_string()).collect(),
            agents: vec![],
            first_seen: None,
            started_at: None,
            updated_at: Some(Timestamp(1)),
            completed_at: None,
        }
    }

    fn active(session: &str, project: &str) -> ActiveSession {
        ActiveSession {
            session: session.into(),
            project: project.into(),
        }
    }

    #[test]
    fn balances_by_load_then_session_id() {
        let todos = [
            entry("api", "held", Status::InProgress, &["s1"]),
            entry("api", "p1", Status::Pending, &["x"]),
            entry("api", "p2", Status::Pending, &["x"]),
            entry("api", "p3", Status::Pending, &["x"]),
            entry("web", "w1", Status::Pending, &["y"]),
        ];
        let sessions = [
            active("s3", "api"),
            active("s2", "api"),
            active("s1", "api"),
        ];
        let id = |c: &str| crate::todo_id("api", c).to_string();
        let plan = orchestrate(&todos, &sessions, None);
        let given: Vec<(&str, Vec<String>)> = plan
            .assignments
            .iter()
            .map(|a| (a.session.as_str(), a.todos.clone()))
            .collect();
        assert_eq!(
            given,
            vec![
                ("s1", vec![id("p3")]),
                ("s2", vec![id("p1")]),
                ("s3", vec![id("p2")]),
            ]
        );
        assert_eq!(
            plan.unassigned,
            vec![crate::todo_id("web", "w1").to_string()]
        );
        let web = orchestrate(&todos, &sessions, Some("web"));
        assert!(web.assignments.is_empty());
        assert_eq!(web.unassigned.len(), 1);
    }

    proptest! {
        /// Same todos and sessions, same plan, in any order (docs/TOPICS.md);
        /// every pending todo is given once or left over.
        #[test]
        fn plan_does_not_depend_on_order(
            raw in prop::collection::vec(
                (0..2usize, 0..6usize, 0..3usize, prop::collection::vec(0..4usize, 0..3)),
                0..24,
            ),
            live in prop::collection::vec((0..4usize, 0..2usize), 0..5),
        ) {
            let projects = ["api", "web"];
            let statuses = [Status::Pending, Status::InProgress, Status::Completed];
            let names = ["s0", "s1", "s2", "s3"];
            let mut todos: Vec<TodoEntry> = raw
                .iter()
                .map(|(p, c, s, sess)| {
                    let sessions: Vec<&str> = sess.iter().map(|i| names[*i]).collect();
                    entry(projects[*p], &format!("todo {c}"), statuses[*s], &sessions)
                })
                .collect();
            todos.sort_by(|a, b| a.id.cmp(&b.id));
            todos.dedup_by(|a, b| a.id == b.id);
            let sessions: Vec<ActiveSession> = live
                .iter()
                .map(|(s, p)| active(names[*s], projects[*p]))
                .collect();
            let plan = orchestrate(&todos, &sessions, None);
            let mut rev_todos = todos.clone();
            rev_todos.reverse();
            let mut rev_sessions = sessions.clone();
            rev_sessions.reverse();
            prop_assert_eq!(&plan, &orchestrate(&rev_todos, &rev_sessions, None));
            let given: usize = plan.assignments.iter().map(|a| a.todos.len()).sum();
            let pending = todos.iter().filter(|t| t.status == Status::Pending).count();
            prop_assert_eq!(given + plan.unassigned.len(), pending);
        }
    }
}
