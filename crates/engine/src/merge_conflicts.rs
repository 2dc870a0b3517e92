//! Conflicts resolved by the git merge driver, kept in the store and written
//! into `conflicts.json` under `merge_conflicts`.
//!
//! `conflicts.json` is rewritten from the fold on every consolidation, so a
//! record appended to the file alone would vanish at the next run. The store
//! keeps them (one short transaction, safe with concurrent merges), and every
//! rewrite of the file carries them along.

use crate::{Engine, EngineError};
use chittysync_store::StoreError;

/// The meta key holding the JSON array of merge conflict records.
pub(crate) const META_KEY: &str = "merge_conflicts";

/// How many records are kept; older ones are dropped first.
const KEPT: usize = 1000;

impl Engine {
    /// Appends merge conflict records (JSON objects) and rewrites the outputs.
    pub fn record_merge_conflicts(
        &mut self,
        records: &[serde_json::Value],
    ) -> Result<(), EngineError> {
        let tx = self.store.begin()?;
        let mut all: Vec<serde_json::Value> = match tx.meta(META_KEY)? {
            Some(text) => serde_json::from_str(&text).map_err(corrupt)?,
            None => Vec::new(),
        };
        all.extend(records.iter().cloned());
        let excess = all.len().saturating_sub(KEPT);
        all.drain(..excess);
        let text = serde_json::to_string(&all).map_err(corrupt)?;
        tx.set_meta(META_KEY, &text)?;
        tx.commit()?;
        self.outputs
            .write_if_changed(&mut self.store, true)
            .map(|_| ())
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        what: "merge conflict records",
        message: e.to_string(),
    }
}
