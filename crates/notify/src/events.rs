//! The events besides collisions (docs/COLLISIONS.md, "Events"):
//! `plan_completed` — a session of this device whose whole plan just
//! completed; `session_stale` — a session of this device gone stale
//! (`[sessions] stale_after`, docs/CONFIG.md) with work in progress; `sync_failing` — the git or
//! hub sync failing for longer than `[notify] sync_failing_after`.
//!
//! The rules are pure functions of the picture and `now`; each event carries
//! the key that makes it "once" in the store's ledger (see [`crate::queue`]).

use chittysync_core::{short_id, SessionState, Status, Timestamp, TodoEntry};
use chittysync_engine::views::SessionView;
use chittysync_engine::{Reader, StoreError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub const PLAN_COMPLETED: &str = "plan_completed";
pub const SESSION_STALE: &str = "session_stale";
pub const SYNC_FAILING: &str = "sync_failing";

/// A plan completed, or a session gone stale, longer ago than this is not
/// news: turning `[notify]` on does not tell of every old session.
pub const RECENT: Duration = Duration::from_secs(24 * 3600);

/// One event to queue: its key in the ledger (without the channel) and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub key: String,
    pub kind: &'static str,
    pub body: Value,
}

/// A session's todos (deleted ones left out), from the fold.
#[derive(Default)]
struct Plan<'a> {
    todos: Vec<&'a TodoEntry>,
}

fn plans(todos: &[TodoEntry]) -> BTreeMap<&str, Plan<'_>> {
    let mut out: BTreeMap<&str, Plan<'_>> = BTreeMap::new();
    for t in todos.iter().filter(|t| t.status != Status::Deleted) {
        for s in &t.sessions {
            out.entry(s.as_str()).or_default().todos.push(t);
        }
    }
    out
}

fn quoted(todos: &[&TodoEntry], most: usize) -> String {
    let mut list: Vec<String> = todos
        .iter()
        .take(most)
        .map(|t| format!("\"{}\"", t.content))
        .collect();
    if todos.len() > most {
        list.push(format!("and {} more", todos.len() - most));
    }
    list.join(", ")
}

fn session_json(v: &SessionView) -> Value {
    json!({"session": v.session.id, "agent": v.agent, "device": v.session.device,
           "project": v.session.project, "cwd": v.session.cwd,
           "last_seen": v.session.last_seen})
}

/// `plan_completed`: each session of `device` whose every todo is completed
/// (one at least), the last of them within [`RECENT`] of `now`. Its key is
/// the session and its todos, so a plan that grows and completes again is a
/// new event, and the same plan never is.
pub fn plans_completed(
    todos: &[TodoEntry],
    sessions: &[SessionView],
    device: &str,
    now: Timestamp,
) -> Vec<Event> {
    let plans = plans(todos);
    let mut out = Vec::new();
    for v in sessions.iter().filter(|v| v.session.device == device) {
        let Some(plan) = plans.get(v.session.id.as_str()) else {
            continue;
        };
        if plan.todos.is_empty() || plan.todos.iter().any(|t| t.status != Status::Completed) {
            continue;
        }
        let done_at = plan
            .todos
            .iter()
            .filter_map(|t| t.completed_at.or(t.updated_at))
            .max()
            .unwrap_or(Timestamp(0));
        if now.millis() - done_at.millis() > RECENT.as_millis() as i64 {
            continue;
        }
        let mut ids: Vec<&str> = plan.todos.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        let project = v.session.project.as_deref().unwrap_or("-");
        let n = plan.todos.len();
        out.push(Event {
            key: format!("{PLAN_COMPLETED}:{}:{}", v.session.id, ids.join(",")),
            kind: PLAN_COMPLETED,
            body: json!({
                "event": PLAN_COMPLETED,
                "at": now,
                "device": device,
                "title": format!("chittysync: a plan completed in {project}"),
                "message": format!(
                    "Session {} ({}) completed all {n} todo{} of its plan: {}",
                    short_id(&v.session.id), v.agent, if n == 1 { "" } else { "s" },
                    quoted(&plan.todos, 5)),
                "project": v.session.project,
                "completed_at": done_at,
                "todos": n,
                "session": session_json(v),
            }),
        });
    }
    out
}

