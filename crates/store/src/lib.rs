//! chittysync's embedded store: one SQLite file in chittysync's home, and the
//! append-only observation log in a file beside it (docs/ARCHITECTURE.md,
//! "The store").
//!
//! SQLite holds the log's index by todo, each observer's latest word per
//! todo, the materialized fold, the index of source files read, sessions and
//! tasks. Several processes use it at once — the daemon, `consolidate`, eight
//! hooks firing together — so it runs in WAL mode with a busy timeout, and every
//! write is one short `BEGIN IMMEDIATE` transaction.

#![forbid(unsafe_code)]

mod beside;
mod board;
mod collisions;
mod error;
mod files;
mod fold_state;
mod log;
mod meta;
mod migrate;
mod observations;
mod sessions;
mod spawns;
pub mod sync_state;
mod tail;
mod tasks;
mod todos;
mod views;

pub use beside::make_beside;
pub use board::{FoldRow, FoldedTodo};
pub use collisions::{NewWord, NotifyEvent, TodoWords};
pub use error::StoreError;
pub use files::FileRecord;
pub use fold_state::{BulkLoad, FoldChange};
pub use migrate::{create_schema_at, SCHEMA_VERSION};
pub use observations::{LoggedObservation, Via};
pub use sessions::{SessionRecord, SessionUpdate};
pub use spawns::{NewSpawn, SpawnRecord};
pub use tasks::{PendingCreate, TaskName};
pub use todos::{FoldCounts, StoredTodo};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

pub type Result<T> = std::result::Result<T, StoreError>;

/// An open store.
pub struct Store {
    conn: Connection,
    /// The observation log beside the database (docs/ARCHITECTURE.md, "The store").
    log: log::Log,
    /// What this store's reads outside a transaction learned of the log's tail.
    seen: std::cell::RefCell<tail::Seen>,
}

/// How long a run waits for another to let go of the store.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many prepared statements a connection keeps.
const STATEMENT_CACHE: usize = 128;

/// A write transaction. Dropped without [`Tx::commit`], it rolls back (and
/// what it appended to the observation log is cut by the next writer).
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    log: &'a log::Log,
    /// This transaction's appends to the log file, once it makes one.
    appender: std::cell::RefCell<Option<log::Appender>>,
    /// This transaction's appends to the log's tail, once it makes one.
    tail: std::cell::RefCell<Option<tail::TailAppends>>,
    /// Set when this transaction runs with a rollback journal: turns the
    /// store back to WAL once the transaction is committed or rolled back
    /// ([`Store::begin_load`]). After `tx`, so dropped after it.
    back_to_wal: Option<BackToWal<'a>>,
}

/// Turns the store back to WAL when dropped, after a load run with a
/// rollback journal ([`Store::begin_load`]). A connection another process
/// opened meanwhile may refuse the change for now; the store then stays as
/// it is until the next [`Store::open`] turns it to WAL, as each open does.
/// Either journal keeps every commit, so nothing hangs on it.
struct BackToWal<'a>(&'a Connection);

