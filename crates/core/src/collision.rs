//! Sessions' states and collisions (docs/COLLISIONS.md).
//!
//! A session is *active* until it ends (its `SessionEnd` hook) or stays idle
//! for longer than `sessions.stale_after`; activity after an end is a resumed
//! session. A *collision* is a todo in progress in two or more active
//! sessions at once — any agents, any devices: the moment two sessions work
//! blind on the same thing. The CLI's views, `status`, the hooks and the
//! daemon's notifications all ask these functions, so they cannot disagree.

use crate::{Status, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// A session's state: ended by a hook, stale when idle too long, else active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Active,
    Ended,
    Stale,
}

/// What is known of a session's activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// The latest thing any source told of it.
    pub last_seen: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    /// When its `SessionEnd` hook ran.
    pub ended_at: Option<Timestamp>,
}

/// The state of a session with this activity at `now`.
pub fn session_state(a: &Activity, now: Timestamp, stale_after_ms: i64) -> SessionState {
    // Activity after an end is a resumed session (`claude --resume`).
    if let Some(ended) = a.ended_at {
        if a.last_seen.is_none_or(|seen| seen <= ended) {
            return SessionState::Ended;
        }
    }
    match a.last_seen.or(a.started_at) {
        Some(t) if now.millis() - t.millis() <= stale_after_ms => SessionState::Active,
        _ => SessionState::Stale,
    }
}

/// One observer's latest word on a todo, with the session it speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub observer: String,
    /// The session the observer belongs to (a task's: the session of its
    /// last call); words without one are nobody's work and never collide.
    pub session: Option<String>,
    pub device: String,
    pub status: Status,
    pub observed_at: Timestamp,
    /// Since when the observer has had it in progress without a break (see
    /// [`in_progress_since`]); `observed_at` when unknown.
    pub since: Option<Timestamp>,
}

/// A session holding a todo in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub session: String,
    /// `claude`, `codex`… (read from the session's name, docs/SOURCES.md).
    pub agent: &'static str,
    pub device: String,
    /// When the session took it in progress.
    pub since: Timestamp,
    /// Its latest word on it.
    pub last: Timestamp,
}

impl Holder {
    /// `<short id> (<agent> on <device>, <since> <how long ago>)`: how a
    /// holder of a collision is named to a session (docs/COLLISIONS.md).
    pub fn describe(&self, since: &str, now: Timestamp) -> String {
        format!(
            "{} ({} on {}, {since} {})",
            crate::short_id(&self.session),
            self.agent,
            self.device,
            self.since.age(now)
        )
    }
}

/// A todo in progress in two or more active sessions at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collision {
    pub todo_id: String,
    pub project: String,
    pub content: String,
    /// The sessions, the earliest to take it first (ties: by session id).
    pub sessions: Vec<Holder>,
}

impl Collision {
    /// The collision seen from one of its sessions: every other session.
    pub fn others_of<'a>(&'a self, session: &'a str) -> impl Iterator<Item = &'a Holder> + 'a {
        self.sessions.iter().filter(move |h| h.session != session)
    }

    /// The moment it became a collision: when its second session took it.
    pub fn since(&self) -> Timestamp {
        let mut times: Vec<Timestamp> = self.sessions.iter().map(|h| h.since).collect();
        times.sort();
        times.get(1).or(times.first()).copied().unwrap_or_default()
    }
}

/// The active sessions holding a todo in progress, from its observers'
/// latest words — one holder per session (a session's sub-agents and tasks
/// speak for it), only when the fold itself says in progress (a todo another
/// session completed is done, whoever still has an old copy; docs/DESIGN.md, "The fold").
/// `active` says whether a session is active (see [`session_state`]).
pub fn holders(folded: Status, words: &[Word], active: impl Fn(&str) -> bool) -> Vec<Holder> {
    if folded != Status::InProgress {
        return Vec::new();
    }
    let mut by_session: BTreeMap<&str, Holder> = BTreeMap::new();
    for word in words {
        let Some(session) = word.session.as_deref() else {
            continue;
        };
        if word.status != Status::InProgress {
            continue;
        }
        let since = word.since.unwrap_or(word.observed_at).min(word.observed_at);
        let holder = by_session.entry(session).or_insert_with(|| Holder {
            session: session.to_string(),
            agent: crate::agent::agent_of(session),
            device: word.device.clone(),
            since,
            last: word.observed_at,
        });
        holder.since = holder.since.min(since);
        if word.observed_at > holder.last {
            holder.last = word.observed_at;
            holder.device = word.device.clone();
        }
    }
    let mut out: Vec<Holder> = by_session
        .into_values()
        .filter(|h| active(&h.session))
        .collect();
    out.sort_by(|a, b| {
        a.since
            .cmp(&b.since)
            .then_with(|| a.session.cmp(&b.session))
    });
    out
}

