//! Consolidation: from the files Claude Code writes to one folded picture.
//!
//! A run stats every source file, reads only those whose size or mtime changed
//! (transcripts only from where the last run stopped), parses them in parallel,
//! turns what they say into observations in one store transaction, and rewrites
//! the outputs only when the fold changed. The daemon, the hooks and the
//! `consolidate` command all go through [`Engine`].

#![forbid(unsafe_code)]

mod collisions;
mod consolidate;
mod error;
mod hook;
mod ingest;
mod mcp;
mod merge_conflicts;
mod outputs;
mod project_lookup;
mod read;
mod reader;
mod remote;
mod report;
mod rollback;
mod summary;
mod sync;
pub mod views;

pub use chittysync_store::sync_state::{SyncEvent, SyncState, REMOTES};
// The store's records, as readers beside the engine receive them.
pub use chittysync_store::{
    create_private_database, CreateError, FoldCounts, FoldRow, FoldedTodo, LoggedObservation,
    NewSpawn, NotifyEvent, SessionRecord, SpawnRecord, StoreError, StoredTodo, Via,
};
pub use collisions::collisions_in;
pub use consolidate::Staged;
pub use error::EngineError;
pub use hook::{HookEnv, HookError, HookInput, ToolReport};
pub use mcp::{McpCaller, PlanWritten, TodoRef, TodoUpdated, UpdateError};
pub use outputs::{
    remove_abandoned_temporaries, render_todos_file, write_atomically, OutputPaths, Snapshots,
};
pub use reader::{Delivered, Ledger, Notice, ReadHandle, Reader};
pub use remote::{Backoff, Published, Pulled, Pushed, Remote, RemoteCursor, RemoteError};
pub use report::{daily_report, DayRow};
pub use summary::{Report, Summary};
pub use sync::SyncOutcome;

use chittysync_config::{Config, Locations};
use chittysync_core::ProjectRules;
use chittysync_sources::agents::Agent;
use chittysync_sources::Sources;
use chittysync_store::Store;

/// Consolidates one Claude Code folder into one chittysync home.
pub struct Engine {
    store: Store,
    /// Every enabled agent's records: Claude Code's folder first.
    sources: Sources,
    outputs: outputs::Outputs,
    device: String,
    rules: ProjectRules,
    max_file_bytes: u64,
    /// Told how far a run's reading has come (a progress bar's feed).
    progress: Option<Box<ingest::Progress>>,
}

impl Engine {
    /// Opens the store in the home (creating both if needed).
    pub fn open(locations: &Locations, config: &Config) -> Result<Engine, EngineError> {
        let store = Store::open(&locations.store_path())?;
        Ok(Engine {
            store,
            sources: Sources::new(
                locations.claude_dir.clone(),
                locations
                    .agent_folders(&config.sources)
                    .into_iter()
                    .filter_map(|f| Some((Agent::parse(f.agent)?, f.dir)))
                    .collect(),
            ),
            outputs: outputs::Outputs::new(OutputPaths::in_home(&locations.home)),
            device: config.device_name(),
            rules: config.project_rules(),
            max_file_bytes: config.limits.max_file_bytes,
            progress: None,
        })
    }

    /// Calls `progress(done, total)` after each step of reading a run's
    /// changed files (2,048 at a time): files taken in, and files to read.
    pub fn on_progress(&mut self, progress: impl Fn(u64, u64) + Send + 'static) {
        self.progress = Some(Box::new(progress));
    }

    /// The store, to read (docs/ARCHITECTURE.md, "Who reads and writes the store").
    pub fn reader(&self) -> Reader<'_> {
        Reader::new(&self.store)
    }

    /// Links a specialist's start to the session it became (the hook that
    /// sees the session start knows it first).
    pub fn link_spawn_session(&self, spawn: i64, session: &str) -> Result<(), EngineError> {
        Ok(self.store.link_spawn_session(spawn, session)?)
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    /// Every enabled agent's records, and their folders.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    pub fn outputs(&self) -> &OutputPaths {
        &self.outputs.paths
    }

    pub fn rules(&self) -> &ProjectRules {
        &self.rules
    }

    /// `todos.json` and `project-coordination.json` as the git sync commits
    /// them (see [`Snapshots`]), from the outputs kept rendered.
    pub fn render_snapshots(&mut self) -> Result<Snapshots, EngineError> {
        self.outputs.snapshots(&self.store)
    }
}
