//! The store as every crate beside the engine sees it (docs/ARCHITECTURE.md,
//! "Who reads and writes the store"): a [`Reader`] that can only read, from
//! the engine ([`crate::Engine::reader`]) or from a connection of its own
//! ([`ReadHandle`]: the dashboard, the CLI's views, `status`); and a
//! [`Ledger`] for what the daemon's helpers record beside the picture — the
//! specialists they started and the notifications they queue and send —
//! through a connection of their own. The picture itself (the log, the fold,
//! the sessions, the sync states) is written by the engine alone.

use chittysync_core::{Observation, Timestamp};
use chittysync_store::sync_state::SyncState;
use chittysync_store::{
    FoldCounts, FoldRow, LoggedObservation, NewSpawn, NotifyEvent, SessionRecord, SpawnRecord,
    Store, StoreError, StoredTodo, Via,
};
use std::path::Path;

/// A read-only view of a home's store. Every read sees what was committed
/// when it ran; [`Reader::read_consistent`] makes several agree.
#[derive(Clone, Copy)]
pub struct Reader<'s> {
    pub(crate) store: &'s Store,
}

impl<'s> Reader<'s> {
    pub(crate) fn new(store: &'s Store) -> Reader<'s> {
        Reader { store }
    }

    /// Runs `f` in one read transaction: every read in it sees the store as
    /// it was at its first read, whatever other processes commit meanwhile.
    pub fn read_consistent<T>(
        self,
        f: impl FnOnce(Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.store.read_consistent(|store| f(Reader::new(store)))
    }

    /// Bumped by every change of the fold (docs/DESIGN.md, "The fold").
    pub fn fold_generation(self) -> Result<u64, StoreError> {
        self.store.fold_generation()
    }

    /// Bumped when the fold is rebuilt whole (a rollback, an upgrade): rows
    /// changed since a generation of an older epoch cannot be merged in.
    pub fn fold_epoch(self) -> Result<u64, StoreError> {
        self.store.fold_epoch()
    }

    pub fn fold_counts(self) -> Result<FoldCounts, StoreError> {
        self.store.fold_counts()
    }

    /// Every folded todo, deleted ones too, in output order.
    pub fn folded_todos(self) -> Result<Vec<StoredTodo>, StoreError> {
        self.store.folded_todos()
    }

    /// Every folded todo as the board reads it.
    pub fn fold_rows(self) -> Result<Vec<FoldRow>, StoreError> {
        self.store.fold_rows()
    }

    /// The fold rows changed after `generation` (of the same epoch).
    pub fn fold_rows_changed_since(self, generation: u64) -> Result<Vec<FoldRow>, StoreError> {
        self.store.fold_rows_changed_since(generation)
    }

    pub fn sessions(self) -> Result<Vec<SessionRecord>, StoreError> {
        self.store.sessions()
    }

    /// One session's record.
    pub fn session(self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.store.session(id)
    }

    pub fn session_count(self) -> Result<u64, StoreError> {
        self.store.session_count()
    }

    /// Every specialist started (docs/TOPICS.md), oldest first.
    pub fn spawns(self) -> Result<Vec<SpawnRecord>, StoreError> {
        self.store.spawns()
    }

    pub fn observation_count(self) -> Result<u64, StoreError> {
        self.store.observation_count()
    }

    /// Every observation made at or before `time` (a rollback's point).
    pub fn observations_until(self, time: Timestamp) -> Result<Vec<Observation>, StoreError> {
        self.store.observations_until(time)
    }

    /// Observations after local sequence number `after`, at most `limit`,
    /// that arrived by `via`: what an exporter has not sent yet.
    pub fn observations_after(
        self,
        after: i64,
        via: Via,
        limit: usize,
    ) -> Result<Vec<LoggedObservation>, StoreError> {
        self.store.observations_after(after, via, limit)
    }

    /// A remote's sync state (docs/DESIGN.md, "Sync").
    pub fn sync_state(self, remote: &str) -> Result<SyncState, StoreError> {
        self.store.sync_state(remote)
    }

    /// One of the store's named values.
    pub fn meta(self, key: &str) -> Result<Option<String>, StoreError> {
        self.store.meta(key)
    }
}

/// A read-only connection of its own to a home's store.
pub struct ReadHandle {
    store: Store,
}

impl ReadHandle {
    /// Opens the store only if it exists, never creating it: `None` when
    /// nothing was consolidated in that home yet.
    pub fn open_existing(path: &Path) -> Result<Option<ReadHandle>, StoreError> {
        Ok(Store::open_existing(path)?.map(|store| ReadHandle { store }))
    }

    pub fn reader(&self) -> Reader<'_> {
        Reader::new(&self.store)
    }
}

/// What the daemon's helpers record beside the picture, through a
/// connection of their own: the specialists started (docs/TOPICS.md) and the
/// notifications queue (docs/COLLISIONS.md, "Telling the person").
pub struct Ledger {
    store: Store,
}

/// A notification to queue: its key (channel and event), kind and body.
pub struct Notice<'a> {
    pub key: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
}

