//! The one sync interface (docs/GIT_SYNC.md and docs/HUB_API.md, "One sync
//! interface"): a [`Remote`] stores batches of observations and hands back
//! what it stored after a cursor; [`Engine::sync_remote`]
//! (crates/engine/src/sync.rs) is the one loop over it, keeping each
//! remote's cursors and last error in one record ([`crate::SyncState`]).

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
    type Cursor: RemoteCursor;
    type Error: RemoteError + From<EngineError>;

    /// The name its state is kept under: `git`, `hub`.
    fn name(&self) -> &'static str;

    /// How what it returns is marked in the store.
    fn via(&self) -> Via;

    /// What the cursors are about (the hub's URL): cursors kept for another
    /// target are dropped and everything is pushed and pulled again.
    fn target(&self) -> Option<String> {
        None
    }

    /// Told where the last pull stopped before a sync begins; `false` when
    /// the remote does not know that cursor (a git commit the repository
    /// lost): the sync then starts over from nothing, pushing and pulling
    /// everything again (ids make that idempotent).
    fn resume(&mut self, _after: &Self::Cursor) -> bool {
        true
    }

    /// Stores a batch of this device's observations.
    fn push(&mut self, batch: &[Observation]) -> Result<Pushed, Self::Error>;

    /// What the remote stored after `after` (every device's, this one's
    /// included), and the cursor after it.
    fn pull(&mut self, after: &Self::Cursor) -> Result<Pulled<Self::Cursor>, Self::Error>;

    /// After a round's pushes and pulls were taken in: makes what was
    /// pushed as [`Pushed::staged`] durable (git: one commit holding the
    /// merge, the new log lines and the snapshots rendered from the fold).
    /// The push cursor of staged pushes moves only once this returned.
    fn commit(&mut self, _engine: &mut Engine) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Sends what [`Remote::commit`] made (git: pushes the branch).
    /// [`Published::Again`] when the remote moved meanwhile: the loop pulls,
    /// pushes and commits again.
    fn publish(&mut self, _engine: &mut Engine) -> Result<Published, Self::Error> {
        Ok(Published::Done)
    }

    /// Whether this round asks the remote at all (git's commits between
    /// pushes do not): when it does not, its success says nothing of the
    /// remote and is not recorded as one.
    fn asks_remote(&self) -> bool {
        true
    }
}

/// What [`Remote::publish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    Done,
    /// The remote moved meanwhile: another round.
    Again,
}

/// A cursor as kept in the store's sync state.
pub trait RemoteCursor: Clone + std::fmt::Debug + PartialEq + Default {
    fn to_text(&self) -> String;
    /// `None` when the text is not a cursor of this remote.
    fn from_text(text: &str) -> Option<Self>;
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Observations the remote did not hold yet.
    pub new: u64,
    /// Observations it held already (an earlier push whose answer was lost).
    pub already: u64,
    /// Observations not sent (the hub refuses those stamped more than a day
    /// ahead: docs/HUB_API.md#limits).
    pub skipped: u64,
    /// The remote holds less than was pulled from it (it lost data): the
    /// sync starts over, pushing and pulling everything again.
    pub remote_lost: bool,
    /// Taken, but durable only once [`Remote::commit`] returned (git stages
    /// the batch for the round's one commit).
    pub staged: bool,
}

impl Pushed {
    pub fn new(new: u64) -> Pushed {
        Pushed {
            new,
            ..Pushed::default()
        }
    }
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
}
