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

#[cfg(test)]
mod tests {
    use chittysync_config::{Config, Locations};
    use chittysync_core::{Observation, Source, Status, Timestamp};
    use chittysync_store::Via;

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
