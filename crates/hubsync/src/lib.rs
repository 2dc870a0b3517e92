//! The sync hub's client side (docs/HUB_API.md; issue 5): a device pushes the
//! observations it made to the hub and pulls the other devices' from it.
//!
//! - [`HubSync::sync_once`] — the engine's one sync loop
//!   ([`chittysync_engine::Engine::sync_remote`]) over the hub as a
//!   [`chittysync_engine::Remote`]: push every local observation the hub has
//!   not acknowledged (batches of 1,000; the push cursor, a local sequence
//!   number in the hub's sync state, moves only after the hub answered),
//!   pull what the hub stored since the last pull (`GET
//!   /api/todos/since/{cursor}`, page by page; each page is ingested
//!   `Via::Hub` together with the cursor after it), then rewrite the outputs
//!   if the fold changed. `chittysync sync` and the daemon call it; offline it
//!   fails with [`HubSyncError::Unreachable`] and nothing is lost.
//! - [`LiveHub`] — for the daemon: the same sync plus a WebSocket
//!   subscription that calls a wake function when another device posts, and
//!   schedules a wake after a failed sync (exponential [`Backoff`], capped).
//! - [`HubSyncState`] — what `status` shows, read from the store alone.

#![forbid(unsafe_code)]

mod error;
mod live;
mod state;
mod sync;

/// The one backoff of the git and hub syncs (exponential, capped, with jitter).
pub use chittysync_engine::Backoff;
pub use error::HubSyncError;
pub use live::{Live, LiveHub};
pub use state::HubSyncState;
pub use sync::{
    client_options, configured_url, HubCursor, HubSync, HubSyncReport, DEFAULT_PULL_PAGE,
    DEFAULT_PUSH_BATCH,
};
