//! One consolidation run (SPEC §7 `consolidate`).

use crate::ingest::{Ingest, Placer, Sightings};
use crate::summary::Report;
use crate::{outputs, read, Engine, EngineError};
use chittysync_core::Timestamp;
use chittysync_sources::discover;
use std::time::Instant;

impl Engine {
    /// Reads what changed since the last run (everything with `full`), folds
    /// it in, and rewrites the outputs if the fold changed.
    pub fn consolidate(&mut self, full: bool) -> Result<Report, EngineError> {
        let started = Instant::now();
        let mut report = Report::default();
        let discovery = discover(&self.claude_dir);
        report.warnings.extend(discovery.warnings);
        report.summary.files_scanned = discovery.files.len() as u64;
        let index = self.store.file_index()?;
        let plan = read::plan(discovery.files, &index, full);
        report.summary.files_changed = plan.changed.len() as u64;
        let files = read::read_all(plan.changed, self.max_file_bytes);
        if !files.is_empty() || !plan.vanished.is_empty() {
            let tx = self.store.begin()?;
            for path in &plan.vanished {
                tx.forget_file(path)?;
            }
            let ingest = Ingest {
                tx: &tx,
                device: &self.device,
                placer: Placer::new(&self.rules),
                sightings: Sightings::default(),
                report: &mut report,
            };
            let new = ingest.run(&files)?;
            report.summary.observations = new;
            tx.commit()?;
        }
        report.outputs_written = outputs::write_if_changed(&mut self.store, &self.outputs, full)?;
        let counts = self.store.fold_counts()?;
        report.summary.unique_todos = counts.todos;
        report.summary.projects = counts.projects;
        report.summary.conflicts = counts.conflicts;
        report.summary.sessions = self.store.session_count()?;
        report.summary.elapsed_ms = started.elapsed().as_millis() as u64;
        self.remember_run(&report)?;
        Ok(report)
    }

    /// Writes the outputs now, whether or not the fold changed.
    pub fn write_outputs(&mut self) -> Result<(), EngineError> {
        outputs::write_if_changed(&mut self.store, &self.outputs, true).map(|_| ())
    }

    /// Writes the outputs if the fold changed since they were last written (for
    /// callers that fed the store themselves, such as the git sync); returns
    /// whether it wrote.
    pub fn refresh_outputs(&mut self) -> Result<bool, EngineError> {
        outputs::write_if_changed(&mut self.store, &self.outputs, false)
    }

    fn remember_run(&mut self, report: &Report) -> Result<(), EngineError> {
        let record = serde_json::json!({
            "at": Timestamp::now(),
            "summary": report.summary,
            "warnings": report.warnings.len(),
        });
        let tx = self.store.begin()?;
        tx.set_meta("last_consolidation", &record.to_string())?;
        tx.commit()?;
        Ok(())
    }
}
