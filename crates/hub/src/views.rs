//! The views the hub serves, computed from a tenant's fold and sessions.
//!
//! Pure functions of their inputs and of `now`, so they are tested without a
//! server and two hub processes answer alike. "Active" means observed within
//! [`ACTIVE_WINDOW_MS`] of now — the same window for sessions (active),
//! projects (synced) and the orchestrator (who can take work).

use crate::api::{
    Assignment, OrchestratePlan, ProjectCounts, ProjectView, SessionCounts, SessionView,
    StatusResponse, TodoCounts, TopicCounts, TopicView,
};
use crate::store::SessionRecord;
use chittysync_core::orchestrate::ActiveSession;
use chittysync_core::snapshot::sort_entries;
use chittysync_core::topic::TopicRules;
use chittysync_core::{Conflict, Status, Timestamp, TodoEntry, TodoId, TodoState};
use std::collections::{BTreeMap, BTreeSet};

/// 24 hours.
pub(crate) const ACTIVE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

fn is_active(last: Timestamp, now: Timestamp) -> bool {
    now.millis() - last.millis() <= ACTIVE_WINDOW_MS
}

/// A tenant's folded todos (every status, `deleted` too), sorted as the core
/// sorts them, with their conflicts in the same order.
pub(crate) struct Folded {
    pub todos: Vec<TodoEntry>,
    pub conflicts: BTreeMap<TodoId, Conflict>,
}

impl Folded {
    /// Resolves every state with the core's [`TodoState::resolve`].
    pub fn new(states: &BTreeMap<TodoId, TodoState>) -> Folded {
        let mut todos = Vec::with_capacity(states.len());
        let mut conflicts = BTreeMap::new();
        for resolved in states.values().filter_map(TodoState::resolve) {
            if let Some(conflict) = resolved.conflict {
                conflicts.insert(conflict.id.clone(), conflict);
            }
            todos.push(resolved.entry);
        }
        sort_entries(&mut todos);
        Folded { todos, conflicts }
    }

    /// Todos not folded to `deleted`.
    fn visible(&self) -> impl Iterator<Item = &TodoEntry> {
        self.todos.iter().filter(|t| t.status != Status::Deleted)
    }

    /// `GET /api/todos`: todos of `project` (if given) with exactly `status`
    /// (if given; otherwise every status but `deleted`), and their conflicts.
    pub fn select(
        self,
        project: Option<&str>,
        status: Option<Status>,
    ) -> (Vec<TodoEntry>, Vec<Conflict>) {
        let mut conflicts = self.conflicts;
        let todos: Vec<TodoEntry> = self
            .todos
            .into_iter()
            .filter(|t| project.is_none_or(|p| t.project == p))
            .filter(|t| match status {
                Some(s) => t.status == s,
                None => t.status != Status::Deleted,
            })
            .collect();
        let conflicts = todos
            .iter()
            .filter_map(|t| conflicts.remove(&t.id))
            .collect();
        (todos, conflicts)
    }
}

#[derive(Default)]
struct Tally {
    total: u64,
    pending: u64,
    in_progress: u64,
    completed: u64,
}

impl Tally {
    fn add(&mut self, status: Status) {
        match status {
            Status::Pending => self.pending += 1,
            Status::InProgress => self.in_progress += 1,
            Status::Completed => self.completed += 1,
            Status::Deleted => return,
        }
        self.total += 1;
    }
}

/// Every project with any todo, deleted ones included: they are stored.
fn all_projects(folded: &Folded) -> BTreeSet<&str> {
    folded.todos.iter().map(|t| t.project.as_str()).collect()
}

