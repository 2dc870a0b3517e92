//! What `status` shows of the hub sync: the hub's record in the engine's one
//! sync state (crates/engine/src/sync.rs, docs/HUB_API.md "Sync state") —
//! the hub the cursors are about, how far the push got (a local sequence
//! number), where the pull stopped (the hub's cursor), the last sync and
//! the failure under way — and the backlog, read from the store alone.

use chittysync_core::Timestamp;
use chittysync_engine::{Reader, StoreError, SyncEvent, Via};

type Result<T> = std::result::Result<T, StoreError>;
use serde::Serialize;

/// The name of the hub's sync state.
pub(crate) const REMOTE: &str = "hub";

/// What `status` shows of the hub sync, read from the store alone (no network).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubSyncState {
    /// The hub the cursors are about, if any sync started.
    pub synced_url: Option<String>,
    /// The last local sequence number the hub acknowledged.
    pub push_seq: i64,
    /// The hub's cursor after the last page pulled.
    pub pull_cursor: String,
    /// Local observations not pushed yet.
    pub backlog: u64,
    /// The last sync that finished (`detail`: how many pushed and pulled).
    pub last_sync: Option<SyncEvent>,
    /// The last push the hub took.
    pub last_push: Option<SyncEvent>,
    /// Why the hub last failed, while it still fails.
    pub last_error: Option<SyncEvent>,
    /// When the current run of failures began.
    pub failing_since: Option<Timestamp>,
}

impl HubSyncState {
    /// Reads the state; `url` is the configured hub (cursors kept for another
    /// hub count as not started: everything is backlog).
    pub fn load(store: Reader<'_>, url: &str) -> Result<HubSyncState> {
        let state = store.sync_state(REMOTE)?;
        let same_hub = state.target.as_deref().map(normalize_url) == Some(normalize_url(url));
        let push_seq = if same_hub { state.push_cursor } else { 0 };
        Ok(HubSyncState {
            synced_url: state.target,
            push_seq,
            pull_cursor: state
                .pull_cursor
                .filter(|_| same_hub)
                .unwrap_or_else(|| "0".to_string()),
            backlog: backlog(store, push_seq)?,
            last_sync: state.last_sync,
            last_push: state.last_push,
            last_error: state.last_error,
            failing_since: state.failing_since,
        })
    }
}

/// Local observations after `push_seq`.
pub(crate) fn backlog(store: Reader<'_>, push_seq: i64) -> Result<u64> {
    const PAGE: usize = 10_000;
    let mut count = 0u64;
    let mut after = push_seq;
    loop {
        let page = store.observations_after(after, Via::Local, PAGE)?;
        count += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.seq,
            _ => return Ok(count),
        }
    }
}

/// Two spellings of one hub compare equal (`http://h:1/` and `http://h:1`).
pub(crate) fn normalize_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}
