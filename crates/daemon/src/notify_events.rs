//! The daemon's `[notify]` events (SPEC §14, docs/COLLISIONS.md, "Telling
//! the person"): after each consolidation, hub sync and git tick it queues
//! what the picture has to tell — collisions, plans completed, sessions gone
//! stale, syncs failing — and wakes the sender thread.

use chittysync_config::Config;
use chittysync_core::Timestamp;
use chittysync_engine::Engine;
use chittysync_notify::{note_sync, queue_picture, NotifyError, Worker};

/// Where gitsync records why the remote last failed, while it still fails
/// (crates/gitsync/src/state.rs; empty once it answers again).
const GIT_LAST_ERROR: &str = "git.last_error";

/// The sender and the config it needs, when `[notify]` is on.
pub(crate) struct Notifier {
    worker: Worker,
    config: Config,
}

impl Notifier {
    /// Starts the sender, or None when `[notify]` is off or unusable (logged).
    pub(crate) fn start(store_path: std::path::PathBuf, config: &Config) -> Option<Notifier> {
        match Worker::start(store_path, config.notify.clone()) {
            Ok(worker) => worker.map(|worker| Notifier {
                worker,
                config: config.clone(),
            }),
            Err(e) => {
                tracing::error!("notifications disabled: {e}");
                None
            }
        }
    }

    /// Notes how a sync went (`hub`; git's is read from gitsync's record).
    pub(crate) fn note_sync(&self, engine: &mut Engine, sync: &str, failure: Option<String>) {
        if let Err(e) = note_sync(
            engine.store_mut(),
            sync,
            failure.as_deref(),
            Timestamp::now(),
        ) {
            tracing::error!("notify: {e}");
        }
    }

    /// Queues the events not told yet and wakes the sender.
    pub(crate) fn raise(&self, engine: &mut Engine) {
        let now = Timestamp::now();
        let device = engine.device().to_string();
        let queued = self
            .note_git(engine, now)
            .and_then(|()| queue_picture(engine.store_mut(), &self.config, &device, now));
        match queued {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(events = n, "events to notify");
                self.worker.wake();
            }
            Err(e) => tracing::error!("notify: {e}"),
        }
    }

    fn note_git(&self, engine: &mut Engine, now: Timestamp) -> Result<(), NotifyError> {
        let failure = engine
            .store()
            .meta(GIT_LAST_ERROR)?
            .and_then(|v| serde_json::from_str::<chittysync_gitsync::Event>(&v).ok())
            .map(|e| e.detail);
        note_sync(engine.store_mut(), "git", failure.as_deref(), now)?;
        Ok(())
    }
}
