//! The one sync loop and the one sync state (docs/GIT_SYNC.md and
//! docs/HUB_API.md, "One sync interface"; docs/DAEMON.md).
//!
//! Each remote (`git`, `hub`) has one [`SyncState`] record in the store:
//! its push cursor (the last local sequence number it holds), its pull
//! cursor, its last push and sync, its last error and since when it fails.
//! Only the functions here write it; `status`, the daemon and notify's
//! `sync_failing` read it ([`chittysync_store::Store::sync_state`]).
//!
//! [`Engine::sync_remote`] is the one loop over a [`Remote`]: push what is
//! new since the push cursor, pull after the pull cursor, ingest through the
//! engine with the cursor after each page in the same transaction, record
//! how it went. Whether to try again and when is the caller's (the daemon's
//! [`crate::Backoff`]), told by [`crate::RemoteError::is_transient`].

use crate::remote::{Published, Remote, RemoteCursor};
use crate::{Engine, EngineError};
use chittysync_core::{Observation, Timestamp};
use chittysync_store::sync_state::{SyncEvent, SyncState};
use chittysync_store::Via;
use serde::Serialize;
use std::time::Instant;

/// What one [`Engine::sync_remote`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncOutcome {
    /// Local observations the remote stored now.
    pub pushed: u64,
    /// Local observations the remote already had.
    pub duplicates: u64,
    /// Local observations not sent (stamped too far ahead for the remote).
    pub skipped: u64,
    /// Push calls made.
    pub batches: u64,
    /// Observations received (this device's own included).
    pub received: u64,
    /// Of those, observations new to this store.
    pub pulled: u64,
    /// The pull cursor after the sync, as kept in the store.
    pub cursor: String,
    /// The cursors were for another target, unknown to the remote, or the
    /// remote lost data: everything was pushed and pulled again.
    pub restarted: bool,
    /// The outputs were rewritten (the fold changed).
    pub outputs_written: bool,
    pub elapsed_ms: u64,
}

impl Engine {
    /// `remote`'s sync state (empty before its first sync; read from the
    /// keys of older stores until it is first written).
    pub fn sync_state(&self, remote: &str) -> Result<SyncState, EngineError> {
        Ok(self.store.sync_state(remote)?)
    }

    /// Changes `remote`'s sync state in one transaction; returns it.
    pub fn update_sync_state(
        &mut self,
        remote: &str,
        change: impl FnOnce(&mut SyncState),
    ) -> Result<SyncState, EngineError> {
        self.ingest_remote(&[], Via::Local, remote, change)
            .map(|(_, state)| state)
    }

    /// Ingests observations received from a remote (`via`: git or hub) and
    /// changes its sync state (its cursor after them) in one transaction, so
    /// a crash never moves a cursor past what was stored. Returns how many
    /// observations were new to the store (those already held, by id, are
    /// ignored) and the state. The outputs are not rewritten here: call
    /// [`Engine::refresh_outputs`] once the sync is done.
    pub fn ingest_remote(
        &mut self,
        observations: &[Observation],
        via: Via,
        remote: &str,
        change: impl FnOnce(&mut SyncState),
    ) -> Result<(u64, SyncState), EngineError> {
        let tx = self.store.begin()?;
        let new = if observations.is_empty() {
            0
        } else {
            tx.ingest(observations, via)?.new_observations as u64
        };
        let mut state = tx.sync_state(remote)?;
        let before = state.clone();
        change(&mut state);
        if state != before {
            tx.set_sync_state(remote, &state)?;
        }
        tx.commit()?;
        Ok((new, state))
    }

    /// Stores observations made on this device, in one transaction, as a
    /// consolidation does (tests and benchmarks build homes with it).
    /// Returns how many were new.
    pub fn ingest_local(&mut self, observations: &[Observation]) -> Result<u64, EngineError> {
        let tx = self.store.begin()?;
        let new = tx.ingest(observations, Via::Local)?.new_observations as u64;
        tx.commit()?;
        Ok(new)
    }

