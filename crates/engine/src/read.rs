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
use chittysync_store::FileRecord;
use rayon::prelude::*;
use std::collections::HashMap;
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
        let from = match known {
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
        };
        changed.push((file, from));
    }
    let vanished = index
        .keys()
        .filter(|p| !present.contains(*p))
        .map(PathBuf::from)
        .collect();
    Plan { changed, vanished }
}

/// Reads every changed file, in parallel.
pub(crate) fn read_all(
    sources: &Sources,
    changed: Vec<(SourceFile, ReadFrom)>,
    max_file_bytes: u64,
) -> Vec<ReadFile> {
    changed
        .into_par_iter()
        .map(|(file, from)| {
            let content = sources.read(&file, &from, max_file_bytes);
            ReadFile { file, content }
        })
        .collect()
}
