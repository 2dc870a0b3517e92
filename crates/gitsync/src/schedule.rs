//! When the daemon commits and pushes, and how it backs off an unreachable
//! remote.
//!
//! The daemon calls [`GitSync::commit_if_due`] after each consolidation and
//! [`GitSync::push_if_due`] on a timer (every few seconds is fine: both return
//! at once when nothing is due). Commits are batched: at most one per
//! `commit_interval`. Pushes (with a pull first) happen once per
//! `push_interval`. When the remote fails, network work waits 10 s, then
//! 20 s, 40 s, … up to 15 min between tries (each drawn between half of it
//! and all of it: the engine's [`Backoff`]), while local commits go on.

use crate::error::GitSyncError;
use crate::repo::GitSync;
use crate::sync::SyncReport;
use chittysync_engine::{Backoff, Engine};
use std::time::{Duration, Instant};

const FIRST_RETRY: Duration = Duration::from_secs(10);
const LONGEST_RETRY: Duration = Duration::from_secs(15 * 60);

/// The daemon's clock for one repository.
#[derive(Debug)]
pub(crate) struct Schedule {
    last_commit: Option<Instant>,
    last_push: Option<Instant>,
    backoff: Backoff,
    retry_at: Option<Instant>,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            last_commit: None,
            last_push: None,
            backoff: Backoff::new(FIRST_RETRY, LONGEST_RETRY),
            retry_at: None,
        }
    }
}

impl Schedule {
    fn network_allowed(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|t| now >= t)
    }

    /// Notes how the remote answered; returns the wait before the next try.
    pub(crate) fn record(&mut self, offline: bool, now: Instant) -> Option<Duration> {
        if offline {
            let wait = self.backoff.fail();
            self.retry_at = Some(now + wait);
            Some(wait)
        } else {
            self.backoff.reset();
            self.retry_at = None;
            None
        }
    }
}

fn elapsed(since: Option<Instant>, now: Instant, interval: Duration) -> bool {
    since.is_none_or(|t| now.saturating_duration_since(t) >= interval)
}

impl GitSync {
    /// After a consolidation: commits what is new (pulling first when the
    /// remote is not backing off), unless a commit check ran less than
    /// `commit_interval` ago. `None` when not due.
    pub fn commit_if_due(
        &mut self,
        engine: &mut Engine,
        now: Instant,
    ) -> Result<Option<SyncReport>, GitSyncError> {
        if !elapsed(
            self.schedule.last_commit,
            now,
            self.settings.commit_interval,
        ) {
            return Ok(None);
        }
        self.schedule.last_commit = Some(now);
        let network = self.schedule.network_allowed(now);
        self.run(engine, network, false, now).map(Some)
    }

    /// On the timer: pulls, commits and pushes once per `push_interval`, or
    /// sooner to retry a failed push once its backoff has passed. `None` when
    /// not due or when there is no remote.
    pub fn push_if_due(
        &mut self,
        engine: &mut Engine,
        now: Instant,
    ) -> Result<Option<SyncReport>, GitSyncError> {
        let due = self.remote_url.is_some()
            && self.schedule.network_allowed(now)
            && (self.schedule.backoff.failures() > 0
                || elapsed(self.schedule.last_push, now, self.settings.push_interval));
        if !due {
            return Ok(None);
        }
        self.schedule.last_push = Some(now);
        self.schedule.last_commit = Some(now);
        self.run(engine, true, true, now).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        let s = Schedule::default();
        assert_eq!(s.backoff.nominal(1), Duration::from_secs(10));
        assert_eq!(s.backoff.nominal(2), Duration::from_secs(20));
        assert_eq!(s.backoff.nominal(4), Duration::from_secs(80));
        assert_eq!(s.backoff.nominal(50), LONGEST_RETRY);
    }

    #[test]
    fn a_failure_closes_the_network_until_the_retry_time() {
        let mut s = Schedule::default();
        let t0 = Instant::now();
        assert!(s.network_allowed(t0));
        let wait = s.record(true, t0).unwrap();
        assert!(wait <= FIRST_RETRY && wait >= FIRST_RETRY / 2, "{wait:?}");
        assert!(!s.network_allowed(t0 + Duration::from_secs(4)));
        assert!(s.network_allowed(t0 + FIRST_RETRY));
        assert_eq!(s.record(false, t0), None);
        assert!(s.network_allowed(t0));
    }
}
