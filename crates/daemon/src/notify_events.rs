//! The daemon's `[notify]` events (docs/COLLISIONS.md, "Telling
//! the person"): after each consolidation, hub sync and git tick it queues
//! what the picture has to tell — collisions, plans completed, sessions gone
//! stale, syncs failing (read from each remote's sync state, which the
//! engine's sync records: crates/engine/src/sync.rs) — and wakes the sender
//! thread.
//!
//! The queue is notify's own ledger in the store: like the sender thread and
//! `chittysync notify`, the notifier writes it through a connection of its
//! own (a [`Ledger`]), never through the engine's.

use chittysync_config::Config;
use chittysync_core::Timestamp;
use chittysync_engine::Ledger;
use chittysync_notify::{queue_picture, Worker};

/// The sender, the ledger and the config they need, when `[notify]` is on.
pub(crate) struct Notifier {
    worker: Worker,
    ledger: Ledger,
    config: Config,
    device: String,
}

impl Notifier {
    /// Starts the sender, or None when `[notify]` is off or unusable (logged).
    pub(crate) fn start(store_path: std::path::PathBuf, config: &Config) -> Option<Notifier> {
        let ledger = match Ledger::open(&store_path) {
            Ok(ledger) => ledger,
            Err(e) => {
                tracing::error!("notifications disabled: {e}");
                return None;
            }
        };
        match Worker::start(store_path, config.notify.clone()) {
            Ok(worker) => worker.map(|worker| Notifier {
                worker,
                ledger,
                config: config.clone(),
                device: config.device_name(),
            }),
            Err(e) => {
                tracing::error!("notifications disabled: {e}");
                None
            }
        }
    }

    /// Queues the events not told yet and wakes the sender.
    pub(crate) fn raise(&mut self) {
        let now = Timestamp::now();
        match queue_picture(&mut self.ledger, &self.config, &self.device, now) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(events = n, "events to notify");
                self.worker.wake();
            }
            Err(e) => tracing::error!("notify: {e}"),
        }
    }
}
