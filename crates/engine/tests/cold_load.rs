//! A cold run over more files than one reading step stores as it reads
//! (docs/ARCHITECTURE.md, "How a cold run is stored"): each step's sightings
//! whose project is settled are placed and stored before the run ends, and
//! the log is folded back a todo at a time. What it stores must be what
//! placing everything at the end and folding in memory would: every
//! session's observations in the project its session ends with, and a fold
//! equal to folding the same observations one small batch at a time.

mod common;

use chittysync_core::{Observation, Timestamp};
use chittysync_corpus::{generate, CorpusSpec, TranscriptSize};
use chittysync_store::{Store, Via};
use common::engine;

#[test]
fn a_cold_run_stored_step_by_step_places_and_folds_as_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude");
    generate(
        &claude,
        &CorpusSpec::new(1000, 7).with_transcripts(TranscriptSize::Small),
    )
    .unwrap();
    let home = dir.path().join("home");
    let mut cold = engine(&claude, &home);
    let report = cold.consolidate(false).unwrap();
    // More files than one step (2,048): the run stored as it read.
    assert!(report.summary.files_changed > 2048, "{:?}", report.summary);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let store = cold.reader();
    let observations: Vec<Observation> = store.observations_until(Timestamp(i64::MAX)).unwrap();
    assert_eq!(observations.len() as u64, report.summary.observations);

    // Placed as at the end of the run: a session's sightings are in the
    // project its session has now (task lists and sessions whose folder is
    // never told are placed otherwise).
    let mut checked = 0;
    for obs in &observations {
        let Some(session) = obs.session.as_deref() else {
            continue;
        };
        if obs.observer.starts_with("task:") {
            continue;
        }
        if let Some(project) = store.session(session).unwrap().and_then(|s| s.project) {
            assert_eq!(obs.project, project, "{obs:?}");
            checked += 1;
        }
    }
    assert!(
        checked > observations.len() / 2,
        "{checked} of {}",
        observations.len()
    );

    // Folded as the same observations folded a few at a time (no bulk
    // load: each batch is an incremental fold).
    let mut batched = Store::open(&dir.path().join("batched.db")).unwrap();
    for batch in observations.chunks(100) {
        let tx = batched.begin().unwrap();
        tx.ingest(batch, Via::Local).unwrap();
        tx.commit().unwrap();
    }
    let folded = store.folded_todos().unwrap();
    assert!(folded.len() > 1000);
    assert_eq!(folded, batched.folded_todos().unwrap());
}