/// `GET /api/status`.
pub(crate) fn status(
    folded: &Folded,
    sessions: &[SessionRecord],
    now: Timestamp,
) -> StatusResponse {
    let projects = projects(folded, sessions, now);
    let mut todos = Tally::default();
    for todo in folded.visible() {
        todos.add(todo.status);
    }
    let sessions_total = sessions.len() as u64;
    // A sealed tenant's projects are sealed afresh in every observation
    // (docs/ENCRYPTION.md): what the hub can count honestly is observations,
    // devices, sessions and todos by status, not projects.
    let encrypted = folded
        .todos
        .iter()
        .any(|t| chittysync_crypt::is_sealed_text(&t.project));
    StatusResponse {
        service: "sync".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        encrypted,
        observations: sessions.iter().map(|s| s.observations.max(0) as u64).sum(),
        devices: sessions
            .iter()
            .map(|s| s.device.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64,
        projects: (!encrypted).then(|| ProjectCounts {
            total: projects.len() as u64,
            synced: projects
                .iter()
                .filter(|p| p.last_activity.is_some_and(|t| is_active(t, now)))
                .count() as u64,
        }),
        sessions: SessionCounts {
            total: sessions_total,
            active: sessions
                .iter()
                .filter(|s| is_active(s.last_observed, now))
                .count() as u64,
        },
        topics: TopicCounts {
            categories: (!encrypted).then_some(projects.len() as u64),
            total_conversations: sessions_total,
        },
        todos: TodoCounts {
            total: todos.total,
            pending: todos.pending,
            in_progress: todos.in_progress,
            completed: todos.completed,
        },
    }
}

/// `GET /api/project`, sorted by name.
pub(crate) fn projects(
    folded: &Folded,
    sessions: &[SessionRecord],
    now: Timestamp,
) -> Vec<ProjectView> {
    all_projects(folded)
        .into_iter()
        .map(|project| {
            let mut tally = Tally::default();
            let mut last_activity: Option<Timestamp> = None;
            for todo in folded.todos.iter().filter(|t| t.project == project) {
                tally.add(todo.status);
                last_activity = last_activity.max(todo.updated_at);
            }
            let own = sessions.iter().filter(|s| s.project == project);
            ProjectView {
                project: project.to_string(),
                todos: tally.total,
                pending: tally.pending,
                in_progress: tally.in_progress,
                completed: tally.completed,
                sessions: own.clone().count() as u64,
                active_sessions: own.filter(|s| is_active(s.last_observed, now)).count() as u64,
                last_activity,
            }
        })
        .collect()
}

/// Folded todos (not deleted) listing each session, by their status.
fn tallies_by_session(folded: &Folded) -> BTreeMap<&str, Tally> {
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    for todo in folded.visible() {
        for session in &todo.sessions {
            tallies
                .entry(session.as_str())
                .or_default()
                .add(todo.status);
        }
    }
    tallies
}

/// `GET /api/session`, sorted by session id.
pub(crate) fn sessions(
    folded: &Folded,
    sessions: &[SessionRecord],
    now: Timestamp,
) -> Vec<SessionView> {
    let tallies = tallies_by_session(folded);
    sessions
        .iter()
        .map(|s| {
            let tally = tallies.get(s.session.as_str());
            SessionView {
                session: s.session.clone(),
                device: s.device.clone(),
                project: s.project.clone(),
                first_observed: s.first_observed,
                last_observed: s.last_observed,
                observations: s.observations.max(0) as u64,
                active: is_active(s.last_observed, now),
                pending: tally.map_or(0, |t| t.pending),
                in_progress: tally.map_or(0, |t| t.in_progress),
                completed: tally.map_or(0, |t| t.completed),
            }
        })
        .collect()
}

/// `GET /api/topic`: the topics of core's rule ([`chittysync_core::topic`])
/// under the hub's `[[topics.rules]]` (none: a project is one topic), each
/// with its open todos' sessions; its conversations are the project's sessions.
pub(crate) fn topics(
    rules: &TopicRules,
    folded: &Folded,
    sessions: &[SessionRecord],
) -> Vec<TopicView> {
    chittysync_core::topic::topics(rules, &folded.todos)
        .into_iter()
        .map(|t| {
            let pending = t.pending.len() as u64;
            let in_progress = t.in_progress.len() as u64;
            TopicView {
                conversations: sessions.iter().filter(|s| s.project == t.project).count() as u64,
                todos: pending + in_progress + t.completed as u64,
                open: pending + in_progress,
                pending,
                in_progress,
                sessions: t.sessions,
                project: t.project,
                topic: t.topic,
            }
        })
        .collect()
}

/// `POST /api/orchestrate`: core's plan ([`chittysync_core::orchestrate`]),
/// the same as `chittysync orchestrate`, over the sessions observed within
/// [`ACTIVE_WINDOW_MS`]. Deterministic: the same fold, sessions and `now`
/// give the same plan.
pub(crate) fn orchestrate(
    folded: &Folded,
    sessions: &[SessionRecord],
    now: Timestamp,
    only: Option<&str>,
) -> OrchestratePlan {
    let active: Vec<ActiveSession> = sessions
        .iter()
        .filter(|s| is_active(s.last_observed, now))
        .map(|s| ActiveSession {
            session: s.session.clone(),
            project: s.project.clone(),
        })
        .collect();
    let plan = chittysync_core::orchestrate::orchestrate(&folded.todos, &active, only);
    OrchestratePlan {
        assignments: plan
            .assignments
            .into_iter()
            .map(|a| Assignment {
                session: a.session,
                project: a.project,
                todos: a.todos,
            })
            .collect(),
        unassigned: plan.unassigned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_core::{fold, Observation, Source};

    const NOW: Timestamp = Timestamp(10 * ACTIVE_WINDOW_MS);

    fn obs(project: &str, content: &str, status: Status, session: &str, t: i64) -> Observation {
        Observation::new(
            project,
            content.into(),
            None,
            status,
            session.into(),
            Some(session.into()),
            "laptop",
            Source::File,
            Timestamp(t),
        )
    }

    fn session(id: &str, project: &str, last: i64) -> SessionRecord {
        SessionRecord {
            session: id.into(),
            device: "laptop".into(),
            project: project.into(),
            first_observed: Timestamp(last),
            last_observed: Timestamp(last),
            observations: 1,
        }
    }

    #[test]
    fn status_counts_and_windows() {
        let recent = NOW.millis() - 1000;
        let old = NOW.millis() - 2 * ACTIVE_WINDOW_MS;
        let all = [
            obs("api", "a", Status::Pending, "s1", recent),
            obs("api", "b", Status::Completed, "s1", recent),
            obs("web", "c", Status::InProgress, "s2", old),
            obs("web", "d", Status::Deleted, "s2", old),
        ];
        let folded = Folded::new(&fold(&all));
        let sessions = [session("s1", "api", recent), session("s2", "web", old)];
        let s = status(&folded, &sessions, NOW);
        let p = s.projects.unwrap();
        assert_eq!((p.total, p.synced), (2, 1));
        assert_eq!((s.sessions.total, s.sessions.active), (2, 1));
        assert_eq!(
            (s.topics.categories, s.topics.total_conversations),
            (Some(2), 2)
        );
        assert_eq!((s.encrypted, s.observations, s.devices), (false, 2, 1));
        assert_eq!(
            (
                s.todos.total,
                s.todos.pending,
                s.todos.in_progress,
                s.todos.completed
            ),
            (3, 1, 1, 1)
        );
        let views = super::sessions(&folded, &sessions, NOW);
        assert_eq!(
            (views[0].pending, views[0].completed, views[0].active),
            (1, 1, true)
        );
        assert_eq!((views[1].in_progress, views[1].active), (1, false));
    }

    #[test]
    fn orchestrate_balances_by_load_then_session_id() {
        let t = NOW.millis() - 1000;
        let all = [
            // s1 already has one open todo; s2 and s3 none.
            obs("api", "held", Status::InProgress, "s1", t),
            obs("api", "p1", Status::Pending, "x", t - 2 * ACTIVE_WINDOW_MS),
            obs("api", "p2", Status::Pending, "x", t - 2 * ACTIVE_WINDOW_MS),
            obs("api", "p3", Status::Pending, "x", t - 2 * ACTIVE_WINDOW_MS),
            obs("web", "w1", Status::Pending, "y", t - 2 * ACTIVE_WINDOW_MS),
        ];
        let folded = Folded::new(&fold(&all));
        let sessions = [
            session("s3", "api", t),
            session("s2", "api", t),
            session("s1", "api", t),
            session("x", "api", t - 2 * ACTIVE_WINDOW_MS),
            session("y", "web", t - 2 * ACTIVE_WINDOW_MS),
        ];
        let id = |c: &str| chittysync_core::todo_id("api", c);
        let plan = orchestrate(&folded, &sessions, NOW, None);
        assert_eq!(
            plan.assignments,
            vec![
                Assignment {
                    session: "s1".into(),
                    project: "api".into(),
                    todos: vec![id("p3")]
                },
                Assignment {
                    session: "s2".into(),
                    project: "api".into(),
                    todos: vec![id("p1")]
                },
                Assignment {
                    session: "s3".into(),
                    project: "api".into(),
                    todos: vec![id("p2")]
                },
            ]
        );
        assert_eq!(plan.unassigned, vec![chittysync_core::todo_id("web", "w1")]);
        assert_eq!(plan, orchestrate(&folded, &sessions, NOW, None));
        let web_only = orchestrate(&folded, &sessions, NOW, Some("web"));
        assert!(web_only.assignments.is_empty());
        assert_eq!(web_only.unassigned.len(), 1);
    }
}