impl Drop for BackToWal<'_> {
    fn drop(&mut self) {
        let _refused_for_now = self
            .0
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0));
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        create_private(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::open(path, e))?;
        Self::configure(conn, path, log::Log::beside(path))
    }

    /// Whether an error is another process holding the database for now: a
    /// store being created or upgraded by another run at the same moment.
    fn is_busy(e: &rusqlite::Error) -> bool {
        matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }

    /// Opens the store only if it exists, never creating it (for read-only views).
    pub fn open_existing(path: &Path) -> Result<Option<Store>> {
        if !path.exists() {
            return Ok(None);
        }
        Store::open(path).map(Some)
    }

    fn configure(mut conn: Connection, path: &Path, log: log::Log) -> Result<Store> {
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| StoreError::open(path, e))?;
        // Every statement a consolidation runs stays prepared: more than
        // rusqlite's default 16, which re-prepared some on every row.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Two runs opening a new store at once race to turn it to WAL and to
        // create its tables; SQLite answers some of those steps "locked"
        // without waiting, so the loser waits here and tries again.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            let step = conn
                .execute_batch(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = OFF;
                     PRAGMA temp_store = MEMORY;
                     PRAGMA cache_size = -65536;",
                )
                .map_err(|e| StoreError::open(path, e))
                .and_then(|()| migrate::migrate(&mut conn, &log));
            match step {
                Ok(()) => {
                    return Ok(Store {
                        conn,
                        log,
                        seen: Default::default(),
                    })
                }
                Err(StoreError::Open { cause, .. } | StoreError::Sql(cause))
                    if Self::is_busy(&cause) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(StoreError::Sql(cause)) => return Err(StoreError::open(path, cause)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Starts a write transaction, waiting for other writers (up to the busy timeout).
    pub fn begin(&mut self) -> Result<Tx<'_>> {
        let Store { conn, log, .. } = self;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(Tx::new(tx, log))
    }

    /// Starts a write transaction that may load many observations at once
    /// (a cold run). If the store holds nothing yet and no other connection
    /// has it open, the transaction runs with a rollback journal instead of
    /// the WAL, and the store turns back to WAL once it commits: pages that
    /// did not exist before the load need no journal, so each is written
    /// once, into the database, instead of into the WAL and again by the
    /// checkpoint (docs/ARCHITECTURE.md, "How a cold run is stored").
    /// Otherwise it is [`Store::begin`].
    pub fn begin_load(&mut self) -> Result<Tx<'_>> {
        if !(self.is_empty()? && self.leave_wal()?) {
            return self.begin();
        }
        let Store { conn, log, .. } = self;
        let conn: &Connection = conn;
        let back_to_wal = BackToWal(conn);
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let mut tx = Tx::new(tx, log);
        tx.back_to_wal = Some(back_to_wal);
        Ok(tx)
    }

    /// Whether the store holds no observation and no folded todo.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.log_seq()? == 0 && fold_state::no_todos(&self.conn)?)
    }

    /// Turns the store from WAL to a rollback journal if no other
    /// connection has it open (one that has holds it shared, and the change
    /// is refused at once: the busy timeout is not waited for here); returns
    /// whether it did.
    fn leave_wal(&self) -> Result<bool> {
        self.conn.busy_timeout(Duration::ZERO)?;
        let mode = self
            .conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| {
                r.get::<_, String>(0)
            });
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        match mode {
            Ok(mode) => Ok(mode.eq_ignore_ascii_case("delete")),
            Err(e) if Self::is_busy(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The connection, for the read queries of the modules below.
    fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Creates the store's folders (0700) and its file (0600, empty: SQLite takes
/// an empty file for a new database), whatever the umask: the store holds
/// every todo, and is its user's alone.
fn create_private(path: &Path) -> Result<()> {
    create_private_database(path).map_err(|e| StoreError::Io {
        path: e.path,
        cause: e.cause,
    })
}

/// A folder or file [`create_private_database`] could not create.
#[derive(Debug)]
pub struct CreateError {
    pub path: std::path::PathBuf,
    pub cause: std::io::Error,
}

/// Creates a SQLite database's missing folders (0700) and the file itself
/// (0600, empty), whatever the umask, for the local store and the hub's
/// SQLite database alike. SQLite gives the `-wal` and `-shm` files it adds
/// the database file's mode. An existing file is left as it is; something
/// else in its place (a folder, a FIFO, a device) is refused.
pub fn create_private_database(path: &Path) -> std::result::Result<(), CreateError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| CreateError { path, cause }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(fail(parent))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        // SQLite would answer a FIFO or a device with "disk I/O error".
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => Err(fail(path)(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ))),
            _ => Ok(()),
        },
        Err(e) => Err(fail(path)(e)),
    }
}

impl<'a> Tx<'a> {
    fn new(tx: rusqlite::Transaction<'a>, log: &'a log::Log) -> Tx<'a> {
        Tx {
            tx,
            log,
            appender: std::cell::RefCell::new(None),
            tail: std::cell::RefCell::new(None),
            back_to_wal: None,
        }
    }

    /// Commits: what was appended to the observation log file is fsynced
    /// first, and counted in the same SQLite transaction as everything that
    /// refers to it; what went to the log's tail is SQLite's own
    /// (docs/ARCHITECTURE.md, "What is durable when").
    pub fn commit(self) -> Result<()> {
        let mut appended = self.tail.borrow().map_or(0, |t| t.appended);
        if let Some(appender) = self.appender.borrow_mut().as_mut() {
            if appender.end != appender.committed {
                appender.sync(self.log)?;
                self.set_log_end(appender.end)?;
            }
            appended += appender.appended;
        }
        if appended > 0 {
            self.count_logged(appended)?;
        }
        // A load's journal goes back to WAL when `self.back_to_wal` drops,
        // after this.
        self.tx.commit()?;
        Ok(())
    }

    fn conn(&self) -> &Connection {
        &self.tx
    }
}
