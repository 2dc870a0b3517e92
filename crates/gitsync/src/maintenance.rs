//! Packing the sync repository.
//!
//! libgit2 writes every new object as a loose, separately compressed file and
//! never packs them, so a repository synced every minute would keep a whole
//! copy of the current log shard and both snapshots per commit. Like
//! `git gc --auto`, once loose objects or packs pile up, every reachable
//! object is written to one pack — where each version of a file is a small
//! delta against the previous one — and the loose objects and packs that the
//! new pack fully contains are removed. Nothing the new pack lacks is deleted.

use crate::error::{GitContext, GitSyncError};
use git2::{Oid, Repository};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Loose objects that trigger a repack (a sync commit writes about eight).
const LOOSE_LIMIT: usize = 1000;
/// Packs that trigger a repack.
const PACK_LIMIT: usize = 20;

/// Packs the repository if it has many loose objects or packs; returns
/// whether it did.
pub fn pack_if_needed(repo: &Repository) -> Result<bool, GitSyncError> {
    let objects = repo.path().join("objects");
    if loose_objects(&objects)?.len() < LOOSE_LIMIT && pack_indexes(&objects)?.len() < PACK_LIMIT {
        return Ok(false);
    }
    pack(repo)?;
    Ok(true)
}

/// Writes every object reachable from a branch or remote-tracking ref into
/// one pack, then removes the loose objects and older packs it contains.
pub fn pack(repo: &Repository) -> Result<(), GitSyncError> {
    let objects = repo.path().join("objects");
    let pack_dir = objects.join("pack");
    let older = pack_indexes(&objects)?;
    let mut walk = repo.revwalk().ctx(|| "walking history to pack".into())?;
    for glob in ["heads", "remotes"] {
        walk.push_glob(glob)
            .ctx(|| "walking history to pack".into())?;
    }
    let mut builder = repo.packbuilder().ctx(|| "packing objects".into())?;
    builder.set_threads(0);
    builder
        .insert_walk(&mut walk)
        .and_then(|()| builder.write(&pack_dir, 0))
        .ctx(|| "packing objects".into())?;
    let name = builder
        .name()
        .ctx(|| "naming the new pack".into())?
        .unwrap_or_default()
        .to_string();
    // libgit2 names the pack by its hash; the files are `pack-<hash>.*`.
    let stem = if name.starts_with("pack-") {
        name
    } else {
        format!("pack-{name}")
    };
    let new_index = pack_dir.join(format!("{stem}.idx"));
    let packed = read_index(&new_index)?;
    for (oid, path) in loose_objects(&objects)? {
        if packed.contains(&oid) {
            remove(&path)?;
        }
    }
    for index in older.iter().filter(|i| **i != new_index) {
        if read_index(index)?.is_subset(&packed) && !index.with_extension("keep").exists() {
            for extension in ["pack", "rev", "idx"] {
                let file = index.with_extension(extension);
                if file.exists() {
                    remove(&file)?;
                }
            }
        }
    }
    Ok(())
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> GitSyncError {
    let path = path.to_path_buf();
    move |cause| GitSyncError::Io {
        action,
        path,
        cause,
    }
}

fn remove(path: &Path) -> Result<(), GitSyncError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", path)(e)),
        _ => Ok(()),
    }
}

/// Every loose object: `objects/ab/cdef…` is object `abcdef…`.
fn loose_objects(objects: &Path) -> Result<Vec<(Oid, PathBuf)>, GitSyncError> {
    let mut found = Vec::new();
    for dir in std::fs::read_dir(objects).map_err(io("list", objects))? {
        let dir = dir.map_err(io("list", objects))?.path();
        let Some(prefix) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        for file in std::fs::read_dir(&dir).map_err(io("list", &dir))? {
            let path = file.map_err(io("list", &dir))?.path();
            let rest = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if let Ok(oid) = Oid::from_str(&format!("{prefix}{rest}")) {
                found.push((oid, path));
            }
        }
    }
    Ok(found)
}

fn pack_indexes(objects: &Path) -> Result<Vec<PathBuf>, GitSyncError> {
    let dir = objects.join("pack");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("list", &dir)(e)),
    };
    let mut indexes = Vec::new();
    for entry in entries {
        let path = entry.map_err(io("list", &dir))?.path();
        if path.extension().is_some_and(|e| e == "idx") {
            indexes.push(path);
        }
    }
    Ok(indexes)
}

/// The object ids a pack index (version 2, SHA-1) lists. An index in another
/// format reads as empty, so nothing is removed on its account.
fn read_index(path: &Path) -> Result<HashSet<Oid>, GitSyncError> {
    const HEADER: [u8; 8] = [0xff, b't', b'O', b'c', 0, 0, 0, 2];
    const FANOUT_END: usize = 8 + 256 * 4;
    let bytes = std::fs::read(path).map_err(io("read", path))?;
    if bytes.len() < FANOUT_END || bytes[..8] != HEADER {
        return Ok(HashSet::new());
    }
    let count = u32::from_be_bytes(
        bytes[FANOUT_END - 4..FANOUT_END]
            .try_into()
            .unwrap_or_default(),
    ) as usize;
    let ids = bytes
        .get(FANOUT_END..FANOUT_END + count * 20)
        .unwrap_or_default();
    Ok(ids
        .chunks_exact(20)
        .filter_map(|id| Oid::from_bytes(id).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(repo: &Repository, text: &str) -> Oid {
        let blob = repo.blob(text.as_bytes()).unwrap();
        let mut builder = repo.treebuilder(None).unwrap();
        builder.insert("file", blob, 0o100644).unwrap();
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repo.commit(Some("HEAD"), &signature, &signature, text, &tree, &parents)
            .unwrap()
    }

    #[test]
    fn packs_everything_reachable_and_removes_what_it_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let objects = repo.path().join("objects");
        let first = commit(&repo, "one\n");
        pack(&repo).unwrap();
        let tip = commit(&repo, "one\ntwo\n");
        let dangling = repo.blob(b"nobody refers to me").unwrap();
        assert_eq!(loose_objects(&objects).unwrap().len(), 4);
        pack(&repo).unwrap();

        let left: Vec<Oid> = loose_objects(&objects)
            .unwrap()
            .into_iter()
            .map(|(o, _)| o)
            .collect();
        assert_eq!(left, vec![dangling], "only what no ref reaches stays loose");
        assert_eq!(
            pack_indexes(&objects).unwrap().len(),
            1,
            "the first pack was replaced"
        );
        let reopened = Repository::open(dir.path()).unwrap();
        let commit = reopened.find_commit(tip).unwrap();
        assert_eq!(commit.parent_id(0).unwrap(), first);
        let blob = commit.tree().unwrap().get_name("file").unwrap().id();
        assert_eq!(reopened.find_blob(blob).unwrap().content(), b"one\ntwo\n");
        assert!(!pack_if_needed(&reopened).unwrap());
    }
}
