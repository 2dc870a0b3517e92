//! `<home>/daemon.json`: what the daemon last did, for `status` and for people.
//!
//! Rewritten atomically after every consolidation, so a reader sees a whole
//! file; whether the daemon still runs is told by its lock, not by this file
//! (a killed daemon cannot update it).

use crate::lock;
use chittysync_core::Timestamp;
use chittysync_engine::{write_atomically, EngineError, Report};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub pid: u32,
    pub started_at: Timestamp,
    /// When this file was last written.
    pub updated_at: Timestamp,
    /// When the last consolidation finished (successfully or not).
    pub last_consolidation: Option<Timestamp>,
    /// When the last interval rescan ran.
    pub last_rescan: Option<Timestamp>,
    pub counters: Counters,
    pub last_error: Option<LastError>,
    /// Set when the daemon stopped cleanly (a signal); absent while it runs
    /// or if it was killed.
    pub stopped_at: Option<Timestamp>,
}

/// Totals since the daemon started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Consolidations run.
    pub runs: u64,
    /// Source files read because they changed.
    pub files_changed: u64,
    /// Observations new to the store.
    pub observations: u64,
    /// Source files and lines that could not be used (warnings in the log).
    pub warnings: u64,
    /// Consolidations that failed (the home, not a source file, was at fault).
    pub errors: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub at: Timestamp,
    pub message: String,
}

pub fn heartbeat_path(home: &Path) -> PathBuf {
    home.join("daemon.json")
}

impl Heartbeat {
    pub fn new(now: Timestamp) -> Heartbeat {
        Heartbeat {
            pid: std::process::id(),
            started_at: now,
            updated_at: now,
            last_consolidation: None,
            last_rescan: None,
            counters: Counters::default(),
            last_error: None,
            stopped_at: None,
        }
    }

    /// Counts a consolidation that finished.
    pub fn record_run(&mut self, report: &Report, now: Timestamp) {
        self.counters.runs += 1;
        self.counters.files_changed += report.summary.files_changed;
        self.counters.observations += report.summary.observations;
        self.counters.warnings += report.warnings.len() as u64;
        self.last_consolidation = Some(now);
    }

    /// Counts a consolidation that failed.
    pub fn record_error(&mut self, message: String, now: Timestamp) {
        self.counters.runs += 1;
        self.counters.errors += 1;
        self.last_consolidation = Some(now);
        self.last_error = Some(LastError { at: now, message });
    }

    pub fn write(&mut self, home: &Path, now: Timestamp) -> Result<(), EngineError> {
        self.updated_at = now;
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        write_atomically(&heartbeat_path(home), text.as_bytes())
    }

    /// The heartbeat of a home; None when there is none or it is unreadable.
    pub fn read(home: &Path) -> Option<Heartbeat> {
        let text = std::fs::read_to_string(heartbeat_path(home)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// Whether a daemon runs for a home, and what it last reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaemonStatus {
    /// A process holds the home's lock.
    pub alive: bool,
    /// The pid holding the lock (when alive), else the last heartbeat's.
    pub pid: Option<u32>,
    pub heartbeat: Option<Heartbeat>,
}

impl DaemonStatus {
    pub fn of(home: &Path) -> std::io::Result<DaemonStatus> {
        let holder = lock::holder(home)?;
        let heartbeat = Heartbeat::read(home);
        Ok(DaemonStatus {
            alive: holder.is_some(),
            pid: holder.flatten().or(heartbeat.as_ref().map(|h| h.pid)),
            heartbeat,
        })
    }
}
