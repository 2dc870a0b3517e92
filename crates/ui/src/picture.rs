//! The picture the pages show, read from the store through the engine's views
//! (`chittysync_engine::views`, shared with the CLI and the MCP server), and
//! kept in memory until the fold changes (docs/UI.md, "Reading the store").
//!
//! The store is the one the daemon keeps current; the dashboard only reads
//! it. It is opened when first needed (it may not exist yet when the
//! dashboard starts) and never created by the dashboard.
//!
//! The pages read a [`DataSource`]: the local store ([`LocalSource`]) or a
//! hub tenant's store (the hub implements it, docs/UI.md, "On the hub").

use chittysync_core::topic::TopicRules;
use chittysync_core::{Conflict, Status, TodoEntry};
use chittysync_engine::views::TodoHistory;
use chittysync_store::{SessionRecord, SpawnRecord, Store, StoreError, StoredTodo};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Where the pages read the picture from. Its methods block (the pages call
/// them on a blocking thread).
pub trait DataSource: Send + Sync + 'static {
    /// The current picture.
    fn picture(&self) -> Result<Arc<Picture>, ReadError>;
    /// One todo's history, by its whole id; `None` if no todo has it.
    fn history(&self, id: &str) -> Result<Option<TodoHistory>, ReadError>;
    /// A counter bumped at every change of the picture: what the live
    /// updates (`/events`) follow.
    fn changes(&self) -> watch::Receiver<u64>;
    /// `sessions.stale_after`, in milliseconds.
    fn stale_after_ms(&self) -> i64;
    /// `[[topics.rules]]`.
    fn topic_rules(&self) -> &TopicRules;
}

/// The data source a request reads (an axum extension on every request).
pub type Shared = Arc<dyn DataSource>;

/// How long the sessions read with a picture stay current when the fold did
/// not change (a session's last activity moves without changing any todo).
const SESSIONS_FRESH: Duration = Duration::from_secs(2);

/// One read of the fold and the sessions.
pub struct Picture {
    pub generation: u64,
    epoch: u64,
    read_at: Instant,
    /// Every folded todo, deleted ones too, in output order (shared with
    /// the next picture while the fold is unchanged).
    pub stored: Arc<Vec<StoredTodo>>,
    /// The same todos' entries, in the same order.
    pub entries: Arc<Vec<TodoEntry>>,
    /// The conflicts of the todos shown (not deleted ones), by todo id.
    pub conflicts: Arc<HashMap<String, Conflict>>,
    pub sessions: Vec<SessionRecord>,
    /// Each session's device, by session id.
    pub device_of: HashMap<String, String>,
    /// The specialists chittysync started on this device (docs/TOPICS.md),
    /// to mark the sessions they became; none on a hub.
    pub spawns: Vec<SpawnRecord>,
}

impl Picture {
    /// A picture of folded todos held elsewhere (a hub's): their entries in
    /// output order, their conflicts by todo id, and the sessions.
    pub fn from_entries(
        generation: u64,
        entries: Vec<TodoEntry>,
        conflicts: HashMap<String, Conflict>,
        sessions: Vec<SessionRecord>,
    ) -> Picture {
        let stored = entries
            .iter()
            .map(|e| StoredTodo {
                todo_id: e.id.clone(),
                project: e.project.clone(),
                sort_key: chittysync_core::normalize(&e.content),
                status: e.status,
                sessions: e.sessions.clone(),
                entry_json: serde_json::to_string(e).unwrap_or_default(),
                conflict_json: conflicts
                    .get(&e.id)
                    .filter(|_| e.status != Status::Deleted)
                    .and_then(|c| serde_json::to_string(c).ok()),
            })
            .collect();
        let device_of = devices(&sessions);
        Picture {
            generation,
            epoch: 0,
            read_at: Instant::now(),
            stored: Arc::new(stored),
            entries: Arc::new(entries),
            conflicts: Arc::new(conflicts),
            sessions,
            device_of,
            spawns: Vec::new(),
        }
    }

    fn read(store: &Store, same_fold: Option<&Picture>) -> Result<Picture, StoreError> {
        let sessions = store.sessions()?;
        let spawns = store.spawns()?;
        let device_of = devices(&sessions);
        let generation = store.fold_generation()?;
        let epoch = store.fold_epoch()?;
        // Only the sessions moved: the todos read before are still the fold.
        let (stored, entries, conflicts) =
            match same_fold.filter(|p| p.generation == generation && p.epoch == epoch) {
                Some(p) => (p.stored.clone(), p.entries.clone(), p.conflicts.clone()),
                None => {
                    let stored = store.folded_todos()?;
                    let entries = stored
                        .iter()
                        .map(StoredTodo::entry)
                        .collect::<Result<Vec<_>, _>>()?;
                    let conflicts = chittysync_engine::views::conflicts(store)?
                        .into_iter()
                        .map(|c| (c.id.clone(), c))
                        .collect();
                    (Arc::new(stored), Arc::new(entries), Arc::new(conflicts))
                }
            };
        Ok(Picture {
            generation,
            epoch,
            read_at: Instant::now(),
            stored,
            entries,
            conflicts,
            sessions,
            device_of,
            spawns,
        })
    }

