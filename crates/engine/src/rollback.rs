//! Rollback (docs/GIT_SYNC.md; `chittysync rollback`): the fold restored as it was at
//! an earlier point by appending observations, never by rewriting history.
//! The rule (which words to append) is core's `rollback::plan`; this is the
//! flow around it: the fold of now and of then, and storing the new words.

use crate::{Engine, EngineError};
use chittysync_core::rollback::{plan, RollbackChange};
use chittysync_core::{fold, Observation, Timestamp};
use chittysync_store::Via;
use std::collections::HashSet;

impl Engine {
    /// Restores `project` (every project if `None`) to what the observations
    /// of `then` fold to, as of `now`; with `dry_run`, only says what it
    /// would change. `then` may hold observations this store has not
    /// imported yet (a commit of the git remote): they are facts all the
    /// same, so the fold of now includes them and they are stored with the
    /// rollback's own words.
    pub fn rollback(
        &mut self,
        then: &[Observation],
        project: Option<&str>,
        dry_run: bool,
        now: Timestamp,
    ) -> Result<Vec<RollbackChange>, EngineError> {
        let all = self.store.observations_until(Timestamp(i64::MAX))?;
        let known: HashSet<&str> = all.iter().map(|o| o.id.as_str()).collect();
        let missing: Vec<Observation> = then
            .iter()
            .filter(|o| !known.contains(o.id.as_str()))
            .cloned()
            .collect();
        let changes = plan(
            &fold(all.iter().chain(&missing)),
            &fold(then),
            project,
            &self.device,
            now,
        );
        if !dry_run && !changes.is_empty() {
            let appended: Vec<Observation> = changes
                .iter()
                .flat_map(|c| c.observations.iter().cloned())
                .collect();
            let tx = self.store.begin()?;
            tx.ingest(&missing, Via::Git)?;
            tx.ingest(&appended, Via::Local)?;
            tx.commit()?;
            self.refresh_outputs()?;
        }
        Ok(changes)
    }
}
