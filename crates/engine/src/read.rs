//! Deciding which source files changed, and reading them in parallel.
//!
//! Unchanged files (same size and mtime as last time) are not opened at all.
//! Changed todo and task files are read whole (they are small, and refused
//! above the size limit); changed transcripts only from where the last read
//! stopped. Parsing is independent per file, so it runs on every core.

use chittysync_sources::{
    parse_task, parse_todo_list, read_limited, read_transcript, HeadMark, ParseError, RawTask,
    ReadError, ReadPosition, SourceFile, SourceKind, TodoList, TranscriptChunk,
};
use chittysync_store::FileRecord;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;

/// What reading one changed file gave.
pub(crate) enum Content {
    Todos(TodoList),
    Task(RawTask),
    Transcript(TranscriptChunk),
    /// Zero bytes: a write under way. Not recorded, so it is read again next time.
    WriteUnderWay,
    /// The file could not be used; the message says why.
    Unusable(String),
}

pub(crate) struct ReadFile {
    pub file: SourceFile,
    pub content: Content,
}

/// The files to read this run, each with the position to read a transcript from.
pub(crate) struct Plan {
    pub changed: Vec<(SourceFile, ReadPosition)>,
    /// Paths the index knows that are gone from disk.
    pub vanished: Vec<PathBuf>,
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
        let from = match (known, &file.kind, full) {
            (Some(r), SourceKind::Transcript { .. }, false) if r.error.is_none() => ReadPosition {
                offset: r.read_offset,
                line: r.read_line,
                head: r.head.map(|(len, hash)| HeadMark { len, hash }),
            },
            _ => ReadPosition::default(),
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
    changed: Vec<(SourceFile, ReadPosition)>,
    max_file_bytes: u64,
) -> Vec<ReadFile> {
    changed
        .into_par_iter()
        .map(|(file, from)| {
            let content = read_one(&file, &from, max_file_bytes);
            ReadFile { file, content }
        })
        .collect()
}

fn read_one(file: &SourceFile, from: &ReadPosition, max_file_bytes: u64) -> Content {
    match &file.kind {
        SourceKind::TodoFile { .. } => match read_limited(&file.path, max_file_bytes) {
            Ok(bytes) => parsed(parse_todo_list(&bytes), Content::Todos),
            Err(e) => unreadable(e),
        },
        SourceKind::TaskFile { .. } => match read_limited(&file.path, max_file_bytes) {
            Ok(bytes) => parsed(parse_task(&bytes), Content::Task),
            Err(e) => unreadable(e),
        },
        SourceKind::Transcript { .. } => match read_transcript(&file.path, from, max_file_bytes) {
            Ok(chunk) => Content::Transcript(chunk),
            Err(e) => Content::Unusable(format!("cannot read the transcript: {e}")),
        },
    }
}

fn parsed<T>(result: Result<T, ParseError>, wrap: impl FnOnce(T) -> Content) -> Content {
    match result {
        Ok(value) => wrap(value),
        Err(ParseError::Empty) => Content::WriteUnderWay,
        Err(e) => Content::Unusable(e.to_string()),
    }
}

fn unreadable(e: ReadError) -> Content {
    Content::Unusable(match e {
        ReadError::TooLarge { .. } => format!("refused: {e}"),
        ReadError::Io(io) => format!("cannot read the file: {io}"),
    })
}