/// `session_stale`: each session of `device` that is stale with todos in
/// progress, gone stale (its last activity plus `stale_after`) within
/// [`RECENT`] of `now`. Its key is the session and its last activity, so a
/// session that wakes and goes stale again is a new event.
pub fn sessions_stale(
    todos: &[TodoEntry],
    sessions: &[SessionView],
    device: &str,
    stale_after: Duration,
    now: Timestamp,
) -> Vec<Event> {
    let plans = plans(todos);
    let mut out = Vec::new();
    for v in sessions
        .iter()
        .filter(|v| v.session.device == device && v.state == SessionState::Stale)
    {
        let Some(last_seen) = v.session.last_seen else {
            continue;
        };
        let stale_since = last_seen.millis() + stale_after.as_millis() as i64;
        if now.millis() - stale_since > RECENT.as_millis() as i64 {
            continue;
        }
        let working: Vec<&TodoEntry> = plans
            .get(v.session.id.as_str())
            .map(|p| {
                p.todos
                    .iter()
                    .copied()
                    .filter(|t| t.status == Status::InProgress)
                    .collect()
            })
            .unwrap_or_default();
        if working.is_empty() {
            continue;
        }
        let project = v.session.project.as_deref().unwrap_or("-");
        out.push(Event {
            key: format!("{SESSION_STALE}:{}:{}", v.session.id, last_seen.millis()),
            kind: SESSION_STALE,
            body: json!({
                "event": SESSION_STALE,
                "at": now,
                "device": device,
                "title": format!("chittysync: a session went stale in {project}"),
                "message": format!(
                    "Session {} ({}) has been idle since {} with {} todo{} in progress: {}",
                    short_id(&v.session.id), v.agent, last_seen.age(now), working.len(),
                    if working.len() == 1 { "" } else { "s" }, quoted(&working, 5)),
                "project": v.session.project,
                "in_progress": working.iter().map(|t| t.content.as_str()).collect::<Vec<_>>(),
                "session": session_json(v),
            }),
        });
    }
    out
}

/// The syncs watched for `sync_failing`: the remotes a device syncs with.
pub const SYNCS: [&str; 2] = chittysync_engine::REMOTES;

/// A sync's failure as its sync state records it (crates/engine/src/sync.rs:
/// the run of failures keeps its start across restarts of the daemon).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failing {
    pub since: Timestamp,
    pub error: String,
}

/// Since when a sync fails, if it does.
pub fn failing(reader: Reader<'_>, sync: &str) -> Result<Option<Failing>, StoreError> {
    let state = reader.sync_state(sync)?;
    Ok(state.failing_since.map(|since| Failing {
        since,
        error: state.last_error.map(|e| e.detail).unwrap_or_default(),
    }))
}

