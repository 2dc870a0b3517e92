//! The one way a sync backend (git, hub) changes the store (docs/GIT_SYNC.md,
//! docs/HUB_API.md): it ingests what a remote returned through
//! [`Engine::ingest_remote`] — the observations and the backend's cursors in
//! one transaction, so a crash never moves a cursor past what was stored —
//! and keeps its other bookkeeping (last push, last error) with
//! [`Engine::record_sync`]. Backends read the store through
//! [`Engine::store`]; none holds it mutably.

use crate::{Engine, EngineError};
use chittysync_core::Observation;
use chittysync_store::Via;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

/// A place observations are shared through: a git remote or a sync hub
/// (docs/GIT_SYNC.md, docs/HUB_API.md). Both store what they are given once
/// (by observation id) and hand it back in the order they stored it, after a
/// cursor of their own; sealing and opening (docs/ENCRYPTION.md) happen in
/// the implementation, so what goes in and comes out is plain.
pub trait Remote {
    /// Where a pull resumes: the hub's cursor, the git commit last read.
    type Cursor: Clone + std::fmt::Debug + PartialEq + Default;
    type Error: RemoteError;

    /// Stores a batch of this device's observations; returns how many the
    /// remote did not hold yet.
    fn push(&mut self, batch: &[Observation]) -> Result<u64, Self::Error>;

    /// What the remote stored after `after` (every device's, this one's
    /// included), and the cursor after it.
    fn pull(&mut self, after: &Self::Cursor) -> Result<Pulled<Self::Cursor>, Self::Error>;
}

/// A page of what a remote holds after a cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Pulled<C> {
    pub observations: Vec<Observation>,
    /// Where the next pull resumes.
    pub cursor: C,
    /// More follows: pull again from `cursor`.
    pub more: bool,
}

/// A remote's error says whether trying again later may succeed (the remote
/// was unreachable or failing) or only a change of setup will (a refused
/// token, a certificate, a key).
pub trait RemoteError: std::error::Error {
    fn is_transient(&self) -> bool;
}

impl Engine {
    /// Ingests observations received from a remote (`via`: git or hub) and
    /// sets the backend's `meta` (its cursors after them) in one store
    /// transaction. Returns how many observations were new to the store;
    /// observations already held (by id) are ignored. The outputs are not
    /// rewritten here: call [`Engine::refresh_outputs`] once the sync is done.
    pub fn ingest_remote(
        &mut self,
        observations: &[Observation],
        via: Via,
        meta: &[(&str, String)],
    ) -> Result<u64, EngineError> {
        let tx = self.store.begin()?;
        let new = if observations.is_empty() {
            0
        } else {
            tx.ingest(observations, via)?.new_observations as u64
        };
        for (key, value) in meta {
            tx.set_meta(key, value)?;
        }
        tx.commit()?;
        Ok(new)
    }

    /// Sets a sync backend's bookkeeping (cursors, last push, last error:
    /// `meta` keys of its own) in one transaction.
    pub fn record_sync(&mut self, meta: &[(&str, String)]) -> Result<(), EngineError> {
        self.ingest_remote(&[], Via::Local, meta).map(drop)
    }
}

/// The one backoff of the git and hub syncs: exponential, capped, with
/// jitter. The nominal delay doubles after each failure from `initial` up to
/// `max`; the delay handed out is drawn between half of it and all of it, so
/// devices that failed together do not all come back at once. A success
/// starts over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial: initial.max(Duration::from_millis(1)).min(max),
            max,
            failures: 0,
        }
    }

    /// The delay before jitter after `failures` failures in a row.
    pub fn nominal(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        (self.initial * 2u32.pow(doublings)).min(self.max)
    }

    /// Records a failure and returns how long to wait before trying again.
    pub fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        jitter(self.nominal(self.failures))
    }

    /// Records a success: the next failure waits about `initial` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether the nominal delay has reached `max`.
    pub fn at_ceiling(&self) -> bool {
        self.failures > 0 && self.nominal(self.failures) >= self.max
    }
}

/// Between half of `delay` and all of it, uniformly (std's randomly keyed hasher).
fn jitter(delay: Duration) -> Duration {
    let half = delay / 2;
    let span = (delay - half).as_nanos() as u64;
    let random = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    half + Duration::from_nanos(random % span.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use chittysync_config::{Config, Locations};
    use chittysync_core::{Observation, Source, Status, Timestamp};
    use chittysync_store::Via;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_to_a_ceiling_with_jitter_and_starts_over() {
        let mut b = crate::Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let nominal: Vec<u128> = (1..=5).map(|f| b.nominal(f).as_millis()).collect();
        assert_eq!(nominal, [100, 200, 400, 500, 500]);
        let mut delays = std::collections::BTreeSet::new();
        for failures in 1..=40u32 {
            let delay = b.fail();
            let top = b.nominal(failures);
            assert!(delay <= top && delay >= top / 2, "{delay:?} for {top:?}");
            delays.insert(delay);
        }
        assert!(delays.len() > 10, "no jitter: {delays:?}");
        assert!(b.at_ceiling());
        assert_eq!(b.failures(), 40);
        b.reset();
        assert!(b.fail() <= Duration::from_millis(100));
    }

    #[test]
    fn observations_and_cursors_are_stored_together_once() {
        let dir = tempfile::tempdir().unwrap();
        let locations = Locations {
            claude_dir: dir.path().join("claude"),
            agents_home: None,
            home: dir.path().join("home"),
            config: None,
        };
        let mut engine = crate::Engine::open(&locations, &Config::default()).unwrap();
        let obs = Observation::new(
            "p",
            "from afar".into(),
            None,
            Status::Pending,
            "s".into(),
            None,
            "other",
            Source::File,
            Timestamp(1),
        );
        let cursor = [("test.cursor", "7".to_string())];
        assert_eq!(
            engine
                .ingest_remote(std::slice::from_ref(&obs), Via::Hub, &cursor)
                .unwrap(),
            1
        );
        assert_eq!(engine.ingest_remote(&[obs], Via::Hub, &cursor).unwrap(), 0);
        assert_eq!(
            engine.store().meta("test.cursor").unwrap().as_deref(),
            Some("7")
        );
        engine
            .record_sync(&[("test.cursor", "8".to_string())])
            .unwrap();
        assert_eq!(
            engine.store().meta("test.cursor").unwrap().as_deref(),
            Some("8")
        );
        assert_eq!(engine.store().observation_count().unwrap(), 1);
    }
}
