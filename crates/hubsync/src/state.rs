//! What the hub sync remembers between runs, in the store's meta table: the
//! hub it syncs with, how far the push got (a local sequence number), where
//! the pull stopped (the hub's cursor), and the last sync and error for
//! `status`.

use chittysync_core::Timestamp;
use chittysync_engine::{Engine, EngineError};
use chittysync_store::{Result, Store, Via};
use serde::{Deserialize, Serialize};

pub(crate) const URL: &str = "hub.url";
pub(crate) const PUSH_SEQ: &str = "hub.push_seq";
pub(crate) const PULL_CURSOR: &str = "hub.pull_cursor";
pub(crate) const LAST_SYNC: &str = "hub.last_sync";
pub(crate) const LAST_ERROR: &str = "hub.last_error";

/// The cursors of one hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursors {
    /// The hub these cursors are about (a different hub starts from zero).
    pub url: Option<String>,
    /// The last local sequence number the hub acknowledged.
    pub push_seq: i64,
    /// The hub's cursor after the last page ingested.
    pub pull_cursor: String,
}

impl Cursors {
    pub fn load(store: &Store) -> Result<Cursors> {
        Ok(Cursors {
            url: store.meta(URL)?,
            push_seq: store
                .meta(PUSH_SEQ)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            pull_cursor: store.meta(PULL_CURSOR)?.unwrap_or_else(|| "0".to_string()),
        })
    }

    /// The meta values that hold these cursors, for [`Engine::ingest_remote`].
    pub fn meta(&self) -> Vec<(&'static str, String)> {
        let mut meta = vec![
            (PUSH_SEQ, self.push_seq.to_string()),
            (PULL_CURSOR, self.pull_cursor.clone()),
        ];
        if let Some(url) = &self.url {
            meta.push((URL, url.clone()));
        }
        meta
    }

    pub fn save(&self, engine: &mut Engine) -> std::result::Result<(), EngineError> {
        engine.record_sync(&self.meta())
    }
}

/// The last sync that finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSync {
    pub at: Timestamp,
    pub pushed: u64,
    pub pulled: u64,
}

/// The last sync that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub at: Timestamp,
    pub message: String,
}

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
    pub last_sync: Option<LastSync>,
    pub last_error: Option<LastError>,
}

impl HubSyncState {
    /// Reads the state; `url` is the configured hub (cursors kept for another
    /// hub count as not started: everything is backlog).
    pub fn load(store: &Store, url: &str) -> Result<HubSyncState> {
        let cursors = Cursors::load(store)?;
        let same_hub = cursors.url.as_deref().map(normalize_url) == Some(normalize_url(url));
        let push_seq = if same_hub { cursors.push_seq } else { 0 };
        Ok(HubSyncState {
            synced_url: cursors.url,
            push_seq,
            pull_cursor: if same_hub {
                cursors.pull_cursor
            } else {
                "0".to_string()
            },
            backlog: backlog(store, push_seq)?,
            last_sync: json(store, LAST_SYNC)?,
            last_error: json(store, LAST_ERROR)?,
        })
    }
}

fn json<T: for<'de> Deserialize<'de>>(store: &Store, key: &str) -> Result<Option<T>> {
    Ok(store.meta(key)?.and_then(|v| serde_json::from_str(&v).ok()))
}

/// Local observations after `push_seq`.
pub(crate) fn backlog(store: &Store, push_seq: i64) -> Result<u64> {
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

pub(crate) fn record_success(
    engine: &mut Engine,
    last: &LastSync,
) -> std::result::Result<(), EngineError> {
    engine.record_sync(&[(LAST_SYNC, serde_json::to_string(last).unwrap_or_default())])
}

pub(crate) fn record_error(
    engine: &mut Engine,
    error: &LastError,
) -> std::result::Result<(), EngineError> {
    engine.record_sync(&[(LAST_ERROR, serde_json::to_string(error).unwrap_or_default())])
}

/// Two spellings of one hub compare equal (`http://h:1/` and `http://h:1`).
pub(crate) fn normalize_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}
