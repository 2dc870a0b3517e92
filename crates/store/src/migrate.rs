//! Versioned schema migrations, tracked in SQLite's `user_version`.
//!
//! Each migration runs once, in order, inside one transaction; a store written
//! by a newer chittysync is refused rather than misread.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_initial.sql"),
    include_str!("../migrations/002_todo_generation.sql"),
    include_str!("../migrations/003_open_todos_index.sql"),
    include_str!("../migrations/004_file_cursor.sql"),
    include_str!("../migrations/005_session_model.sql"),
    include_str!("../migrations/006_collisions.sql"),
    include_str!("../migrations/007_spawns.sql"),
    include_str!("../migrations/008_sessions_project.sql"),
];

/// The schema versions after which the stored fold is computed again from
/// the log, because the rows it keeps gained something (004: each todo's
/// agents).
const REFOLD_AFTER: &[usize] = &[4];

pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "schema version {version} is newer than this chittysync understands ({}); upgrade chittysync",
            MIGRATIONS.len()
        )));
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have migrated while we waited for the lock.
    let version = tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    let tx = crate::Tx { tx };
    if version > 0 && REFOLD_AFTER.iter().any(|&v| v > version) {
        tx.refold_all().map_err(|e| match e {
            crate::StoreError::Sql(e) => e,
            other => rusqlite::Error::InvalidParameterName(other.to_string()),
        })?;
    }
    tx.tx.commit()
}