/// How a notification's delivery went.
pub enum Delivered<'a> {
    Sent {
        at: Timestamp,
    },
    /// Failed, to be tried again at `next_try`.
    Failed {
        error: &'a str,
        next_try: Timestamp,
    },
    /// Failed for the last time.
    Dropped {
        error: &'a str,
        at: Timestamp,
    },
}

impl Ledger {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Ledger, StoreError> {
        Ok(Ledger {
            store: Store::open(path)?,
        })
    }

    pub fn reader(&self) -> Reader<'_> {
        Reader::new(&self.store)
    }

    /// Records a specialist's start if `decide`, shown the starts of its
    /// project and topic so far, still says so — under the store's write
    /// lock, so two deciders never start a topic twice — and names its files
    /// by its id (`files(id)`: its todos file and its log). `None` when
    /// `decide` says no.
    pub fn record_spawn(
        &mut self,
        project: &str,
        topic: &str,
        decide: impl FnOnce(&[SpawnRecord]) -> Option<NewSpawn>,
        files: impl FnOnce(i64) -> (String, String),
    ) -> Result<Option<i64>, StoreError> {
        let tx = self.store.begin()?;
        let history = tx.spawns_of(project, topic)?;
        let Some(spawn) = decide(&history) else {
            return Ok(None);
        };
        let id = tx.insert_spawn(&spawn)?;
        let (todos_file, log_file) = files(id);
        tx.set_spawn_files(id, &todos_file, &log_file)?;
        tx.commit()?;
        Ok(Some(id))
    }

    pub fn set_spawn_command(&self, id: i64, command: &[String]) -> Result<(), StoreError> {
        self.store.set_spawn_command(id, command)
    }

    pub fn spawn_started(&self, id: i64, pid: u32) -> Result<(), StoreError> {
        self.store.spawn_started(id, pid)
    }

    pub fn spawn_ended(
        &self,
        id: i64,
        at: Timestamp,
        exit_code: Option<i32>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.store.spawn_ended(id, at, exit_code, error)
    }

    /// Links a start to the session it became.
    pub fn link_spawn_session(&self, id: i64, session: &str) -> Result<(), StoreError> {
        self.store.link_spawn_session(id, session)
    }

    /// Queues the notices not queued before, in one transaction; says of
    /// each whether it was new.
    pub fn queue_notices(
        &mut self,
        notices: &[Notice<'_>],
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        let tx = self.store.begin()?;
        let fresh = notices
            .iter()
            .map(|n| tx.queue_notify_event(n.key, n.kind, n.body, now))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(fresh)
    }

    /// The queued notices due at `now`.
    pub fn due_notices(&self, now: Timestamp) -> Result<Vec<NotifyEvent>, StoreError> {
        self.store.due_notify_events(now)
    }

    /// How many notices whose key starts with `prefix` were sent since `since`.
    pub fn notices_sent_since(&self, prefix: &str, since: Timestamp) -> Result<u64, StoreError> {
        self.store.notify_sent_since(prefix, since)
    }

    /// Records how a notice's delivery went.
    pub fn delivered(&mut self, key: &str, how: Delivered<'_>) -> Result<(), StoreError> {
        let tx = self.store.begin()?;
        match how {
            Delivered::Sent { at } => tx.notify_event_sent(key, at)?,
            Delivered::Failed { error, next_try } => {
                tx.notify_event_failed(key, error, next_try)?
            }
            Delivered::Dropped { error, at } => tx.notify_event_dropped(key, error, at)?,
        }
        tx.commit()
    }
}
