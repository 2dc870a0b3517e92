//! Writing this device's new observations to its log shards (the git
//! remote's commit, crates/gitsync/src/as_remote.rs).

use crate::error::{GitContext, GitSyncError};
use crate::layout;
use crate::log;
use crate::tree::{Entries, Entry};
use chittysync_core::Observation;
use git2::Repository;
use std::collections::HashSet;

/// The ids of the observations in the device's log.
pub(crate) fn logged_ids(
    repo: &Repository,
    device: &str,
    entries: &Entries,
) -> Result<HashSet<String>, GitSyncError> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let dir = layout::device_dir(device);
    let mut ids = HashSet::new();
    for (path, entry) in entries {
        if layout::shard_index(&dir, path).is_none() {
            continue;
        }
        let blob = repo
            .find_blob(entry.oid)
            .ctx(|| format!("reading {path}"))?;
        for line in blob.content().split(|&b| b == b'\n') {
            if let Ok(Id { id }) = serde_json::from_slice(line) {
                ids.insert(id);
            }
        }
    }
    Ok(ids)
}

/// Appends to the device's last shard, starting new shards as each fills.
pub(crate) fn append_to_shards(
    repo: &Repository,
    device: &str,
    entries: &mut Entries,
    observations: &[Observation],
) -> Result<(), GitSyncError> {
    let dir = layout::device_dir(device);
    let last = entries
        .keys()
        .filter_map(|p| layout::shard_index(&dir, p))
        .max();
    let (mut index, mut content) = match last {
        Some(index) => {
            let path = layout::shard_path(device, index);
            let blob = repo
                .find_blob(entries[&path].oid)
                .ctx(|| format!("reading {path}"))?;
            (index, blob.content().to_vec())
        }
        None => (1, Vec::new()),
    };
    if !content.is_empty() && !content.ends_with(b"\n") {
        content.push(b'\n');
    }
    let mut lines = log::line_count(&content);
    let mut write = |index: u32, content: &[u8]| -> Result<(), GitSyncError> {
        let path = layout::shard_path(device, index);
        let oid = repo.blob(content).ctx(|| format!("writing {path}"))?;
        entries.insert(path, Entry::blob(oid));
        Ok(())
    };
    for obs in observations {
        if lines >= layout::SHARD_LINES {
            write(index, &content)?;
            index += 1;
            content.clear();
            lines = 0;
        }
        log::append(&mut content, obs);
        lines += 1;
    }
    write(index, &content)
}
