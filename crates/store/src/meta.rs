//! Small named values: counters and the last run's summary.

use crate::{Result, Store, Tx};
use rusqlite::{Connection, OptionalExtension};

fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A counter's value: 0 until first bumped.
fn counter(conn: &Connection, key: &str) -> Result<u64> {
    Ok(get(conn, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

impl Store {
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        get(self.conn(), key)
    }

    pub(crate) fn counter(&self, key: &str) -> Result<u64> {
        counter(self.conn(), key)
    }
}

impl Tx<'_> {
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        get(self.conn(), key)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }

    pub(crate) fn counter(&self, key: &str) -> Result<u64> {
        counter(self.conn(), key)
    }

    /// Adds one to a counter and returns the new value.
    pub fn bump_counter(&self, key: &str) -> Result<u64> {
        let next = self.counter(key)? + 1;
        self.set_meta(key, &next.to_string())?;
        Ok(next)
    }
}
