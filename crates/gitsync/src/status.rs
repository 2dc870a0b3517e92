//! What `chittysync status` shows of the git sync.

use crate::error::GitSyncError;
use crate::repo::GitSync;
use crate::settings::GitSettings;
use crate::state::{self, Event};
use chittysync_core::Timestamp;
use chittysync_engine::Reader;
use serde::Serialize;

/// The sync repository's state.
#[derive(Debug, Clone, Serialize)]
pub struct GitStatus {
    pub repo: String,
    pub branch: String,
    pub remote: Option<String>,
    /// The branch's commit.
    pub head: Option<String>,
    /// When that commit was made, and its first line (the daemon's last
    /// commit, or another device's that this one merged).
    pub last_commit: Option<Event>,
    /// Commits waiting for the remote.
    pub ahead: u64,
    pub last_push: Option<Event>,
    /// Why the remote last failed (unreachable, or it refused the push, in
    /// its words), while it still fails.
    pub last_error: Option<Event>,
    /// When the current run of failures began.
    pub failing_since: Option<Timestamp>,
    /// The last time logs the remote had deleted or shortened were restored.
    pub last_restore: Option<Event>,
}

/// The status, or `None` when no sync repository was set up.
pub fn status(
    settings: &GitSettings,
    store: Option<Reader<'_>>,
) -> Result<Option<GitStatus>, GitSyncError> {
    let sync = match GitSync::open(settings) {
        Ok(sync) => sync,
        Err(GitSyncError::NotInitialized { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let (last_push, last_error, last_restore, failing_since) = match store {
        Some(store) => state::events(store)?,
        None => (None, None, None, None),
    };
    let tip = sync.tip()?;
    let head = tip.as_ref().map(|c| c.id().to_string());
    let last_commit = tip.as_ref().map(|c| Event {
        at: Timestamp::from_millis(c.time().seconds() * 1000),
        detail: c.summary().ok().flatten().unwrap_or("").to_string(),
    });
    Ok(Some(GitStatus {
        repo: sync.repo_path().display().to_string(),
        branch: sync.branch().to_string(),
        remote: sync.remote_url().map(str::to_string),
        head,
        last_commit,
        ahead: sync.ahead()?,
        last_push,
        last_error,
        failing_since,
        last_restore,
    }))
}
