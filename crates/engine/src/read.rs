//! Deciding which source files changed, and reading them in parallel.
//!
//! Unchanged files (same size and mtime as last time) are not opened at all.
//! Changed todo and task files are read whole (they are small, and refused
//! above the size limit); changed transcripts, rollouts and chats only from
//! where the last read stopped; a database from its stored cursor. Parsing is
//! independent per file, so it runs on every core. What each file holds is
//! its agent's source's business (`chittysync_sources::AgentSource`).

use chittysync_sources::{
    HeadMark, ReadFrom, ReadPosition, Reading, SourceFile, SourceKind, Sources,
};
use chittysync_store::{FileRecord, Store, StoreError};
use rayon::prelude::*;
use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

pub(crate) struct ReadFile {
    pub file: SourceFile,
    pub content: Reading,
}

/// The files to read this run, each with where to read it from.
pub(crate) struct Plan {
    pub changed: Vec<(SourceFile, ReadFrom)>,
    /// Paths the index knows that are gone from disk.
    pub vanished: Vec<PathBuf>,
}

/// Whether a file is read on from where the last read stopped.
fn is_appended(kind: &SourceKind) -> bool {
    match kind {
        SourceKind::Transcript { .. } => true,
        SourceKind::Agent(file) => file.is_appended(),
        _ => false,
    }
}

pub(crate) fn plan(
    files: Vec<SourceFile>,
    index: &HashMap<String, FileRecord>,
    full: bool,
) -> Plan {
    let mut changed = Vec::new();
    let mut present = std::collections::HashSet::with_capacity(files.len());
    for file in files {
        let key = file.path.to_string_lossy().into_owned();
        let known = index.get(&key);
        present.insert(key);
        let unchanged = known.is_some_and(|r| r.size == file.size && r.mtime_ms == file.mtime_ms);
        if unchanged && !full {
            continue;
        }
        let from = read_from(&file, known, full);
        changed.push((file, from));
    }
    let vanished = index
        .keys()
        .filter(|p| !present.contains(*p))
        .map(PathBuf::from)
        .collect();
    Plan { changed, vanished }
}

/// Where a changed file is read from: where the last read stopped, for
/// appended files the index knows (unless `full`, or it failed last time).
fn read_from(file: &SourceFile, known: Option<&FileRecord>, full: bool) -> ReadFrom {
    match known {
        Some(r) if !full && r.error.is_none() => ReadFrom {
            position: if is_appended(&file.kind) {
                ReadPosition {
                    offset: r.read_offset,
                    line: r.read_line,
                    head: r.head.map(|(len, hash)| HeadMark { len, hash }),
                }
            } else {
                ReadPosition::default()
            },
            cursor: r.cursor.clone(),
        },
        _ => ReadFrom::default(),
    }
}

/// A file's path as bytes: the order discovery sorts by.
fn bytes(file: &SourceFile) -> &[u8] {
    file.path.as_os_str().as_bytes()
}

/// What the index says of a discovered file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Indexed {
    No,
    Unchanged,
    Changed,
}

/// [`plan`] against the whole file index of `store`, for every file
/// discovery found (sorted by path bytes, as [`chittysync_sources::Sources::discover`]
/// returns them): the index is streamed in the same order and merged with
/// them, so no map of every path is built and no path is allocated for an
/// unchanged file — with nothing changed, that map was a sixth of a run
/// (docs/ARCHITECTURE.md, "A re-run with nothing changed"). Only the
/// changed files' full records are read. Paths that are not UTF-8 (the index
/// keys them lossily) take [`plan`] over the whole index.
pub(crate) fn plan_against(
    files: Vec<SourceFile>,
    store: &Store,
    full: bool,
) -> Result<Plan, StoreError> {
    let mergeable = files.iter().all(|f| f.path.to_str().is_some())
        && files.is_sorted_by(|a, b| bytes(a) <= bytes(b));
    if !mergeable {
        return Ok(plan(files, &store.file_index()?, full));
    }
    let mut indexed = vec![Indexed::No; files.len()];
    let mut vanished = Vec::new();
    let mut next = 0;
    store.each_file_stat(|path, size, mtime_ms| {
        let key = path.as_bytes();
        while next < files.len() && bytes(&files[next]) < key {
            next += 1;
        }
        match files.get(next) {
            Some(file) if bytes(file) == key => {
                indexed[next] = if file.size == size && file.mtime_ms == mtime_ms {
                    Indexed::Unchanged
                } else {
                    Indexed::Changed
                };
                next += 1;
            }
            _ => vanished.push(PathBuf::from(path)),
        }
    })?;
    let mut changed = Vec::new();
    for (file, indexed) in files.into_iter().zip(indexed) {
        let known = match indexed {
            Indexed::Unchanged if !full => continue,
            Indexed::Changed if !full => store.file_record(&file.path.to_string_lossy())?,
            _ => None,
        };
        let from = read_from(&file, known.as_ref(), full);
        changed.push((file, from));
    }
    Ok(Plan { changed, vanished })
}

/// Reads every changed file, in parallel.
pub(crate) fn read_all(
    sources: &Sources,
    changed: Vec<(SourceFile, ReadFrom)>,
    max_file_bytes: u64,
) -> Vec<ReadFile> {
    changed
        .into_par_iter()
        .map(|changed| read_one(sources, changed, max_file_bytes))
        .collect()
}

/// Reads every changed file, one after another, on the calling thread (a
/// cold run's reader beside the thread that takes the files in).
pub(crate) fn read_each(
    sources: &Sources,
    changed: Vec<(SourceFile, ReadFrom)>,
    max_file_bytes: u64,
) -> Vec<ReadFile> {
    changed
        .into_iter()
        .map(|changed| read_one(sources, changed, max_file_bytes))
        .collect()
}

fn read_one(
    sources: &Sources,
    (file, from): (SourceFile, ReadFrom),
    max_file_bytes: u64,
) -> ReadFile {
    let content = sources.read(&file, &from, max_file_bytes);
    ReadFile { file, content }
}
