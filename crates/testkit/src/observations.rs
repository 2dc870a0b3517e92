//! Observations in bulk, stored as a consolidation stores them.

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_engine::Engine;
use std::ops::Range;

/// How many distinct todos a device's bulk observations are about: a store
/// holds many more observations than todos.
const TODOS: usize = 500;
/// How many sessions of the device make them.
const SESSIONS: usize = 7;

/// Observations by `device` in `project`, one per number in `numbers`:
/// sessions revisiting a bounded set of todos as their statuses progress.
/// Each is new — its time is now plus its number — as long as the numbers of
/// a device's calls do not repeat.
pub fn bulk_observations(device: &str, project: &str, numbers: Range<usize>) -> Vec<Observation> {
    let start = Timestamp::now().millis();
    numbers
        .map(|n| {
            let session = format!("{device}-session-{}", n % SESSIONS);
            Observation::new(
                project,
                format!("{device} todo {}", n % TODOS),
                Some(format!("Doing {}", n % TODOS)),
                [Status::Pending, Status::InProgress, Status::Completed][n % 3],
                session.clone(),
                Some(session),
                device,
                Source::Transcript,
                Timestamp(start + n as i64),
            )
        })
        .collect()
}

/// Stores `observations` in the engine's store as made on this device, in one
/// transaction, as a consolidation does.
pub fn store_local(engine: &mut Engine, observations: &[Observation]) {
    engine.ingest_local(observations).expect("ingest");
}
