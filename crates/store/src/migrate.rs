//! Versioned schema migrations, tracked in SQLite's `user_version`.
//!
//! Each migration runs once, in order, inside one transaction; a store written
//! by a newer chittysync is refused rather than misread. A migration is SQL,
//! and may have a step in Rust run after it in the same transaction (009:
//! moving the observations into the log file).

use crate::{Result, StoreError, Tx};
use rusqlite::Connection;

/// A migration's SQL, and what runs after it.
type Migration = (&'static str, Option<fn(&Tx<'_>) -> Result<()>>);

const MIGRATIONS: &[Migration] = &[
    (include_str!("../migrations/001_initial.sql"), None),
    (include_str!("../migrations/002_todo_generation.sql"), None),
    (include_str!("../migrations/003_open_todos_index.sql"), None),
    (include_str!("../migrations/004_file_cursor.sql"), None),
    (include_str!("../migrations/005_session_model.sql"), None),
    (include_str!("../migrations/006_collisions.sql"), None),
    (include_str!("../migrations/007_spawns.sql"), None),
    (include_str!("../migrations/008_sessions_project.sql"), None),
    (
        include_str!("../migrations/009_observation_log.sql"),
        Some(|tx| tx.move_observations_to_log()),
    ),
    (include_str!("../migrations/010_log_tail.sql"), None),
];

/// The schema version this chittysync writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The schema version that made the log's tail (`log_tail`).
const TAIL_SINCE: usize = 10;

/// The schema versions after which the stored fold is computed again from
/// the log, because the rows it keeps gained something (004: each todo's
/// agents).
const REFOLD_AFTER: &[usize] = &[4];

fn version_of(conn: &Connection) -> rusqlite::Result<usize> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize)
}

pub(crate) fn migrate(conn: &mut Connection, log: &crate::log::Log) -> Result<()> {
    let version = version_of(conn)?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Sql(rusqlite::Error::InvalidParameterName(format!(
            "schema version {version} is newer than this chittysync understands ({}); upgrade chittysync",
            MIGRATIONS.len()
        ))));
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have migrated while we waited for the lock.
    let version = version_of(&tx)?;
    let tx = Tx::new(tx, log);
    for (index, (sql, then)) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.tx.execute_batch(sql)?;
        if let Some(step) = then {
            // Before 010 there is no log tail to move into the file when
            // 009 opens it: the step is told the tail is empty.
            if index + 1 < TAIL_SINCE {
                tx.tail.replace(Some(crate::tail::TailAppends::EMPTY));
            }
            step(&tx)?;
            tx.tail.replace(None);
        }
        tx.tx
            .pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    if version > 0 && REFOLD_AFTER.iter().any(|&v| v > version) {
        tx.refold_all()?;
    }
    tx.commit()
}

/// A store of an earlier schema, made for upgrade tests: the migrations up
/// to `version` applied to an empty database at `path`, with nothing of the
/// log file (a store of schema 8 or earlier keeps its observations in
/// SQLite).
#[doc(hidden)]
pub fn create_schema_at(path: &std::path::Path, version: usize) -> Result<()> {
    let conn = Connection::open(path)?;
    for (sql, _) in &MIGRATIONS[..version] {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "user_version", version as i64)?;
    Ok(())
}
