//! How a chittysync history is recognised, and which files in it are not
//! chittysync's (docs/GIT_SYNC.md, "Whose history").
//!
//! Every chittysync history holds a marker file, [`MARKER_FILE`], from its
//! first commit on. A history without it is someone else's: the sync refuses
//! to merge with it unless told to adopt it, and adopting records every path
//! the other history had in the marker's `foreign` list, which chittysync
//! never writes. Histories made before the marker existed are recognised by
//! the README chittysync wrote in their first commit, and get the marker on
//! their next commit.

use crate::error::{GitContext, GitSyncError};
use crate::layout;
use crate::tree::{Entries, Entry};
use git2::{Commit, Oid, Repository};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The marker file at the root of every chittysync history.
pub const MARKER_FILE: &str = ".chittysync";

/// The README of a history's first commit (and how histories made before
/// the marker are recognised: their README is this text, byte for byte).
pub const README: &str = "\
# chittysync history

Written by `chittysync sync`; edit nothing here by hand.

- `devices/<device>/NNNNNN.jsonl`: each device's observations, one JSON object
  a line, append-only. Devices never write each other's files.
- `todos.json`, `project-coordination.json`: the fold of every device's
  observations, regenerated on every sync.

`chittysync todos --as-of <commit>` shows the list as of a commit, and
`chittysync rollback --to <commit>` restores it by appending observations.
";

/// The marker's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The marker's format (1).
    pub chittysync: u32,
    /// Paths written by someone else before chittysync adopted the history;
    /// chittysync never writes them.
    #[serde(default)]
    pub foreign: BTreeSet<String>,
}

impl Marker {
    fn new() -> Marker {
        Marker {
            chittysync: 1,
            foreign: BTreeSet::new(),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a marker serializes");
        out.push(b'\n');
        out
    }

    /// The marker of a tree: `None` when it has none (or one that is not ours).
    pub fn read(repo: &Repository, entries: &Entries) -> Result<Option<Marker>, GitSyncError> {
        let Some(entry) = entries.get(MARKER_FILE) else {
            return Ok(None);
        };
        let blob = repo
            .find_blob(entry.oid)
            .ctx(|| format!("reading {MARKER_FILE}"))?;
        Ok(serde_json::from_slice::<Marker>(blob.content())
            .ok()
            .filter(|m| m.chittysync >= 1))
    }

    /// Writes the marker into `entries` (unchanged when it already says this).
    pub fn store(&self, repo: &Repository, entries: &mut Entries) -> Result<(), GitSyncError> {
        let oid = repo
            .blob(&self.to_bytes())
            .ctx(|| format!("writing {MARKER_FILE}"))?;
        entries.insert(MARKER_FILE.to_string(), Entry::blob(oid));
        Ok(())
    }
}

/// The marker of a new history.
pub fn first(repo: &Repository) -> Result<Entry, GitSyncError> {
    let oid = repo
        .blob(&Marker::new().to_bytes())
        .ctx(|| format!("writing {MARKER_FILE}"))?;
    Ok(Entry::blob(oid))
}

/// Whether a commit's tree is a chittysync history: it has the marker, or (a
/// history from before the marker) the README of chittysync's first commit.
pub fn is_chittysync(repo: &Repository, commit: &Commit<'_>) -> Result<bool, GitSyncError> {
    let tree = commit
        .tree()
        .ctx(|| format!("reading the tree of {}", commit.id()))?;
    if let Some(entry) = tree.get_name(MARKER_FILE) {
        let blob = repo
            .find_blob(entry.id())
            .ctx(|| format!("reading {MARKER_FILE}"))?;
        return Ok(
            serde_json::from_slice::<Marker>(blob.content()).is_ok_and(|m| m.chittysync >= 1)
        );
    }
    let readme = Oid::hash_object(git2::ObjectType::Blob, README.as_bytes())
        .ctx(|| "hashing the README".into())?;
    Ok(tree.get_name("README.md").is_some_and(|e| e.id() == readme))
}

/// The first few root names of a tree, for messages.
pub fn describe(commit: &Commit<'_>) -> String {
    const SHOWN: usize = 5;
    let Ok(tree) = commit.tree() else {
        return String::new();
    };
    let names: Vec<String> = tree
        .iter()
        .filter_map(|e| e.name().ok().map(str::to_string))
        .collect();
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(", +{} more", names.len() - SHOWN));
    }
    if text.is_empty() {
        "no files".into()
    } else {
        text
    }
}

/// Adopts another history: every path of `theirs` that is not as in `ours`
/// (the local tree) keeps their version and is listed as foreign in the
/// marker, so chittysync never writes it. Observation logs are chittysync's
/// layout and stay under its rules (appended to, never overwritten).
pub fn adopt(
    repo: &Repository,
    entries: &mut Entries,
    ours: &Entries,
    theirs: &Entries,
) -> Result<(), GitSyncError> {
    let mut marker = match Marker::read(repo, entries)? {
        Some(marker) => marker,
        None => Marker::read(repo, ours)?.unwrap_or_else(Marker::new),
    };
    for (path, entry) in theirs {
        if path == MARKER_FILE || layout::is_log(path) || ours.get(path) == Some(entry) {
            continue;
        }
        entries.insert(path.clone(), *entry);
        marker.foreign.insert(path.clone());
    }
    marker.store(repo, entries)
}

/// Makes sure the tree has a marker (histories from before it get one), and
/// returns the paths chittysync must not write, and whether it wrote one.
pub fn ensure(
    repo: &Repository,
    entries: &mut Entries,
) -> Result<(BTreeSet<String>, bool), GitSyncError> {
    match Marker::read(repo, entries)? {
        Some(marker) => Ok((marker.foreign, false)),
        None => {
            Marker::new().store(repo, entries)?;
            Ok((BTreeSet::new(), true))
        }
    }
}

/// Two markers changed on both sides of a merge: one marker listing the
/// foreign paths of both.
pub fn merge(repo: &Repository, ours: &Entry, theirs: &Entry) -> Result<Entry, GitSyncError> {
    let read = |e: &Entry| -> Result<Marker, GitSyncError> {
        let blob = repo
            .find_blob(e.oid)
            .ctx(|| format!("reading {MARKER_FILE}"))?;
        Ok(serde_json::from_slice(blob.content()).unwrap_or_else(|_| Marker::new()))
    };
    let mut marker = read(ours)?;
    marker.foreign.extend(read(theirs)?.foreign);
    marker.chittysync = marker.chittysync.max(1);
    let oid = repo
        .blob(&marker.to_bytes())
        .ctx(|| format!("writing {MARKER_FILE}"))?;
    Ok(Entry::blob(oid))
}
