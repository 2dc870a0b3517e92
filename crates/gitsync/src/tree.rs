//! Trees as flat maps of paths to blobs, and their three-way merge.
//!
//! The sync never merges text with conflict markers: it merges trees path by
//! path. A path changed on one side takes that side; a log changed on both
//! sides (only possible when two machines share a device name) keeps every
//! line of both; the snapshots are regenerated afterwards by the caller.

use crate::error::{GitContext, GitSyncError};
use crate::layout;
use git2::{FileMode, ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One blob in a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub oid: Oid,
    pub mode: i32,
}

impl Entry {
    pub fn blob(oid: Oid) -> Entry {
        Entry {
            oid,
            mode: FileMode::Blob.into(),
        }
    }
}

/// Every blob of a tree by its path (`dir/file`).
pub type Entries = BTreeMap<String, Entry>;

pub fn flatten(tree: &Tree<'_>) -> Result<Entries, GitSyncError> {
    let mut entries = Entries::new();
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        if entry.kind() == Some(ObjectType::Blob) {
            if let Ok(name) = entry.name() {
                entries.insert(
                    format!("{root}{name}"),
                    Entry {
                        oid: entry.id(),
                        mode: entry.filemode(),
                    },
                );
            }
        }
        TreeWalkResult::Ok
    })
    .ctx(|| "reading a tree".into())?;
    Ok(entries)
}

/// Writes the tree holding exactly these blobs.
pub fn build(repo: &Repository, entries: &Entries) -> Result<Oid, GitSyncError> {
    let all: Vec<(&str, &Entry)> = entries.iter().map(|(p, e)| (p.as_str(), e)).collect();
    build_dir(repo, &all).ctx(|| "writing a tree".into())
}

fn build_dir(repo: &Repository, entries: &[(&str, &Entry)]) -> Result<Oid, git2::Error> {
    let mut builder = repo.treebuilder(None)?;
    let mut dirs: BTreeMap<&str, Vec<(&str, &Entry)>> = BTreeMap::new();
    for &(path, entry) in entries {
        match path.split_once('/') {
            Some((dir, rest)) => dirs.entry(dir).or_default().push((rest, entry)),
            None => {
                builder.insert(path, entry.oid, entry.mode)?;
            }
        }
    }
    for (dir, inner) in dirs {
        let oid = build_dir(repo, &inner)?;
        builder.insert(dir, oid, FileMode::Tree.into())?;
    }
    builder.write()
}

/// Merges `ours` and `theirs`, which descend from `base` (empty for unrelated
/// histories).
pub fn merge(
    repo: &Repository,
    base: &Entries,
    ours: &Entries,
    theirs: &Entries,
) -> Result<Entries, GitSyncError> {
    let paths: BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let mut merged = Entries::new();
    for path in paths {
        let (b, o, t) = (base.get(path), ours.get(path), theirs.get(path));
        let chosen = if o == t || t == b {
            o.copied()
        } else if o == b {
            t.copied()
        } else {
            match (o, t) {
                (Some(o), Some(t)) if layout::is_log(path) => Some(union_of_lines(repo, o, t)?),
                // Anything else changed on both sides: ours, as the snapshots
                // are regenerated and nothing else is written by chittysync.
                (Some(o), _) => Some(*o),
                (None, t) => t.copied(),
            }
        };
        if let Some(entry) = chosen {
            merged.insert(path.clone(), entry);
        }
    }
    Ok(merged)
}

/// Our lines, then theirs that we lack, in their order.
fn union_of_lines(repo: &Repository, ours: &Entry, theirs: &Entry) -> Result<Entry, GitSyncError> {
    let read = |oid: Oid| -> Result<Vec<u8>, GitSyncError> {
        Ok(repo
            .find_blob(oid)
            .ctx(|| format!("reading blob {oid}"))?
            .content()
            .to_vec())
    };
    let mut out = read(ours.oid)?;
    let theirs = read(theirs.oid)?;
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let known: HashSet<Vec<u8>> = out.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    for line in theirs.split(|&b| b == b'\n') {
        if !line.is_empty() && !known.contains(line) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    let oid = repo.blob(&out).ctx(|| "writing a merged log".into())?;
    Ok(Entry {
        oid,
        mode: ours.mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(repo: &Repository, text: &str) -> Entry {
        Entry::blob(repo.blob(text.as_bytes()).unwrap())
    }

    #[test]
    fn three_way_by_path_with_union_of_logs() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let log = "devices/a/000001.jsonl".to_string();
        let mut base = Entries::new();
        base.insert(log.clone(), blob(&repo, "1\n"));
        base.insert("gone".into(), blob(&repo, "x"));
        base.insert("kept".into(), blob(&repo, "k"));
        let mut ours = base.clone();
        ours.insert(log.clone(), blob(&repo, "1\n2\n"));
        ours.remove("gone");
        let mut theirs = base.clone();
        theirs.insert(log.clone(), blob(&repo, "1\n3\n"));
        theirs.insert("new".into(), blob(&repo, "n"));
        let merged = merge(&repo, &base, &ours, &theirs).unwrap();
        let text = repo.find_blob(merged[&log].oid).unwrap().content().to_vec();
        assert_eq!(text, b"1\n2\n3\n");
        assert!(!merged.contains_key("gone"));
        assert!(merged.contains_key("new") && merged.contains_key("kept"));

        let tree = repo.find_tree(build(&repo, &merged).unwrap()).unwrap();
        assert_eq!(flatten(&tree).unwrap(), merged);
    }
}
