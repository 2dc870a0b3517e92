//! The daemon's git sync (docs/GIT_SYNC.md, docs/DAEMON.md): commit
//! after consolidating (at most once per `[git] commit_interval`), pull and
//! push once per `[git] push_interval`, and everything at once when a
//! session ends. An unreachable or refusing remote is retried with the
//! gitsync schedule's backoff (10 s doubling to 15 min); local commits go on.
//!
//! The daemon's loop calls [`GitTimer::after_consolidation`] after each run
//! and [`GitTimer::tick`] whenever [`GitTimer::next_tick`] has come. A tick
//! is cheap when nothing is due: a look at the clock and one read of the
//! store's meta table (the session-end mark the `session-end` hook sets).

use crate::heartbeat::Heartbeat;
use chittysync_config::{Config, Locations};
use chittysync_core::Timestamp;
use chittysync_engine::Engine;
use chittysync_gitsync::{GitSettings, GitSync, GitSyncError, SyncReport};
use std::time::{Duration, Instant};

/// Written by the `session-end` hook (crates/engine/src/hook.rs) with the
/// time the session ended; a new value means "sync now".
pub(crate) const SESSION_ENDED_META: &str = "sessions.last_ended_at";

/// How often the timer looks at the clock: often enough for short intervals
/// and a session end to be acted on within seconds.
const LONGEST_TICK: Duration = Duration::from_secs(5);
const SHORTEST_TICK: Duration = Duration::from_millis(200);

pub(crate) struct GitTimer {
    git: GitSync,
    every: Duration,
    next: Instant,
    /// A consolidation came while no commit was due: commit once one is.
    pending_commit: bool,
    /// The session-end mark last acted on.
    session_end_seen: Option<String>,
}

impl GitTimer {
    /// The git sync of this home, when `chittysync git init` set one up.
    pub(crate) fn open(locations: &Locations, config: &Config, engine: &Engine) -> Option<Self> {
        let settings = GitSettings::new(locations, &config.git);
        let git = match GitSync::open(&settings) {
            Ok(git) => git,
            Err(GitSyncError::NotInitialized { .. }) => return None,
            Err(e) => {
                tracing::error!("git sync disabled: {e}");
                return None;
            }
        };
        let every = settings
            .commit_interval
            .min(settings.push_interval)
            .clamp(SHORTEST_TICK, LONGEST_TICK);
        tracing::info!(
            repo = %settings.repo.display(),
            remote = settings.remote.as_deref().unwrap_or("(origin, if any)"),
            commit_interval_ms = settings.commit_interval.as_millis() as u64,
            push_interval_ms = settings.push_interval.as_millis() as u64,
            "git sync on"
        );
        Some(GitTimer {
            git,
            every,
            next: Instant::now() + every,
            pending_commit: false,
            session_end_seen: engine.reader().meta(SESSION_ENDED_META).ok().flatten(),
        })
    }

    /// When [`GitTimer::tick`] should run next.
    pub(crate) fn next_tick(&self) -> Instant {
        self.next
    }

    /// After a consolidation: commits if `commit_interval` has passed since
    /// the last commit, else remembers to commit once it has.
    pub(crate) fn after_consolidation(&mut self, engine: &mut Engine, heartbeat: &mut Heartbeat) {
        let done = self.git.commit_if_due(engine, Instant::now());
        self.pending_commit = matches!(done, Ok(None));
        note("commit", done, heartbeat);
    }

    /// On the timer: a full sync when a session ended since the last look,
    /// else a pull and push when due (or when a failed one's backoff has
    /// passed), else a commit that waited for its interval.
    pub(crate) fn tick(&mut self, engine: &mut Engine, heartbeat: &mut Heartbeat) {
        let now = Instant::now();
        self.next = now + self.every;
        let ended = engine.reader().meta(SESSION_ENDED_META).ok().flatten();
        if ended.is_some() && ended != self.session_end_seen {
            self.session_end_seen = ended;
            self.pending_commit = false;
            note(
                "session end",
                self.git.sync_once(engine).map(Some),
                heartbeat,
            );
            return;
        }
        let pushed = self.git.push_if_due(engine, now);
        if matches!(pushed, Ok(Some(_))) {
            self.pending_commit = false;
        }
        note("push", pushed, heartbeat);
        if self.pending_commit {
            let done = self.git.commit_if_due(engine, now);
            self.pending_commit = matches!(done, Ok(None));
            note("commit", done, heartbeat);
        }
    }
}

/// Logs what a sync did; an error (a refused push, a foreign history, a
/// local problem) becomes the heartbeat's last error. An unreachable remote
/// is no error: the gitsync schedule retries it, and `status` shows it.
fn note(why: &str, result: Result<Option<SyncReport>, GitSyncError>, heartbeat: &mut Heartbeat) {
    match result {
        Ok(None) => {}
        Ok(Some(report)) => {
            if let Some(offline) = &report.offline {
                tracing::warn!(
                    why,
                    retry_in_ms = report.retry_in_ms,
                    ahead = report.ahead,
                    "git remote unreachable: {offline}"
                );
            } else if report.commit.is_some() || report.pushed || report.imported > 0 {
                tracing::info!(
                    why,
                    commit = report.commit.as_deref().unwrap_or("-"),
                    pushed = report.pushed,
                    imported = report.imported,
                    exported = report.exported,
                    elapsed_ms = report.elapsed_ms,
                    "git sync"
                );
            }
        }
        Err(e) => {
            tracing::error!(why, "git sync failed: {e}");
            heartbeat.last_error = Some(crate::heartbeat::LastError {
                at: Timestamp::now(),
                message: format!("git sync: {e}"),
            });
        }
    }
}