/// `sync_failing`: each sync failing for `after` or longer. Its key is the
/// sync and when it began to fail: once per run of failures.
pub fn syncs_failing(
    reader: Reader<'_>,
    after: Duration,
    device: &str,
    now: Timestamp,
) -> Result<Vec<Event>, StoreError> {
    let mut out = Vec::new();
    for sync in SYNCS {
        let Some(f) = failing(reader, sync)? else {
            continue;
        };
        if now.millis() - f.since.millis() < after.as_millis() as i64 {
            continue;
        }
        out.push(Event {
            key: format!("{SYNC_FAILING}:{sync}:{}", f.since.millis()),
            kind: SYNC_FAILING,
            body: json!({
                "event": SYNC_FAILING,
                "at": now,
                "device": device,
                "title": format!("chittysync: the {sync} sync is failing"),
                "message": format!("The {sync} sync of {device} has failed since {}: {}",
                                   f.since.age(now), f.error),
                "sync": sync,
                "since": f.since,
                "error": f.error,
            }),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_config::{Config, Locations};
    use chittysync_engine::{Engine, SessionRecord};

    const NOW: Timestamp = Timestamp(10 * 24 * 3600 * 1000);
    const MIN: i64 = 60_000;

    fn todo(id: &str, status: Status, sessions: &[&str], at: i64) -> TodoEntry {
        TodoEntry {
            id: id.into(),
            content: format!("Todo {id}"),
            active_form: None,
            status,
            project: "api".into(),
            sessions: sessions.iter().map(|s| s.to_string()).collect(),
            agents: vec!["claude".into()],
            first_seen: Some(Timestamp(at)),
            started_at: None,
            updated_at: Some(Timestamp(at)),
            completed_at: (status == Status::Completed).then_some(Timestamp(at)),
        }
    }

    fn view(id: &str, device: &str, state: SessionState, last_seen: i64) -> SessionView {
        SessionView {
            session: SessionRecord {
                id: id.into(),
                device: device.into(),
                cwd: None,
                project: Some("api".into()),
                git_branch: None,
                task_list: None,
                version: None,
                model: None,
                agents: Vec::new(),
                first_seen: None,
                last_seen: Some(Timestamp(last_seen)),
                started_at: None,
                start_source: None,
                ended_at: None,
                end_reason: None,
            },
            agent: "claude",
            state,
            open_todos: 0,
            in_progress: 0,
            spawned: None,
        }
    }

    #[test]
    fn a_plan_completes_when_its_last_todo_does_and_only_then() {
        let n = NOW.millis();
        let sessions = [
            view("done", "laptop", SessionState::Active, n),
            view("half", "laptop", SessionState::Active, n),
            view("old", "laptop", SessionState::Active, n),
            view("elsewhere", "desktop", SessionState::Active, n),
        ];
        let todos = [
            todo(
                "a",
                Status::Completed,
                &["done", "half", "elsewhere"],
                n - MIN,
            ),
            todo("b", Status::Completed, &["done"], n - 2 * MIN),
            todo("c", Status::Pending, &["half"], n - MIN),
            todo(
                "d",
                Status::Completed,
                &["old"],
                n - 2 * RECENT.as_millis() as i64,
            ),
            todo("e", Status::Deleted, &["done"], n),
        ];
        let events = plans_completed(&todos, &sessions, "laptop", NOW);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].key, "plan_completed:done:a,b");
        let message = events[0].body["message"].as_str().unwrap();
        assert!(
            message.contains("completed all 2 todos of its plan: \"Todo a\", \"Todo b\""),
            "{message}"
        );
        // The same picture in another order: the same events.
        let mut reversed = todos.clone();
        reversed.reverse();
        assert_eq!(
            plans_completed(&reversed, &sessions, "laptop", NOW)[0].key,
            events[0].key
        );
    }

    #[test]
    fn a_stale_session_with_work_in_progress_is_told_once_per_idle_spell() {
        let n = NOW.millis();
        let week = Duration::from_secs(7 * 24 * 3600);
        let gone = n - week.as_millis() as i64 - MIN;
        let sessions = [
            view("stale", "laptop", SessionState::Stale, gone),
            view("idle", "laptop", SessionState::Stale, gone),
            view("busy", "laptop", SessionState::Active, n),
            view("long-gone", "laptop", SessionState::Stale, 0),
        ];
        let todos = [
            todo(
                "a",
                Status::InProgress,
                &["stale", "busy", "long-gone"],
                gone,
            ),
            todo("b", Status::Pending, &["idle"], gone),
        ];
        let events = sessions_stale(&todos, &sessions, "laptop", week, NOW);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].key, format!("session_stale:stale:{gone}"));
        assert_eq!(events[0].body["in_progress"], json!(["Todo a"]));
    }

    /// Records a sync through the engine (crates/engine/src/sync.rs), at `now`.
    fn note_sync(engine: &mut Engine, sync: &str, failure: Option<&str>, now: Timestamp) {
        engine
            .update_sync_state(sync, |state| match failure {
                Some(error) => state.failed(error, now),
                None => state.answered(),
            })
            .unwrap();
    }

    #[test]
    fn a_sync_failing_is_told_after_the_threshold_once_per_run_of_failures() {
        let dir = tempfile::tempdir().unwrap();
        let locations = Locations {
            claude_dir: dir.path().join("claude"),
            agents_home: None,
            home: dir.path().join("home"),
            config: None,
        };
        let mut engine = Engine::open(&locations, &Config::default()).unwrap();
        let after = Duration::from_secs(600);
        let t = |m: i64| Timestamp(NOW.millis() + m * MIN);
        note_sync(&mut engine, "hub", Some("refused"), t(0));
        note_sync(&mut engine, "git", None, t(1));
        assert!(syncs_failing(engine.reader(), after, "laptop", t(5))
            .unwrap()
            .is_empty());
        note_sync(&mut engine, "hub", Some("refused again"), t(9));
        let events = syncs_failing(engine.reader(), after, "laptop", t(11)).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].key, format!("sync_failing:hub:{}", t(0).millis()));
        assert_eq!(events[0].body["error"], "refused again");
        // A success ends the run; the next failure is a new one.
        note_sync(&mut engine, "hub", None, t(12));
        assert!(syncs_failing(engine.reader(), after, "laptop", t(30))
            .unwrap()
            .is_empty());
        note_sync(&mut engine, "hub", Some("down"), t(31));
        let events = syncs_failing(engine.reader(), after, "laptop", t(45)).unwrap();
        assert_eq!(
            events[0].key,
            format!("sync_failing:hub:{}", t(31).millis())
        );
    }
}
