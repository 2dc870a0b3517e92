//! What the sync remembers between runs, in the store's meta table: where the
//! export stopped, which commit's logs are imported, which snapshot is current,
//! and the last push, error and restored logs for `status`.

use chittysync_core::Timestamp;
use chittysync_engine::{Engine, EngineError};
use chittysync_store::{Result, Store};
use git2::Oid;
use serde::{Deserialize, Serialize};

const EXPORT_SEQ: &str = "git.export_seq";
const IMPORTED: &str = "git.imported_commit";
const SNAPSHOT: &str = "git.snapshot";
const LAST_PUSH: &str = "git.last_push";
const LAST_ERROR: &str = "git.last_error";
const LAST_RESTORE: &str = "git.last_restore";

/// The snapshot blobs last rendered, and the fold generation they show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotMark {
    pub generation: u64,
    pub todos: Oid,
    pub coordination: Oid,
}

/// The cursors of one sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursors {
    /// The last local sequence number written to this device's log.
    pub export_seq: i64,
    /// The commit whose logs are all in the store.
    pub imported: Option<Oid>,
    pub snapshot: Option<SnapshotMark>,
}

impl Cursors {
    pub fn load(store: &Store) -> Result<Cursors> {
        let snapshot = store.meta(SNAPSHOT)?.and_then(|v| {
            let mut parts = v.split(' ');
            Some(SnapshotMark {
                generation: parts.next()?.parse().ok()?,
                todos: parts.next()?.parse().ok()?,
                coordination: parts.next()?.parse().ok()?,
            })
        });
        Ok(Cursors {
            export_seq: store
                .meta(EXPORT_SEQ)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            imported: store.meta(IMPORTED)?.and_then(|v| v.parse().ok()),
            snapshot,
        })
    }

    /// Saved after the branch moved: a crash between the two makes the next
    /// sync write a few log lines again, which importers ignore by id.
    pub fn save(&self, engine: &mut Engine) -> std::result::Result<(), EngineError> {
        let mut meta = vec![(EXPORT_SEQ, self.export_seq.to_string())];
        if let Some(imported) = self.imported {
            meta.push((IMPORTED, imported.to_string()));
        }
        if let Some(s) = self.snapshot {
            meta.push((
                SNAPSHOT,
                format!("{} {} {}", s.generation, s.todos, s.coordination),
            ));
        }
        engine.record_sync(&meta)
    }
}

/// A moment worth showing in `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    /// The commit pushed, or what failed.
    pub detail: String,
}

fn set_event(
    engine: &mut Engine,
    key: &str,
    event: Option<&Event>,
) -> std::result::Result<(), EngineError> {
    let value = event
        .map(|e| serde_json::to_string(e).unwrap_or_default())
        .unwrap_or_default();
    engine.record_sync(&[(key, value)])
}

fn get_event(store: &Store, key: &str) -> Result<Option<Event>> {
    Ok(store.meta(key)?.and_then(|v| serde_json::from_str(&v).ok()))
}

pub fn record_push(engine: &mut Engine, commit: Oid) -> std::result::Result<(), EngineError> {
    set_event(
        engine,
        LAST_PUSH,
        Some(&Event {
            at: Timestamp::now(),
            detail: commit.to_string(),
        }),
    )
}

/// Records why the remote failed, or (`None`) that it answered again.
pub fn record_error(
    engine: &mut Engine,
    message: Option<&str>,
) -> std::result::Result<(), EngineError> {
    let event = message.map(|m| Event {
        at: Timestamp::now(),
        detail: m.to_string(),
    });
    if event.is_none()
        && engine
            .store()
            .meta(LAST_ERROR)?
            .is_none_or(|v| v.is_empty())
    {
        return Ok(());
    }
    set_event(engine, LAST_ERROR, event.as_ref())
}

/// Records that logs the remote lost were restored (what, and the commit).
pub fn record_restore(engine: &mut Engine, detail: &str) -> std::result::Result<(), EngineError> {
    set_event(
        engine,
        LAST_RESTORE,
        Some(&Event {
            at: Timestamp::now(),
            detail: detail.to_string(),
        }),
    )
}

pub fn last_restore(store: &Store) -> Result<Option<Event>> {
    get_event(store, LAST_RESTORE)
}

pub fn last_push(store: &Store) -> Result<Option<Event>> {
    get_event(store, LAST_PUSH)
}

pub fn last_error(store: &Store) -> Result<Option<Event>> {
    get_event(store, LAST_ERROR)
}
