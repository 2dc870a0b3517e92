//! The index of source files: what was read, how far, and whether it failed.

use crate::{Result, Store, Tx};
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

/// What the store remembers of one source file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileRecord {
    pub size: u64,
    pub mtime_ms: i64,
    /// For transcripts: the byte offset after the last complete line read.
    pub read_offset: u64,
    /// For transcripts: how many lines that offset covers.
    pub read_line: u64,
    /// For transcripts: the fingerprint of the file's first bytes when read.
    pub head: Option<(u32, u64)>,
    /// Why the file could not be used, when it could not.
    pub error: Option<String>,
    /// For sources read by a cursor rather than an offset (a database): the
    /// cursor, as its reader wrote it.
    pub cursor: Option<String>,
}

impl Store {
    /// The whole file index, keyed by path (as text: hashing a `PathBuf`
    /// walks its components, which is slow over tens of thousands of files).
    pub fn file_index(&self) -> Result<HashMap<String, FileRecord>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("SELECT path, {RECORD_COLUMNS} FROM files"))?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, record_from_row(row, 1)?)))?;
        Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
    }

    /// Every indexed path with its size and mtime, in path order (byte order,
    /// SQLite's `BINARY`: the table's key order, so no sort), handed over
    /// borrowed: a re-run that finds nothing changed compares these against
    /// what discovery stat'ed, and allocating each of tens of thousands of
    /// paths was a sixth of such a run (docs/ARCHITECTURE.md, "A re-run with
    /// nothing changed").
    pub fn each_file_stat(&self, mut each: impl FnMut(&str, u64, i64)) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT path, size, mtime_ms FROM files ORDER BY path")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let path = row
                .get_ref(0)?
                .as_str()
                .map_err(|e| crate::StoreError::corrupt("file path", e))?;
            each(path, row.get::<_, i64>(1)? as u64, row.get(2)?);
        }
        Ok(())
    }

    /// What the index holds for one path.
    pub fn file_record(&self, path: &str) -> Result<Option<FileRecord>> {
        Ok(self
            .conn()
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM files WHERE path = ?1"
            ))?
            .query_row([path], |row| record_from_row(row, 0))
            .optional()?)
    }
}

const RECORD_COLUMNS: &str =
    "size, mtime_ms, read_offset, read_line, head_len, head_hash, error, cursor";

/// Reads the columns of [`RECORD_COLUMNS`] starting at `at`.
fn record_from_row(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<FileRecord> {
    let head_len: Option<i64> = row.get(at + 4)?;
    let head_hash: Option<i64> = row.get(at + 5)?;
    Ok(FileRecord {
        size: row.get::<_, i64>(at)? as u64,
        mtime_ms: row.get(at + 1)?,
        read_offset: row.get::<_, i64>(at + 2)? as u64,
        read_line: row.get::<_, i64>(at + 3)? as u64,
        head: head_len.zip(head_hash).map(|(l, h)| (l as u32, h as u64)),
        error: row.get(at + 6)?,
        cursor: row.get(at + 7)?,
    })
}

impl Tx<'_> {
    pub fn record_file(&self, path: &std::path::Path, record: &FileRecord) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO files (path, size, mtime_ms, read_offset, read_line, head_len, head_hash, error, cursor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
                   read_offset = excluded.read_offset, read_line = excluded.read_line,
                   head_len = excluded.head_len, head_hash = excluded.head_hash, error = excluded.error,
                   cursor = excluded.cursor",
            )?
            .execute(params![
                path.to_string_lossy(),
                record.size as i64,
                record.mtime_ms,
                record.read_offset as i64,
                record.read_line as i64,
                record.head.map(|(l, _)| l as i64),
                record.head.map(|(_, h)| h as i64),
                record.error,
                record.cursor,
            ])?;
        Ok(())
    }

    /// Forgets files that no longer exist (their observations stay).
    pub fn forget_file(&self, path: &std::path::Path) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM files WHERE path = ?1")?
            .execute([path.to_string_lossy()])?;
        Ok(())
    }
}
