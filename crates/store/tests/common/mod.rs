//! Helpers shared by the store's integration tests.
// Each test file uses some of them.
#![allow(dead_code)]

use chittysync_core::Observation;
use chittysync_store::{Store, Via};

/// Ingests in one committed transaction.
pub fn ingest(store: &mut Store, observations: &[Observation]) {
    let tx = store.begin().unwrap();
    tx.ingest(observations, Via::Local).unwrap();
    tx.commit().unwrap();
}

/// The ids of a todo's observations as the store's history gives them, sorted.
pub fn history_ids(store: &Store, todo: &str) -> Vec<String> {
    let mut ids: Vec<String> = store
        .history(todo)
        .unwrap()
        .into_iter()
        .map(|l| l.observation.id)
        .collect();
    ids.sort();
    ids
}
