//! The index of source files: what was read, how far, and whether it failed.

use crate::{Result, Store, Tx};
use rusqlite::params;
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
}

impl Store {
    /// The whole file index, keyed by path (as text: hashing a `PathBuf`
    /// walks its components, which is slow over tens of thousands of files).
    pub fn file_index(&self) -> Result<HashMap<String, FileRecord>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT path, size, mtime_ms, read_offset, read_line, head_len, head_hash, error FROM files",
        )?;
        let rows = stmt.query_map([], |row| {
            let path: String = row.get(0)?;
            let head_len: Option<i64> = row.get(5)?;
            let head_hash: Option<i64> = row.get(6)?;
            Ok((
                path,
                FileRecord {
                    size: row.get::<_, i64>(1)? as u64,
                    mtime_ms: row.get(2)?,
                    read_offset: row.get::<_, i64>(3)? as u64,
                    read_line: row.get::<_, i64>(4)? as u64,
                    head: head_len.zip(head_hash).map(|(l, h)| (l as u32, h as u64)),
                    error: row.get(7)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
    }
}

impl Tx<'_> {
    pub fn record_file(&self, path: &std::path::Path, record: &FileRecord) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO files (path, size, mtime_ms, read_offset, read_line, head_len, head_hash, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
                   read_offset = excluded.read_offset, read_line = excluded.read_line,
                   head_len = excluded.head_len, head_hash = excluded.head_hash, error = excluded.error",
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