/// The collision on a todo, if two or more active sessions hold it.
pub fn collision(
    todo_id: &str,
    project: &str,
    content: &str,
    folded: Status,
    words: &[Word],
    active: impl Fn(&str) -> bool,
) -> Option<Collision> {
    let sessions = holders(folded, words, active);
    (sessions.len() >= 2).then(|| Collision {
        todo_id: todo_id.to_string(),
        project: project.to_string(),
        content: content.to_string(),
        sessions,
    })
}

/// Since when an observer has had a todo in progress without a break, from
/// its observations of it, newest first: the oldest of the newest run of
/// `in_progress` words. None when its newest word is not in progress.
pub fn in_progress_since(newest_first: &[(Status, Timestamp)]) -> Option<Timestamp> {
    newest_first
        .iter()
        .take_while(|(status, _)| *status == Status::InProgress)
        .map(|(_, at)| *at)
        .last()
}

/// How a collision is told to one of its sessions, in one line per other
/// session: short id, agent, device, how long ago it took the todo.
pub fn describe_others(c: &Collision, session: &str, now: Timestamp) -> String {
    c.others_of(session)
        .map(|h| format!("session {}", h.describe("in progress since", now)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn word(observer: &str, session: Option<&str>, status: Status, at: i64) -> Word {
        Word {
            observer: observer.to_string(),
            session: session.map(str::to_string),
            device: "laptop".to_string(),
            status,
            observed_at: Timestamp(at),
            since: None,
        }
    }

    #[test]
    fn states_follow_end_and_idleness() {
        let now = Timestamp(10 * DAY);
        let a = |seen: i64, ended: Option<i64>| Activity {
            last_seen: Some(Timestamp(seen)),
            started_at: None,
            ended_at: ended.map(Timestamp),
        };
        assert_eq!(
            session_state(&a(9 * DAY, None), now, 7 * DAY),
            SessionState::Active
        );
        assert_eq!(
            session_state(&a(2 * DAY, None), now, 7 * DAY),
            SessionState::Stale
        );
        assert_eq!(
            session_state(&a(9 * DAY, Some(9 * DAY)), now, 7 * DAY),
            SessionState::Ended
        );
        // Resumed after its end.
        assert_eq!(
            session_state(&a(9 * DAY + 1, Some(9 * DAY)), now, 7 * DAY),
            SessionState::Active
        );
        assert_eq!(
            session_state(&Activity::default(), now, 7 * DAY),
            SessionState::Stale
        );
    }

    #[test]
    fn two_active_sessions_in_progress_collide() {
        let words = [
            word("s1", Some("s1"), Status::InProgress, 100),
            word("s2/agent-a", Some("s2"), Status::InProgress, 200),
            word("s3", Some("s3"), Status::Pending, 300),
            word("task:x/1", None, Status::InProgress, 50),
        ];
        let c = collision("t", "api", "Fix it", Status::InProgress, &words, |_| true).unwrap();
        let ids: Vec<&str> = c.sessions.iter().map(|h| h.session.as_str()).collect();
        assert_eq!(ids, ["s1", "s2"]);
        assert_eq!(c.since(), Timestamp(200));
        assert_eq!(c.others_of("s1").count(), 1);
    }

    #[test]
    fn one_session_a_stale_one_or_a_done_todo_do_not_collide() {
        let words = [
            word("s1", Some("s1"), Status::InProgress, 100),
            word("s1/agent-a", Some("s1"), Status::InProgress, 200),
            word("s2", Some("s2"), Status::InProgress, 300),
        ];
        // s1 twice (itself and its sub-agent) is one session.
        assert!(collision("t", "p", "c", Status::InProgress, &words, |s| s == "s1").is_none());
        // The fold says completed: done is done.
        assert!(collision("t", "p", "c", Status::Completed, &words, |_| true).is_none());
        let c = collision("t", "p", "c", Status::InProgress, &words, |_| true).unwrap();
        assert_eq!(c.sessions[0].since, Timestamp(100));
        assert_eq!(c.sessions[0].last, Timestamp(200));
    }

    #[test]
    fn since_is_the_start_of_the_latest_run() {
        use Status::*;
        let t = Timestamp;
        assert_eq!(
            in_progress_since(&[(InProgress, t(5)), (InProgress, t(3)), (Pending, t(2))]),
            Some(t(3))
        );
        assert_eq!(
            in_progress_since(&[(Completed, t(5)), (InProgress, t(3))]),
            None
        );
        assert_eq!(in_progress_since(&[]), None);
    }
}
