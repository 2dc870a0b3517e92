//! One consolidation run (docs/DESIGN.md, "Commands"; `consolidate`).

use crate::ingest::{Ingest, Moved, Placer, Sightings};
use crate::outputs::StagedOutputs;
use crate::summary::Report;
use crate::{read, Engine, EngineError};
use chittysync_core::Timestamp;
use chittysync_sources::Warning;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Instant;

/// A consolidation whose outputs are staged — written and fsynced beside
/// their places — but not yet published. The daemon stages while a burst of
/// changes settles, so publishing when it has is only a rename.
#[derive(Debug)]
pub struct Staged {
    report: Report,
    outputs: Option<StagedOutputs>,
}

impl Staged {
    /// Drops the staged outputs (superseded by newer changes) and returns
    /// what the run did: its facts are in the store, its outputs unwritten.
    pub fn into_report(self) -> Report {
        self.report
    }
}

impl Engine {
    /// Declares that this engine runs once and exits (the `consolidate`
    /// command with no daemon to ask): the outputs' rendered blocks are kept
    /// in a file in the home between such processes, so a run that changed
    /// a few todos re-renders those, not all (docs/ARCHITECTURE.md, "The
    /// outputs"). A long-lived engine (the daemon) keeps them in memory.
    pub fn runs_once(&mut self) {
        self.outputs.keep_on_disk();
    }

    /// Reads what changed since the last run (everything with `full`), folds
    /// it in, and rewrites the outputs if the fold changed.
    pub fn consolidate(&mut self, full: bool) -> Result<Report, EngineError> {
        let staged = self.stage(full)?;
        self.publish(staged)
    }

    /// Like [`Engine::consolidate`], but only looks at these paths (those a
    /// file watcher reported).
    pub fn consolidate_paths(&mut self, paths: &[PathBuf]) -> Result<Report, EngineError> {
        let staged = self.stage_paths(paths)?;
        self.publish(staged)
    }

    /// [`Engine::consolidate`] up to the outputs, which are staged.
    pub fn stage(&mut self, full: bool) -> Result<Staged, EngineError> {
        let started = Instant::now();
        let mut report = Report::default();
        let discovery = self.sources.discover();
        report.warnings.extend(discovery.warnings);
        report.summary.files_scanned = discovery.files.len() as u64;
        let plan = read::plan_against(discovery.files, &self.store, full)?;
        self.apply(plan, full, started, report)
    }

    /// [`Engine::consolidate_paths`] up to the outputs, which are staged. It
    /// looks only at these paths: no stat of every other file, no full file
    /// index. Paths that are not sources are passed over; a path that is gone
    /// is forgotten (its observations stay).
    pub fn stage_paths(&mut self, paths: &[PathBuf]) -> Result<Staged, EngineError> {
        let started = Instant::now();
        let mut report = Report::default();
        let mut files = Vec::new();
        let mut index = HashMap::new();
        let mut vanished = Vec::new();
        let unique: BTreeSet<&PathBuf> = paths.iter().collect();
        for path in unique {
            match self.sources.stat(path) {
                Ok(Some(file)) => {
                    // The file read for this path (a database for its `-wal`).
                    let key = file.path.to_string_lossy().into_owned();
                    if let Some(record) = self.store.file_record(&key)? {
                        index.insert(key, record);
                    }
                    files.push(file);
                }
                Ok(None) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    vanished.push(path.clone());
                }
                Err(e) => report
                    .warnings
                    .push(Warning::new(path, format!("cannot stat the file: {e}"))),
            }
        }
        report.summary.files_scanned = files.len() as u64;
        let mut plan = read::plan(files, &index, false);
        plan.vanished.extend(vanished);
        self.apply(plan, false, started, report)
    }

    /// Renames a consolidation's staged outputs into place (unless outputs of
    /// a newer fold are in place already) and completes its report.
    /// `elapsed_ms` counts the work, not a wait between staging and publishing.
    pub fn publish(&mut self, staged: Staged) -> Result<Report, EngineError> {
        let started = Instant::now();
        let Staged {
            mut report,
            outputs,
        } = staged;
        if let Some(outputs) = outputs {
            let (written, warning) = self.outputs.publish(&mut self.store, outputs)?;
            report.outputs_written = written;
            report.warnings.extend(warning);
        }
        report.summary.elapsed_ms += started.elapsed().as_millis() as u64;
        self.remember_run(&report)?;
        Ok(report)
    }

    /// Reads the planned files, folds them in, stages the outputs if the fold
    /// changed, and counts what the report says.
    fn apply(
        &mut self,
        plan: read::Plan,
        full: bool,
        started: Instant,
        mut report: Report,
    ) -> Result<Staged, EngineError> {
        report.summary.files_changed = plan.changed.len() as u64;
        if !plan.changed.is_empty() || !plan.vanished.is_empty() {
            let tx = if Ingest::may_bulk_load(plan.changed.len()) {
                self.store.begin_load()?
            } else {
                self.store.begin()?
            };
            for path in &plan.vanished {
                tx.forget_file(path)?;
            }
            let ingest = Ingest {
                tx: &tx,
                device: &self.device,
                placer: Placer::new(&self.rules),
                sightings: Sightings::default(),
                report: &mut report,
                moved: Moved::default(),
            };
            let new = ingest.read_and_run(
                &self.sources,
                plan.changed,
                self.max_file_bytes,
                self.progress.as_deref(),
            )?;
            report.summary.observations = new;
            tx.commit()?;
        }
        let outputs = self.outputs.stage_if_changed(&self.store, full)?;
        let totals = self.outputs.totals(&mut self.store)?;
        report.summary.unique_todos = totals.todos;
        report.summary.projects = totals.projects;
        report.summary.conflicts = totals.conflicts;
        report.summary.sessions = self.store.session_count()?;
        report.summary.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(Staged { report, outputs })
    }

    /// Writes the outputs now, whether or not the fold changed.
    pub fn write_outputs(&mut self) -> Result<(), EngineError> {
        self.outputs
            .write_if_changed(&mut self.store, true)
            .map(|_| ())
    }

    /// Writes the outputs if the fold changed since they were last written (for
    /// callers that fed the store themselves, such as the git sync); returns
    /// whether it wrote.
    pub fn refresh_outputs(&mut self) -> Result<bool, EngineError> {
        self.outputs.write_if_changed(&mut self.store, false)
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
