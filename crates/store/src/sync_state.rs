//! What each sync remote (`git`, `hub`) remembers between runs: one typed
//! record per remote (docs/GIT_SYNC.md and docs/HUB_API.md, "Sync state"),
//! kept in the meta table under `sync.<remote>` as JSON. The engine writes
//! it (crates/engine/src/sync_state.rs); `status`, the daemon and notify's
//! `sync_failing` read it.
//!
//! Stores written before this record kept the same things under keys of
//! each backend's own (`git.export_seq`, `hub.push_seq`, …, and notify's
//! `notify.sync_failing.<remote>`): while a remote has no record yet, it is
//! read from those ([`legacy`]); once it is written, they are no longer read.

use crate::{Result, Store, Tx};
use chittysync_core::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The remotes a device syncs with.
pub const REMOTES: [&str; 2] = ["git", "hub"];

/// A moment worth showing: when, and what (the commit pushed, what failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncEvent {
    pub at: Timestamp,
    pub detail: String,
}

impl SyncEvent {
    pub fn now(detail: impl Into<String>) -> SyncEvent {
        SyncEvent {
            at: Timestamp::now(),
            detail: detail.into(),
        }
    }
}

/// One remote's cursors and history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// What the cursors are about (the hub's URL): cursors kept for another
    /// target count as none. `None` when the backend does not say.
    #[serde(default)]
    pub target: Option<String>,
    /// The last local sequence number the remote holds (pushed to the hub,
    /// written to this device's git log).
    #[serde(default)]
    pub push_cursor: i64,
    /// Where the next pull resumes, in the remote's own terms (the hub's
    /// cursor; the git commit whose logs are all in the store). `None`
    /// before the first pull.
    #[serde(default)]
    pub pull_cursor: Option<String>,
    /// The last push the remote accepted.
    #[serde(default)]
    pub last_push: Option<SyncEvent>,
    /// The last sync that finished (pushed and pulled).
    #[serde(default)]
    pub last_sync: Option<SyncEvent>,
    /// Why the remote last failed, while it still fails (cleared by a success).
    #[serde(default)]
    pub last_error: Option<SyncEvent>,
    /// When the current run of failures began (cleared by a success).
    #[serde(default)]
    pub failing_since: Option<Timestamp>,
    /// A backend's own marks (git: the snapshot blobs rendered, the last
    /// restore of logs the remote lost).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, String>,
}

impl SyncState {
    /// Notes a failure: the message is the latest, the run of failures
    /// keeps its start.
    pub fn failed(&mut self, message: &str, at: Timestamp) {
        self.failing_since.get_or_insert(at);
        self.last_error = Some(SyncEvent {
            at,
            detail: message.to_string(),
        });
    }

    /// Notes that the remote answered: no failure runs any more.
    pub fn answered(&mut self) {
        self.failing_since = None;
        self.last_error = None;
    }

    /// Forgets the cursors (another target, or a remote that lost data).
    pub fn restart(&mut self, target: Option<String>) {
        self.target = target;
        self.push_cursor = 0;
        self.pull_cursor = None;
    }
}

fn key(remote: &str) -> String {
    format!("sync.{remote}")
}

/// Reads `remote`'s record through `meta`, from the legacy keys when there is none.
fn load(remote: &str, meta: impl Fn(&str) -> Result<Option<String>>) -> Result<SyncState> {
    if let Some(state) = meta(&key(remote))?.and_then(|v| serde_json::from_str(&v).ok()) {
        return Ok(state);
    }
    legacy(remote, meta)
}

/// What a store written before `sync.<remote>` existed says (see the module doc).
pub fn legacy(remote: &str, meta: impl Fn(&str) -> Result<Option<String>>) -> Result<SyncState> {
    #[derive(Deserialize)]
    struct Event {
        at: Timestamp,
        #[serde(alias = "message")]
        detail: String,
    }
    #[derive(Deserialize)]
    struct HubSync {
        at: Timestamp,
        pushed: u64,
        pulled: u64,
    }
    #[derive(Deserialize)]
    struct Failing {
        since: Timestamp,
    }
    let json =
        |key: &str| -> Result<Option<String>> { Ok(meta(key)?.filter(|v| !v.trim().is_empty())) };
    let event = |key: &str| -> Result<Option<SyncEvent>> {
        Ok(json(key)?
            .and_then(|v| serde_json::from_str::<Event>(&v).ok())
            .map(|e| SyncEvent {
                at: e.at,
                detail: e.detail,
            }))
    };
    let number =
        |key: &str| -> Result<i64> { Ok(json(key)?.and_then(|v| v.parse().ok()).unwrap_or(0)) };
    let failing_since = json(&format!("notify.sync_failing.{remote}"))?
        .and_then(|v| serde_json::from_str::<Failing>(&v).ok())
        .map(|f| f.since);
    let mut state = SyncState::default();
    match remote {
        "git" => {
            state.push_cursor = number("git.export_seq")?;
            state.pull_cursor = json("git.imported_commit")?;
            state.last_push = event("git.last_push")?;
            // Set while the remote failed, emptied once it answered.
            state.last_error = event("git.last_error")?;
            if let Some(mark) = json("git.snapshot")? {
                state.notes.insert("snapshot".into(), mark);
            }
            if let Some(restore) = json("git.last_restore")? {
                state.notes.insert("last_restore".into(), restore);
            }
        }
        "hub" => {
            state.target =
                json("hub.url")?.map(|url| url.trim().trim_end_matches('/').to_ascii_lowercase());
            state.push_cursor = number("hub.push_seq")?;
            state.pull_cursor = json("hub.pull_cursor")?;
            state.last_sync = json("hub.last_sync")?
                .and_then(|v| serde_json::from_str::<HubSync>(&v).ok())
                .map(|s| SyncEvent {
                    at: s.at,
                    detail: format!("{} pushed, {} pulled", s.pushed, s.pulled),
                });
            // Never cleared: a failure counts only if no sync finished after it.
            state.last_error = event("hub.last_error")?
                .filter(|e| state.last_sync.as_ref().is_none_or(|s| s.at < e.at));
        }
        _ => {}
    }
    state.failing_since = state
        .last_error
        .as_ref()
        .map(|e| failing_since.unwrap_or(e.at));
    Ok(state)
}

impl Store {
    /// `remote`'s record (an empty one before its first sync).
    pub fn sync_state(&self, remote: &str) -> Result<SyncState> {
        load(remote, |k| self.meta(k))
    }
}

impl Tx<'_> {
    pub fn sync_state(&self, remote: &str) -> Result<SyncState> {
        load(remote, |k| self.meta(k))
    }

    pub fn set_sync_state(&self, remote: &str, state: &SyncState) -> Result<()> {
        // Serializing plain strings and numbers cannot fail.
        let text = serde_json::to_string(state).expect("a sync state serializes");
        self.set_meta(&key(remote), &text)
    }
}
