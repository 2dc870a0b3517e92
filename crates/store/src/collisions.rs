//! What collisions and notifications read and remember (docs/COLLISIONS.md):
//! the observers' latest words on todos in progress, who was warned of what,
//! and the events `[notify]` sends once each. The rule itself is core's
//! (`chittysync_core::collision`); these are only the queries it needs.

use crate::log::Record;
use crate::{Result, SessionRecord, Store, Tx};
use chittysync_core::collision::{Activity, Word};
use chittysync_core::{Status, Timestamp};
use rusqlite::{named_params, params, Connection, OptionalExtension};

/// A todo the fold says is in progress, with every observer's latest word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoWords {
    pub todo_id: String,
    pub project: String,
    pub content: String,
    pub folded: Status,
    /// `since` is left unknown: ask [`Store::in_progress_since`] for the few
    /// words that matter.
    pub words: Vec<Word>,
}

/// An observation appended by the current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWord {
    pub todo_id: String,
    pub observer: String,
    pub session: Option<String>,
    pub status: Status,
}

/// A `[notify]` event waiting to be sent (or sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyEvent {
    pub key: String,
    pub kind: String,
    /// The event's JSON, as sent.
    pub body: String,
    pub created_at: Timestamp,
    pub attempts: u32,
}

impl SessionRecord {
    /// What the session-state rule needs to know of it.
    pub fn activity(&self) -> Activity {
        Activity {
            last_seen: self.last_seen,
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }
}

fn status_of(text: &str) -> Status {
    Status::parse(text).unwrap_or(Status::Pending)
}

/// Reads a record of the observation log by `seq` (the store's or a
/// transaction's view of it).
type ReadLogged<'a> = &'a dyn Fn(i64) -> Result<Record>;

/// Every observer's latest word on one todo.
fn words_of(conn: &Connection, read: ReadLogged<'_>, todo_id: &str) -> Result<Vec<Word>> {
    let mut stmt = conn.prepare_cached("SELECT seq FROM latest WHERE todo_id = ?1")?;
    let seqs = stmt
        .query_map([todo_id], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    seqs.into_iter()
        .map(|seq| {
            let o = read(seq)?.observation;
            Ok(Word {
                observer: o.observer,
                session: o.session,
                device: o.device,
                status: o.status,
                observed_at: o.observed_at,
                since: None,
            })
        })
        .collect()
}

/// A todo's project, content and folded status.
fn todo_head(conn: &Connection, todo_id: &str) -> Result<Option<(String, String, Status)>> {
    let row = conn
        .prepare_cached("SELECT project, entry, status FROM todos WHERE todo_id = ?1")?
        .query_row([todo_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()?;
    Ok(row.map(|(project, entry, status)| (project, content_of(&entry), status_of(&status))))
}

fn content_of(entry: &str) -> String {
    serde_json::from_str::<serde_json::Value>(entry)
        .ok()
        .and_then(|v| v.get("content")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn todo_words(conn: &Connection, read: ReadLogged<'_>, todo_id: &str) -> Result<Option<TodoWords>> {
    let Some((project, content, folded)) = todo_head(conn, todo_id)? else {
        return Ok(None);
    };
    Ok(Some(TodoWords {
        todo_id: todo_id.to_string(),
        project,
        content,
        folded,
        words: words_of(conn, read, todo_id)?,
    }))
}

fn in_progress_since(
    conn: &Connection,
    read: ReadLogged<'_>,
    todo_id: &str,
    observer: &str,
) -> Result<Option<Timestamp>> {
    let mut words = Vec::new();
    for seq in Store::seqs_of(conn, todo_id)? {
        let o = read(seq)?.observation;
        if o.observer == observer {
            words.push((o.observed_at, seq, o.status));
        }
    }
    // Newest first; a run of in-progress words is short, and a few dozen is
    // plenty to find its start.
    words.sort_unstable_by_key(|w| std::cmp::Reverse((w.0, w.1)));
    let history: Vec<(Status, Timestamp)> = words
        .into_iter()
        .take(256)
        .map(|(at, _, status)| (status, at))
        .collect();
    Ok(chittysync_core::collision::in_progress_since(&history))
}

fn session_activity(conn: &Connection, id: &str) -> Result<Option<Activity>> {
    Ok(conn
        .prepare_cached("SELECT last_seen, started_at, ended_at FROM sessions WHERE id = ?1")?
        .query_row([id], |r| {
            let t = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
                Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp))
            };
            Ok(Activity {
                last_seen: t(0)?,
                started_at: t(1)?,
                ended_at: t(2)?,
            })
        })
        .optional()?)
}

impl Store {
    /// The todos the fold says are in progress (of one project, or all) that
    /// two or more sessions' latest words hold in progress, two of which may
    /// still be active at `active_since` — the candidates for a collision —
    /// each with every observer's latest word.
    ///
    /// A session may be active only if it was last seen (else started) at or
    /// after `active_since`, or if it is not known here (a session of another
    /// device is judged by its words); core's `session_state` decides the
    /// rest. The filters run inside SQLite, cheapest first: the todo's
    /// sessions (every session that ever saw it, a column of the `todos_open`
    /// index) against the `sessions` table, and only for a todo that two such
    /// sessions saw, the observers' latest words. A hook asks this for its
    /// project (docs/COLLISIONS.md); in a project of thousands of todos in
    /// progress, reading every one's words cost most of `session-start`
    /// (docs/BENCHMARKS.md, "The hooks with collisions").
    pub fn contested_todos(
        &self,
        project: Option<&str>,
        active_since: Timestamp,
    ) -> Result<Vec<TodoWords>> {
        const MAY_BE_ACTIVE: &str = "(SELECT count(*) FROM json_each(t.sessions) j
              WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = j.value
                                AND coalesce(s.last_seen, s.started_at, :since - 1) < :since)) >= 2";
        const CONTESTED: &str = "(SELECT count(DISTINCT l.session) FROM latest l
              WHERE l.todo_id = t.todo_id AND l.status = 'in_progress' AND l.session IS NOT NULL) >= 2";
        // Two statements: `?1 IS NULL OR project = ?1` would keep SQLite off the index.
        let since = active_since.millis();
        let ids = match project {
            Some(project) => {
                let mut stmt = self.conn().prepare_cached(&format!(
                    "SELECT t.todo_id FROM todos t
                     WHERE t.project = :project AND t.status = 'in_progress' AND {MAY_BE_ACTIVE} AND {CONTESTED}"
                ))?;
                let rows = stmt
                    .query_map(named_params! {":project": project, ":since": since}, |r| {
                        r.get::<_, String>(0)
                    })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            }
            None => {
                let mut stmt = self.conn().prepare_cached(&format!(
                    "SELECT t.todo_id FROM todos t
                     WHERE t.status = 'in_progress' AND {MAY_BE_ACTIVE} AND {CONTESTED}"
                ))?;
                let rows =
                    stmt.query_map(named_params! {":since": since}, |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(todo_words(self.conn(), &|seq| self.logged(seq), &id)?);
        }
        Ok(out)
    }

    /// Since when an observer has had a todo in progress without a break.
    pub fn in_progress_since(&self, todo_id: &str, observer: &str) -> Result<Option<Timestamp>> {
        in_progress_since(self.conn(), &|seq| self.logged(seq), todo_id, observer)
    }

    /// A session's activity, if it is known here (sessions of other devices
    /// may be known only by their observations).
    pub fn session_activity(&self, id: &str) -> Result<Option<Activity>> {
        session_activity(self.conn(), id)
    }

    /// The `[notify]` events not sent yet that are due at `now`, oldest first.
    pub fn due_notify_events(&self, now: Timestamp) -> Result<Vec<NotifyEvent>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT key, kind, body, created_at, attempts FROM notify_events
             WHERE sent_at IS NULL AND next_try <= ?1 ORDER BY created_at, key",
        )?;
        let rows = stmt.query_map([now.millis()], |r| {
            Ok(NotifyEvent {
                key: r.get(0)?,
                kind: r.get(1)?,
                body: r.get(2)?,
                created_at: Timestamp(r.get(3)?),
                attempts: r.get::<_, i64>(4)? as u32,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many `[notify]` events whose key starts with `prefix` (a
    /// channel's) were sent at or after `since`: the rate limit.
    pub fn notify_sent_since(&self, prefix: &str, since: Timestamp) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM notify_events
             WHERE sent_at >= ?2 AND substr(key, 1, length(?1)) = ?1 AND last_error IS NULL",
            params![prefix, since.millis()],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Whether an event of this key was ever queued.
    pub fn notify_event_known(&self, key: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM notify_events WHERE key = ?1")?
            .query_row([key], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

impl Tx<'_> {
    /// The last observation's local sequence number (0: none yet): what this
    /// transaction appends comes after it.
    pub fn last_seq(&self) -> Result<i64> {
        self.log_seq()
    }

    /// The observations appended after `seq` (by this transaction, which
    /// holds the write lock).
    pub fn words_after(&self, seq: i64) -> Result<Vec<NewWord>> {
        let mut words = Vec::new();
        self.each_logged_after(seq, |record| {
            let o = record.observation;
            words.push(NewWord {
                todo_id: o.todo_id,
                observer: o.observer,
                session: o.session,
                status: o.status,
            });
            Ok(true)
        })?;
        Ok(words)
    }

    /// A todo's head and every observer's latest word, inside this transaction.
    pub fn todo_words(&self, todo_id: &str) -> Result<Option<TodoWords>> {
        todo_words(self.conn(), &|seq| self.logged(seq), todo_id)
    }

    pub fn in_progress_since(&self, todo_id: &str, observer: &str) -> Result<Option<Timestamp>> {
        in_progress_since(self.conn(), &|seq| self.logged(seq), todo_id, observer)
    }

    pub fn session_activity(&self, id: &str) -> Result<Option<Activity>> {
        session_activity(self.conn(), id)
    }

    /// Records that `session` was warned of `other` on a todo; false when it
    /// had been already (then nothing changes).
    pub fn note_warning(
        &self,
        todo_id: &str,
        session: &str,
        other: &str,
        at: Timestamp,
    ) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(
                "INSERT INTO collision_warnings (todo_id, session, other, warned_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![todo_id, session, other, at.millis()])?
            > 0)
    }

    /// Forgets the warnings of a session that let a todo go (either side),
    /// so that taking it again while another holds it warns again.
    pub fn forget_warnings(&self, todo_id: &str, session: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "DELETE FROM collision_warnings WHERE todo_id = ?1 AND (session = ?2 OR other = ?2)",
            )?
            .execute([todo_id, session])?;
        Ok(())
    }

    /// Queues a `[notify]` event unless one of this key was ever queued;
    /// returns whether it is new.
    pub fn queue_notify_event(
        &self,
        key: &str,
        kind: &str,
        body: &str,
        at: Timestamp,
    ) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(
                "INSERT INTO notify_events (key, kind, body, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![key, kind, body, at.millis()])?
            > 0)
    }

    /// Marks an event sent.
    pub fn notify_event_sent(&self, key: &str, at: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE notify_events SET sent_at = ?2, last_error = NULL WHERE key = ?1",
            )?
            .execute(params![key, at.millis()])?;
        Ok(())
    }

    /// Records a failed try; the event is due again at `next_try`.
    pub fn notify_event_failed(&self, key: &str, error: &str, next_try: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE notify_events SET attempts = attempts + 1, last_error = ?2, next_try = ?3 WHERE key = ?1",
            )?
            .execute(params![key, error, next_try.millis()])?;
        Ok(())
    }

    /// Gives an event up (too many tries): it is never sent.
    pub fn notify_event_dropped(&self, key: &str, error: &str, at: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE notify_events SET sent_at = ?3, last_error = ?2, attempts = attempts + 1 WHERE key = ?1",
            )?
            .execute(params![key, format!("dropped: {error}"), at.millis()])?;
        Ok(())
    }
}
