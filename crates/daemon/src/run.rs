//! The daemon's life: take the lock, catch up, then consolidate after every
//! burst of file events and on the rescan interval, until a signal.
//!
//! Everything happens on this one thread — the notifier's and the signal
//! handler's threads only post to its channel — so a stop always waits for the
//! consolidation under way, and an idle daemon sleeps in `recv_timeout`.

use crate::heartbeat::Heartbeat;
use crate::lock::DaemonLock;
use crate::wake::{gather, Burst, Wake};
use crate::watch::Watches;
use crate::{signals, DaemonError};
use chittysync_config::{Config, Locations};
use chittysync_core::Timestamp;
use chittysync_engine::{Engine, EngineError, Report};
use chittysync_hubsync::LiveHub;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A burst of events is consolidated at the latest after this many debounce
/// periods, even if the writes never pause.
const LONGEST_BURST_FACTOR: u32 = 10;

/// Warnings logged one by one per run; more are counted.
const WARNINGS_LOGGED: usize = 50;

/// Runs the daemon in the foreground until SIGTERM or SIGINT.
pub fn run(locations: &Locations, config: &Config) -> Result<(), DaemonError> {
    let lock = DaemonLock::acquire(&locations.home)?;
    let (tx, rx) = channel();
    signals::forward(tx.clone())?;
    // `[hub] url` configured: follow the hub (its WebSocket wakes this loop
    // when another device posts, and when a failed sync is due for a retry).
    let hub = {
        let tx = tx.clone();
        match LiveHub::start(config, move || {
            let _ = tx.send(Wake::Hub);
        }) {
            Ok(hub) => hub,
            Err(e) => {
                tracing::error!("sync hub disabled: {e}");
                None
            }
        }
    };
    let mut watches = Watches::new(&locations.claude_dir, move |event| {
        let _ = tx.send(Wake::Fs(event));
    })
    .map_err(DaemonError::Watcher)?;
    let mut daemon = Daemon {
        engine: Engine::open(locations, config)?,
        heartbeat: Heartbeat::new(Timestamp::now()),
        home: locations.home.clone(),
        hub,
    };
    tracing::info!(
        pid = std::process::id(),
        claude_dir = %locations.claude_dir.display(),
        home = %locations.home.display(),
        lock = %lock.path().display(),
        "daemon started"
    );
    // Watch first, then catch up: a write during the catch-up is not missed.
    daemon.note_problems(watches.refresh());
    daemon.consolidate("start");

    let quiet = Duration::from_millis(config.daemon.debounce_ms);
    let longest = (quiet * LONGEST_BURST_FACTOR).max(Duration::from_millis(500));
    let interval = config.daemon.rescan_interval.max(Duration::from_secs(1));
    let mut next_rescan = Instant::now() + interval;
    let stop = loop {
        match rx.recv_timeout(next_rescan.saturating_duration_since(Instant::now())) {
            Ok(Wake::Stop(signal)) => break Some(signal),
            Ok(Wake::Hub) => daemon.sync_hub("hub"),
            Ok(Wake::Fs(event)) => {
                if !relevant(&watches, &event) {
                    continue;
                }
                let mut burst = gather(&rx, quiet, longest, |e| relevant(&watches, e));
                burst.note(&event);
                tracing::debug!(events = burst.relevant, "burst");
                daemon.note_problems(watches.refresh());
                daemon.consolidate_burst(&burst, &locations.claude_dir);
                if burst.stop.is_some() {
                    break burst.stop;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                daemon.note_problems(watches.refresh());
                daemon.heartbeat.last_rescan = Some(Timestamp::now());
                daemon.consolidate("rescan");
                next_rescan = Instant::now() + interval;
            }
            Err(RecvTimeoutError::Disconnected) => break None,
        }
    };
    daemon.heartbeat.stopped_at = Some(Timestamp::now());
    daemon.beat();
    tracing::info!(signal = stop, "daemon stopped");
    drop(lock);
    Ok(())
}

fn relevant(watches: &Watches, event: &notify::Result<notify::Event>) -> bool {
    match event {
        Ok(event) => watches.is_relevant(event),
        Err(e) => {
            // Events may have been lost: the consolidation stats everything anyway.
            tracing::warn!("file watcher: {e}");
            true
        }
    }
}

struct Daemon {
    engine: Engine,
    heartbeat: Heartbeat,
    home: PathBuf,
    /// The sync hub, when `[hub] url` is configured.
    hub: Option<LiveHub>,
}

impl Daemon {
    /// One incremental consolidation (it stats every file, so it also catches
    /// whatever events were missed); failures are logged and counted, never fatal.
    /// Consolidates a burst: only the files it named when every one of them
    /// is a source file (the common case: a session wrote its list), else —
    /// a folder appeared, events were lost — everything, as a rescan does.
    fn consolidate_burst(&mut self, burst: &Burst, claude_dir: &Path) {
        let only_sources = !burst.lost
            && burst
                .paths
                .iter()
                .all(|p| chittysync_sources::classify(claude_dir, p).is_some());
        if only_sources {
            let paths: Vec<PathBuf> = burst.paths.iter().cloned().collect();
            let run = self.engine.consolidate_paths(&paths);
            self.finish_run("change", run);
        } else {
            self.consolidate("change");
        }
    }

    fn consolidate(&mut self, why: &str) {
        let run = self.engine.consolidate(false);
        self.finish_run(why, run);
    }

    /// Logs a run's outcome, counts it in the heartbeat, and syncs with the hub.
    fn finish_run(&mut self, why: &str, run: Result<Report, EngineError>) {
        match run {
            Ok(report) => {
                for warning in report.warnings.iter().take(WARNINGS_LOGGED) {
                    tracing::warn!("{warning}");
                }
                if report.warnings.len() > WARNINGS_LOGGED {
                    tracing::warn!(
                        "… and {} more warnings in this run",
                        report.warnings.len() - WARNINGS_LOGGED
                    );
                }
                let s = &report.summary;
                let busy = s.files_changed > 0 || s.observations > 0;
                if busy {
                    tracing::info!(
                        why,
                        files_changed = s.files_changed,
                        observations = s.observations,
                        todos = s.unique_todos,
                        elapsed_ms = s.elapsed_ms,
                        "consolidated"
                    );
                } else {
                    tracing::debug!(why, elapsed_ms = s.elapsed_ms, "nothing changed");
                }
                self.heartbeat.record_run(&report, Timestamp::now());
            }
            Err(e) => {
                tracing::error!(why, "consolidation failed: {e}");
                self.heartbeat.record_error(e.to_string(), Timestamp::now());
            }
        }
        self.sync_hub(why);
        self.beat();
    }

    /// Pushes what was just consolidated and pulls other devices' news. A
    /// failure is logged (and kept for `status`); the hub link schedules a
    /// retry with backoff, and nothing is lost meanwhile.
    fn sync_hub(&mut self, why: &str) {
        let Some(hub) = self.hub.as_mut() else {
            return;
        };
        match hub.sync(&mut self.engine) {
            Ok(r) if r.pushed > 0 || r.pulled > 0 => tracing::info!(
                why,
                pushed = r.pushed,
                pulled = r.pulled,
                cursor = %r.cursor,
                elapsed_ms = r.elapsed_ms,
                "synced with the hub"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(why, "hub sync failed (retried with backoff): {e}"),
        }
    }

    fn note_problems(&mut self, problems: Vec<String>) {
        for problem in problems {
            tracing::error!("{problem}");
            self.heartbeat.last_error = Some(crate::heartbeat::LastError {
                at: Timestamp::now(),
                message: problem,
            });
        }
    }

    fn beat(&mut self) {
        if let Err(e) = self.heartbeat.write(&self.home, Timestamp::now()) {
            tracing::error!("cannot write the heartbeat: {e}");
        }
    }
}