    /// The devices a todo's sessions ran on, sorted, each once.
    pub fn devices_of(&self, entry: &TodoEntry) -> Vec<&str> {
        let mut out: Vec<&str> = entry
            .sessions
            .iter()
            .filter_map(|s| self.device_of.get(s).map(String::as_str))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Each session's device, by session id.
fn devices(sessions: &[SessionRecord]) -> HashMap<String, String> {
    sessions
        .iter()
        .map(|s| (s.id.clone(), s.device.clone()))
        .collect()
}

/// What a page could not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No store yet: nothing was consolidated in this home.
    #[error("nothing consolidated yet in {0}: run `chittysync consolidate` or start `chittysync daemon`")]
    NoStore(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The todos are sealed end to end (a hub tenant with `encrypt = true`,
    /// docs/ENCRYPTION.md): the source holds no text to show.
    #[error("this tenant's todos are encrypted end to end (docs/ENCRYPTION.md): the hub holds no text to show; open `chittysync ui` on a device that has the key")]
    Encrypted,
    /// Another data source's failure (a hub's database).
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// The store, opened once, and the last picture read from it.
pub struct Source {
    store_path: PathBuf,
    store: Mutex<Option<Store>>,
    cached: Mutex<Option<Arc<Picture>>>,
    pub stale_after_ms: i64,
}

impl Source {
    pub fn new(store_path: PathBuf, stale_after_ms: i64) -> Source {
        Source {
            store_path,
            store: Mutex::new(None),
            cached: Mutex::new(None),
            stale_after_ms,
        }
    }

    /// Runs `f` on the store (blocking: call from a blocking task).
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, ReadError> {
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Store::open_existing(&self.store_path)?;
        }
        match guard.as_ref() {
            Some(store) => Ok(f(store)?),
            None => Err(ReadError::NoStore(
                self.store_path
                    .parent()
                    .unwrap_or(&self.store_path)
                    .display()
                    .to_string(),
            )),
        }
    }

    /// The fold's generation and epoch: what the live updates watch.
    pub fn generation(&self) -> Result<(u64, u64), ReadError> {
        self.with_store(|s| Ok((s.fold_generation()?, s.fold_epoch()?)))
    }

    /// The current picture: the cached one while the fold is unchanged and
    /// its sessions fresh, else a new read (blocking).
    pub fn picture(&self) -> Result<Arc<Picture>, ReadError> {
        let (generation, epoch) = self.generation()?;
        let cached = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(p) = &cached {
            if p.generation == generation
                && p.epoch == epoch
                && p.read_at.elapsed() < SESSIONS_FRESH
            {
                return Ok(p.clone());
            }
        }
        let fresh = Arc::new(self.with_store(|store| Picture::read(store, cached.as_deref()))?);
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }
}

/// The local picture: the store the daemon keeps current, and the changes
/// [`crate::live::watch_store`] sees in it.
pub struct LocalSource {
    pub source: Arc<Source>,
    pub topic_rules: TopicRules,
    pub changes: watch::Receiver<u64>,
}

impl DataSource for LocalSource {
    fn picture(&self) -> Result<Arc<Picture>, ReadError> {
        self.source.picture()
    }

    fn history(&self, id: &str) -> Result<Option<TodoHistory>, ReadError> {
        let wanted = id.to_string();
        self.source.with_store(move |store| {
            Ok(chittysync_engine::views::histories(store, &wanted)?
                .into_iter()
                .find(|h| h.todo.id == wanted))
        })
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    fn stale_after_ms(&self) -> i64 {
        self.source.stale_after_ms
    }

    fn topic_rules(&self) -> &TopicRules {
        &self.topic_rules
    }
}

/// A start of a specialist for the pages' tests.
#[cfg(test)]
pub(crate) fn test_spawn(
    id: i64,
    project: &str,
    topic: &str,
    session: Option<&str>,
) -> SpawnRecord {
    use chittysync_core::Timestamp;
    SpawnRecord {
        id,
        project: project.to_string(),
        topic: topic.to_string(),
        device: "laptop".to_string(),
        command: vec!["claude".to_string()],
        cwd: "/work/shop".to_string(),
        pending: 3,
        reason: "3 pending".to_string(),
        todos_file: String::new(),
        log_file: String::new(),
        started_at: Timestamp(1_000),
        pid: Some(42),
        ended_at: None,
        exit_code: None,
        error: None,
        session: session.map(str::to_string),
    }
}