    /// Notes that `remote` failed with `message` (the run of failures
    /// keeps its start, for `status` and notify's `sync_failing`).
    pub fn record_sync_failure(&mut self, remote: &str, message: &str) -> Result<(), EngineError> {
        self.update_sync_state(remote, |s| s.failed(message, Timestamp::now()))
            .map(drop)
    }

    /// Notes that `remote` answered: it no longer fails.
    pub fn record_sync_answered(&mut self, remote: &str) -> Result<(), EngineError> {
        self.update_sync_state(remote, SyncState::answered)
            .map(drop)
    }

    /// One sync with `remote`: pushes every local observation after its push
    /// cursor (`push_batch` at a time, the cursor moving after each batch the
    /// remote took), pulls everything after its pull cursor (page by page,
    /// each page ingested with the cursor after it), rewrites the outputs if
    /// the fold changed, and records how it went in the remote's
    /// [`SyncState`]. A failure is recorded and returned; what was done
    /// before it stays done, and the next sync resumes there.
    pub fn sync_remote<R: Remote>(
        &mut self,
        remote: &mut R,
        push_batch: usize,
    ) -> Result<SyncOutcome, R::Error> {
        let name = remote.name();
        let result = self.sync_remote_inner(remote, push_batch.max(1));
        if !remote.asks_remote() && result.is_ok() {
            return result;
        }
        let recorded = match &result {
            Ok(outcome) => {
                let detail = format!("{} pushed, {} pulled", outcome.pushed, outcome.pulled);
                self.update_sync_state(name, |s| {
                    s.answered();
                    s.last_sync = Some(SyncEvent::now(detail));
                })
                .map(drop)
            }
            Err(error) => self.record_sync_failure(name, &error.to_string()),
        };
        if let Err(e) = recorded {
            tracing::warn!(remote = name, "cannot record how the sync went: {e}");
        }
        result
    }

