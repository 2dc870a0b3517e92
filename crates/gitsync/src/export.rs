//! Writing this device's new observations to its log shards.

use crate::error::{GitContext, GitSyncError};
use crate::layout;
use crate::log;
use crate::tree::{Entries, Entry};
use chittysync_core::Observation;
use chittysync_crypt::Encryption;
use chittysync_store::{Store, Via};
use git2::Repository;
use std::collections::{BTreeMap, HashSet};

/// Rows read from the store per query.
const BATCH: usize = 10_000;

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub count: u64,
    /// Empty when the log is sealed: the commit message names no project.
    pub by_project: BTreeMap<String, u64>,
}

/// Appends the local observations after `*cursor` to `device`'s log in
/// `entries`, and moves the cursor past them. With `skip_logged` (a store's
/// first sync with this repository), observations already in the device's
/// log are not written again. With `encryption` sealing, the log gets the
/// sealed form (docs/ENCRYPTION.md).
pub fn export(
    repo: &Repository,
    store: &Store,
    device: &str,
    entries: &mut Entries,
    cursor: &mut i64,
    skip_logged: bool,
    encryption: &Encryption,
) -> Result<Exported, GitSyncError> {
    let mut fresh: Vec<Observation> = Vec::new();
    loop {
        let batch = store.observations_after(*cursor, Via::Local, BATCH)?;
        let Some(last) = batch.last() else { break };
        *cursor = last.seq;
        let full = batch.len() == BATCH;
        fresh.extend(batch.into_iter().map(|l| l.observation));
        if !full {
            break;
        }
    }
    if skip_logged && !fresh.is_empty() {
        let logged = logged_ids(repo, device, entries)?;
        fresh.retain(|o| !logged.contains(&encryption.outgoing_id(o)));
    }
    let mut exported = Exported::default();
    if fresh.is_empty() {
        return Ok(exported);
    }
    exported.count = fresh.len() as u64;
    if !encryption.seals() {
        for obs in &fresh {
            *exported.by_project.entry(obs.project.clone()).or_default() += 1;
        }
    }
    append_to_shards(repo, device, entries, &encryption.outgoing(&fresh)?)?;
    Ok(exported)
}

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
