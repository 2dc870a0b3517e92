//! The daemon's life: take the lock, catch up, then consolidate after every
//! burst of file events and on the rescan interval, until a signal.
//!
//! Everything happens on this one thread — the notifier's and the signal
//! handler's threads only post to its channel — so a stop always waits for the
//! consolidation under way, and an idle daemon sleeps in `recv_timeout`.

use crate::git_timer::GitTimer;
use crate::heartbeat::Heartbeat;
use crate::lock::DaemonLock;
use crate::wake::{gather, Burst, Wake};
use crate::watch::Watches;
use crate::{signals, DaemonError};
use chittysync_config::{Config, Locations};
use chittysync_core::Timestamp;
use chittysync_engine::{
    remove_abandoned_temporaries, Engine, EngineError, Ledger, Report, Staged,
};
use chittysync_hubsync::LiveHub;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A burst of events is consolidated at the latest after this many debounce
/// periods, even if the writes never pause.
const LONGEST_BURST_FACTOR: u32 = 10;

/// The events of one write (a file written, then renamed into place) come
/// within this of each other: consolidation starts once they have.
const ONE_WRITE: Duration = Duration::from_millis(10);

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
        match LiveHub::start(config, locations, move || {
            let _ = tx.send(Wake::Hub);
        }) {
            Ok(hub) => hub,
            Err(e) => {
                tracing::error!("sync hub disabled: {e}");
                None
            }
        }
    };
    let engine = Engine::open(locations, config)?;
    // `chittysync consolidate` asks here instead of scanning (issue 13).
    if let Err(e) = crate::control::listen(&locations.home, tx.clone()) {
        tracing::error!("control socket disabled: {e}");
    }
    let mut watches = Watches::new(engine.sources(), move |event| {
        let _ = tx.send(Wake::Fs(event));
    })
    .map_err(DaemonError::Watcher)?;
    for (agent, dir) in engine.sources().roots() {
        tracing::info!(agent = %agent, dir = %dir.display(), "reading");
    }
    // `[notify]` on: events are sent from a thread of their own (docs/COLLISIONS.md).
    let notify = crate::notify_events::Notifier::start(locations.store_path(), config);
    // `chittysync git init` done: commit, pull and push on the intervals (docs/GIT_SYNC.md).
    let git = GitTimer::open(locations, config, &engine);
    let mut daemon = Daemon {
        git,
        engine,
        heartbeat: Heartbeat::new(Timestamp::now()),
        home: locations.home.clone(),
        hub,
        // `[spawn] enabled = true`: specialist agents (docs/TOPICS.md), with
        // their ledger in the store written through a connection of their own.
        spawner: crate::spawn::Spawner::new(
            &config.spawn,
            config.topics.rules(),
            &locations.home,
            &locations.store_path(),
            &config.device_name(),
        )
        .and_then(|spawner| match Ledger::open(&locations.store_path()) {
            Ok(ledger) => Some((spawner, ledger)),
            Err(e) => {
                tracing::error!("specialist agents disabled: {e}");
                None
            }
        }),
        notify,
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
    daemon.tidy();
    daemon.consolidate("start");

    let quiet = Duration::from_millis(config.daemon.debounce_ms);
    let debounce = Debounce {
        quiet,
        longest: (quiet * LONGEST_BURST_FACTOR).max(Duration::from_millis(500)),
    };
    let interval = config.daemon.rescan_interval.max(Duration::from_secs(1));
    let mut next_rescan = Instant::now() + interval;
    let stop = loop {
        let wake_at = daemon
            .git
            .as_ref()
            .map_or(next_rescan, |g| g.next_tick().min(next_rescan));
        match rx.recv_timeout(wake_at.saturating_duration_since(Instant::now())) {
            Ok(Wake::Stop(signal)) => break Some(signal),
            Ok(Wake::Control(reply)) => daemon.answer(vec![reply]),
            Ok(Wake::Hub) => {
                daemon.sync_hub("hub");
                daemon.queue_notifications();
            }
            Ok(Wake::Fs(event)) => {
                if !relevant(&watches, &event) {
                    continue;
                }
                let stop = daemon.settle_burst(&event, &rx, &mut watches, &debounce);
                if stop.is_some() {
                    break stop;
                }
            }
            Err(RecvTimeoutError::Timeout) if Instant::now() < next_rescan => daemon.tick_git(),
            Err(RecvTimeoutError::Timeout) => {
                daemon.note_problems(watches.refresh());
                daemon.heartbeat.last_rescan = Some(Timestamp::now());
                daemon.tidy();
                daemon.consolidate("rescan");
                next_rescan = Instant::now() + interval;
            }
            Err(RecvTimeoutError::Disconnected) => break None,
        }
    };
    if let Some((spawner, _)) = &daemon.spawner {
        spawner.stop();
    }
    daemon.heartbeat.stopped_at = Some(Timestamp::now());
    let _ = std::fs::remove_file(crate::control::socket_path(&locations.home));
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

/// Whether reading the files a burst names is enough: no events were lost,
/// and every path is a source file or no folder (a temporary file renamed
/// away, another tool's file). A folder that appeared needs a scan: files
/// written in it before its watch was set raised no event.
fn names_only_files(burst: &Burst, sources: &chittysync_sources::Sources) -> bool {
    !burst.lost
        && burst
            .paths
            .iter()
            .all(|p| sources.classify(p).is_some() || !p.is_dir())
}

struct Daemon {
    /// The git sync, when a sync repository is set up.
    git: Option<GitTimer>,
    engine: Engine,
    heartbeat: Heartbeat,
    home: PathBuf,
    /// The sync hub, when `[hub] url` is configured.
    hub: Option<LiveHub>,
    /// Starts specialist agents after each consolidation, when enabled
    /// (with the store connection their ledger is written through).
    spawner: Option<(crate::spawn::Spawner, Ledger)>,
    /// The `[notify]` sender, when notifications are on.
    notify: Option<crate::notify_events::Notifier>,
}

/// How file events are debounced.
struct Debounce {
    /// The outputs change once no event came for this long…
    quiet: Duration,
    /// …or once the burst has lasted this long.
    longest: Duration,
}

impl Daemon {
    /// Handles a burst of file events that began with `first`. The debounce
    /// governs when the outputs change, not when the work is done: what the
    /// events named is consolidated at once, the outputs staged (written and
    /// fsynced beside their places) while the burst settles, and renamed into
    /// place once it has — restaged first if more changes came meanwhile.
    /// Returns the stop signal that came during the burst, if one did.
    fn settle_burst(
        &mut self,
        first: &notify::Result<notify::Event>,
        rx: &Receiver<Wake>,
        watches: &mut Watches,
        debounce: &Debounce,
    ) -> Option<i32> {
        let deadline = Instant::now() + debounce.longest;
        let mut burst = Burst::default();
        burst.note(first);
        gather(
            rx,
            &mut burst,
            ONE_WRITE.min(debounce.quiet),
            deadline,
            |e| relevant(watches, e),
        );
        let mut asks = std::mem::take(&mut burst.asks.0);
        loop {
            tracing::debug!(events = burst.relevant, "burst");
            self.note_problems(watches.refresh());
            let staged = self.stage_burst(&burst);
            let mut more = Burst {
                last: burst.last,
                stop: burst.stop,
                ..Burst::default()
            };
            gather(rx, &mut more, debounce.quiet, deadline, |e| {
                relevant(watches, e)
            });
            asks.append(&mut more.asks.0);
            if more.relevant == 0 {
                let run = staged.and_then(|staged| self.engine.publish(staged));
                self.finish_run("change", run);
                self.answer(asks);
                return more.stop;
            }
            // Changes came while the burst settled: what was staged is stale.
            self.note_run("superseded", staged.map(Staged::into_report));
            burst = more;
        }
    }

    /// Consolidates what a burst named, staging the outputs: only the files
    /// it named when that is enough (the common case: a session wrote its
    /// list, perhaps through a temporary file renamed into place), else — a
    /// folder appeared, events were lost — everything, as a rescan does.
    fn stage_burst(&mut self, burst: &Burst) -> Result<Staged, EngineError> {
        if names_only_files(burst, self.engine.sources()) {
            let paths: Vec<PathBuf> = burst.paths.iter().cloned().collect();
            self.engine.stage_paths(&paths)
        } else {
            self.engine.stage(false)
        }
    }

    /// Answers control requests (see [`crate::control`]) with the picture as
    /// the daemon holds it: a consolidation of no path (no file stat'ed, the
    /// outputs written if the fold moved), from the outputs kept rendered.
    fn answer(&mut self, replies: Vec<crate::control::Reply>) {
        if replies.is_empty() {
            return;
        }
        let run = self.engine.consolidate_paths(&[]);
        let answer = match &run {
            Ok(report) => serde_json::json!({
                "summary": report.summary,
                "outputs_written": report.outputs_written,
                "warnings": report.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            }),
            Err(e) => serde_json::json!({"error": e.to_string()}),
        }
        .to_string();
        for reply in replies {
            let _ = reply.send(answer.clone());
        }
        self.note_run("asked", run);
    }

    /// One incremental consolidation (it stats every file, so it also catches
    /// whatever events were missed); failures are logged and counted, never fatal.
    fn consolidate(&mut self, why: &str) {
        let run = self.engine.consolidate(false);
        self.finish_run(why, run);
    }

    /// Logs a run's outcome, counts it in the heartbeat, and syncs with the hub.
    fn finish_run(&mut self, why: &str, run: Result<Report, EngineError>) {
        self.note_run(why, run);
        if let Some(git) = self.git.as_mut() {
            git.after_consolidation(&mut self.engine, &mut self.heartbeat);
        }
        self.sync_hub(why);
        if let Some((spawner, ledger)) = &mut self.spawner {
            spawner.after_consolidation(ledger);
        }
        self.queue_notifications();
        self.beat();
    }

    /// Queues the events not told yet and wakes the sender (docs/COLLISIONS.md).
    fn queue_notifications(&mut self) {
        if let Some(notify) = &mut self.notify {
            notify.raise();
        }
    }

    /// Logs a run's outcome and counts it in the heartbeat.
    fn note_run(&mut self, why: &str, run: Result<Report, EngineError>) {
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
    }

    /// Pushes what was just consolidated and pulls other devices' news. A
    /// failure is logged (and kept for `status`); the hub link schedules a
    /// retry with backoff, and nothing is lost meanwhile.
    fn sync_hub(&mut self, why: &str) {
        let Some(hub) = self.hub.as_mut() else {
            return;
        };
        // How it went is in the hub's sync state, for `status` and notify.
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

    /// The git timer's turn: session end, push or a waiting commit (docs/GIT_SYNC.md).
    fn tick_git(&mut self) {
        if let Some(git) = self.git.as_mut() {
            git.tick(&mut self.engine, &mut self.heartbeat);
            self.queue_notifications();
            self.beat();
        }
    }

    /// Removes output files a killed writer left half-done in the home (a
    /// daemon killed with staged outputs leaves them).
    fn tidy(&mut self) {
        match remove_abandoned_temporaries(&self.home) {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "removed abandoned temporary files"),
            Err(e) => tracing::warn!(home = %self.home.display(), "cannot tidy the home: {e}"),
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
