//! What the git sync remembers between runs: the `git` record of the
//! engine's one sync state (crates/engine/src/sync.rs, docs/GIT_SYNC.md
//! "One sync interface") — where the export stopped (its push cursor) and
//! which commit's logs are imported (its pull cursor), both kept by the
//! engine's loop, the last push and the failure under way — with two marks
//! of its own in the record's notes: which snapshot is current, and the last
//! restore of lost logs.

use chittysync_core::Timestamp;
use chittysync_engine::{Engine, EngineError, Reader, StoreError, SyncEvent};

type Result<T> = std::result::Result<T, StoreError>;
use git2::Oid;
use serde::{Deserialize, Serialize};

/// The name of the git sync's state.
pub(crate) const REMOTE: &str = "git";
const SNAPSHOT: &str = "snapshot";
const LAST_RESTORE: &str = "last_restore";

/// The snapshot blobs last rendered, and the fold generation they show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotMark {
    pub generation: u64,
    pub todos: Oid,
    pub coordination: Oid,
}

/// The snapshot blobs last rendered (kept in the git record's notes).
pub fn snapshot_mark(store: Reader<'_>) -> Result<Option<SnapshotMark>> {
    Ok(store.sync_state(REMOTE)?.notes.get(SNAPSHOT).and_then(|v| {
        let mut parts = v.split(' ');
        Some(SnapshotMark {
            generation: parts.next()?.parse().ok()?,
            todos: parts.next()?.parse().ok()?,
            coordination: parts.next()?.parse().ok()?,
        })
    }))
}

pub fn save_snapshot_mark(
    engine: &mut Engine,
    mark: Option<SnapshotMark>,
) -> std::result::Result<(), EngineError> {
    engine
        .update_sync_state(REMOTE, |state| match mark {
            Some(s) => {
                state.notes.insert(
                    SNAPSHOT.into(),
                    format!("{} {} {}", s.generation, s.todos, s.coordination),
                );
            }
            None => {
                state.notes.remove(SNAPSHOT);
            }
        })
        .map(drop)
}

/// A moment worth showing in `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    /// The commit pushed, or what failed.
    pub detail: String,
}

impl From<SyncEvent> for Event {
    fn from(e: SyncEvent) -> Event {
        Event {
            at: e.at,
            detail: e.detail,
        }
    }
}

pub fn record_push(engine: &mut Engine, commit: Oid) -> std::result::Result<(), EngineError> {
    engine
        .update_sync_state(REMOTE, |s| {
            s.last_push = Some(SyncEvent::now(commit.to_string()))
        })
        .map(drop)
}

/// Records that logs the remote lost were restored (what, and the commit).
pub fn record_restore(engine: &mut Engine, detail: &str) -> std::result::Result<(), EngineError> {
    let event = serde_json::to_string(&SyncEvent::now(detail)).unwrap_or_default();
    engine
        .update_sync_state(REMOTE, |s| {
            s.notes.insert(LAST_RESTORE.into(), event);
        })
        .map(drop)
}

/// What `status` shows: a remote's last push, error and restore, and since
/// when it fails.
type Shown = (
    Option<Event>,
    Option<Event>,
    Option<Event>,
    Option<Timestamp>,
);

/// The last push, error and restore, and since when the remote fails, for `status`.
pub fn events(store: Reader<'_>) -> Result<Shown> {
    let state = store.sync_state(REMOTE)?;
    let restore = state
        .notes
        .get(LAST_RESTORE)
        .and_then(|v| serde_json::from_str::<Event>(v).ok());
    Ok((
        state.last_push.map(Event::from),
        state.last_error.map(Event::from),
        restore,
        state.failing_since,
    ))
}
