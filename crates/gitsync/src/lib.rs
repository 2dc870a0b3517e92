//! Git sync: chittysync's history, shared across machines through any git
//! remote (docs/GIT_SYNC.md).
//!
//! A sync repository (`<home>/git` by default) holds one append-only
//! observation log per device and the snapshots regenerated from the fold of
//! all of them ([`layout`]). A sync pulls, imports other devices' new log
//! lines into the local store, appends this device's new observations to its
//! own log, regenerates the snapshots, commits and pushes — the engine's one
//! sync loop over the repository as a [`GitRemote`] (docs/GIT_SYNC.md, "One
//! sync interface"). Histories that
//! diverged merge without textual conflicts, a rejected push is merged and
//! retried, and an unreachable remote only delays the push.
//!
//! # For the daemon
//!
//! ```no_run
//! # fn demo(locations: &chittysync_config::Locations, config: &chittysync_config::Config,
//! #         engine: &mut chittysync_engine::Engine) -> Result<(), chittysync_gitsync::GitSyncError> {
//! use chittysync_gitsync::{GitSettings, GitSync, GitSyncError};
//! use std::time::Instant;
//!
//! let settings = GitSettings::new(locations, &config.git);
//! let mut git = match GitSync::open(&settings) {
//!     Ok(git) => git,
//!     Err(GitSyncError::NotInitialized { .. }) => return Ok(()), // no git sync set up
//!     Err(e) => return Err(e),
//! };
//! // After each consolidation (commits at most once per `commit_interval`):
//! git.commit_if_due(engine, Instant::now())?;
//! // On a timer, every few seconds (pulls and pushes once per `push_interval`,
//! // and retries an unreachable remote with backoff):
//! git.push_if_due(engine, Instant::now())?;
//! // At session end: everything, now.
//! git.sync_once(engine)?;
//! # Ok(()) }
//! ```
//!
//! Each returns a [`SyncReport`]; an unreachable remote is not an error (see
//! [`SyncReport::offline`] and [`SyncReport::ahead`]).
//!
//! Besides syncing: [`merge_files`] is the merge driver for any repository's
//! `todos.json`, [`install_merge_driver`] installs it, and
//! [`GitSync::observations_at`] reads the observations of a past commit (what
//! `chittysync rollback --to COMMIT` restores, through the engine's rollback).

mod as_remote;
mod error;
mod export;
mod import;
mod install;
pub mod layout;
mod lock;
mod log;
mod maintenance;
pub mod marker;
mod merge_driver;
mod message;
mod past;
mod remote;
mod repo;
mod schedule;
mod settings;
mod snapshot;
mod state;
mod status;
mod sync;
mod tree;

pub use as_remote::{GitCursor, GitRemote};
pub use error::GitSyncError;
pub use install::{install_merge_driver, Installed, ATTRIBUTES_LINE};
pub use merge_driver::{merge_files, MergeDriverError, MergedFile};
pub use past::CommitObservations;
pub use repo::{GitSync, InitReport};
pub use settings::GitSettings;
pub use state::Event;
pub use status::{status, GitStatus};
pub use sync::{Integration, SyncReport};