    fn sync_remote_inner<R: Remote>(
        &mut self,
        remote: &mut R,
        push_batch: usize,
    ) -> Result<SyncOutcome, R::Error> {
        let started = Instant::now();
        let name = remote.name();
        let target = remote.target();
        let mut outcome = SyncOutcome::default();
        let mut state = self.sync_state(name)?;
        let mut cursor = state
            .pull_cursor
            .as_deref()
            .and_then(R::Cursor::from_text)
            .unwrap_or_default();
        let other_target = state.target.is_some() && state.target != target;
        if other_target || !remote.resume(&cursor) {
            tracing::info!(
                remote = name,
                from = state.target.as_deref().unwrap_or(""),
                to = target.as_deref().unwrap_or(""),
                "cursors not known to the remote: pushing and pulling everything again"
            );
            outcome.restarted = true;
            state = self.update_sync_state(name, |s| s.restart(target.clone()))?;
            cursor = R::Cursor::default();
            remote.resume(&cursor);
        } else if state.target != target {
            state = self.update_sync_state(name, |s| s.target = target.clone())?;
        }

        let mut restarted_here = false;
        loop {
            // Pushes: what is new since the push cursor, a batch at a time.
            let mut push_from = state.push_cursor;
            let mut staged = None;
            loop {
                let batch = self
                    .store
                    .observations_after(push_from, Via::Local, push_batch)
                    .map_err(EngineError::from)?;
                let Some(last_seq) = batch.last().map(|l| l.seq) else {
                    break;
                };
                let observations: Vec<Observation> =
                    batch.into_iter().map(|l| l.observation).collect();
                let pushed = remote.push(&observations)?;
                outcome.batches += 1;
                outcome.pushed += pushed.new;
                outcome.duplicates += pushed.already;
                outcome.skipped += pushed.skipped;
                if pushed.remote_lost && !restarted_here {
                    tracing::warn!(
                        remote = name,
                        "the remote holds less than was pulled from it: pushing everything again"
                    );
                    restarted_here = true;
                    outcome.restarted = true;
                    state = self.update_sync_state(name, |s| s.restart(target.clone()))?;
                    cursor = R::Cursor::default();
                    remote.resume(&cursor);
                    push_from = 0;
                    continue;
                }
                push_from = last_seq;
                if pushed.staged {
                    staged = Some(last_seq);
                    continue;
                }
                let detail = format!("{} observations up to #{last_seq}", observations.len());
                state = self.update_sync_state(name, |s| {
                    s.push_cursor = last_seq;
                    if pushed.new > 0 {
                        s.last_push = Some(SyncEvent::now(detail));
                    }
                })?;
            }

            // Pulls: everything after the pull cursor, page by page.
            loop {
                let page = remote.pull(&cursor)?;
                outcome.received += page.observations.len() as u64;
                let moved = page.cursor != cursor;
                let text = page.cursor.to_text();
                // This device's own observations come back too: the store
                // keeps them once (by id). The page and the cursor after it
                // are committed together.
                let (new, _) = self.ingest_remote(&page.observations, remote.via(), name, |s| {
                    s.pull_cursor = Some(text)
                })?;
                outcome.pulled += new;
                cursor = page.cursor;
                if !page.more || !moved {
                    break;
                }
            }

            remote.commit(self)?;
            if let Some(last_seq) = staged {
                state = self.update_sync_state(name, |s| s.push_cursor = last_seq)?;
            }
            if remote.publish(self)? == Published::Done {
                break;
            }
        }
        outcome.cursor = cursor.to_text();
        outcome.outputs_written = self.refresh_outputs()?;
        outcome.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use chittysync_config::{Config, Locations};
    use chittysync_core::{Observation, Source, Status, Timestamp};
    use chittysync_store::Via;

    fn engine(dir: &std::path::Path) -> crate::Engine {
        let locations = Locations {
            claude_dir: dir.join("claude"),
            agents_home: None,
            home: dir.join("home"),
            config: None,
        };
        crate::Engine::open(&locations, &Config::default()).unwrap()
    }

    #[test]
    fn observations_and_cursors_are_stored_together_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = engine(dir.path());
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
        let to_7 =
            |s: &mut chittysync_store::sync_state::SyncState| s.pull_cursor = Some("7".into());
        let (new, state) = engine
            .ingest_remote(std::slice::from_ref(&obs), Via::Hub, "hub", to_7)
            .unwrap();
        assert_eq!((new, state.pull_cursor.as_deref()), (1, Some("7")));
        assert_eq!(
            engine
                .ingest_remote(&[obs], Via::Hub, "hub", to_7)
                .unwrap()
                .0,
            0
        );
        assert_eq!(
            engine.sync_state("hub").unwrap().pull_cursor.as_deref(),
            Some("7")
        );
        // Another remote's record is apart.
        assert_eq!(engine.sync_state("git").unwrap().pull_cursor, None);
        assert_eq!(engine.reader().observation_count().unwrap(), 1);
    }

    #[test]
    fn a_run_of_failures_keeps_its_start_and_a_success_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = engine(dir.path());
        engine.record_sync_failure("git", "unreachable").unwrap();
        let first = engine.sync_state("git").unwrap();
        let since = first.failing_since.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        engine.record_sync_failure("git", "refused").unwrap();
        let second = engine.sync_state("git").unwrap();
        assert_eq!(second.failing_since, Some(since));
        assert_eq!(second.last_error.as_ref().unwrap().detail, "refused");
        assert!(second.last_error.unwrap().at > since);
        assert_eq!(engine.sync_state("hub").unwrap().failing_since, None);
        engine.record_sync_answered("git").unwrap();
        let after = engine.sync_state("git").unwrap();
        assert_eq!((after.failing_since, after.last_error), (None, None));
    }
}
