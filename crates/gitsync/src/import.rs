//! Pulling other devices' observations from the logs into the local store.

use crate::error::{GitContext, GitSyncError};
use crate::layout;
use crate::log::{self, Decoded};
use crate::tree::Entries;
use chittysync_crypt::Encryption;
use chittysync_engine::Engine;
use chittysync_store::Via;
use git2::Repository;
use std::collections::BTreeMap;

/// What an import took in.
#[derive(Debug, Default)]
pub struct Imported {
    /// Observations new to the store.
    pub new: u64,
    /// Log lines read, by device.
    pub by_device: BTreeMap<String, u64>,
    /// Lines refused, with file and line.
    pub rejected: Vec<String>,
}

/// Ingests every log line in `after` that was not in `before`, skipping the
/// folder `skip` (this device's own logs, whose lines the store already has).
pub fn import(
    repo: &Repository,
    engine: &mut Engine,
    before: &Entries,
    after: &Entries,
    skip: Option<&str>,
    encryption: &Encryption,
) -> Result<Imported, GitSyncError> {
    let decoded = new_lines(repo, before, after, skip, encryption)?;
    let mut imported = Imported {
        rejected: decoded.rejected,
        ..Imported::default()
    };
    if decoded.observations.is_empty() {
        return Ok(imported);
    }
    for obs in &decoded.observations {
        *imported.by_device.entry(obs.device.clone()).or_default() += 1;
    }
    imported.new = engine
        .ingest_remote(
            &decoded.observations,
            Via::Git,
            crate::state::REMOTE,
            |_| {},
        )?
        .0;
    Ok(imported)
}

/// The log lines in `after` that were not in `before` (skipping the folder
/// `skip`), opened with `encryption`. A sealed line this device cannot open
/// fails the whole read, so nothing of it is stored and the same lines are
/// read again once the key is right.
pub fn new_lines(
    repo: &Repository,
    before: &Entries,
    after: &Entries,
    skip: Option<&str>,
    encryption: &Encryption,
) -> Result<Decoded, GitSyncError> {
    let mut decoded = Decoded::default();
    for (path, entry) in after {
        let old = before.get(path);
        if !layout::is_log(path)
            || old.is_some_and(|o| o.oid == entry.oid)
            || skip.is_some_and(|dir| path.starts_with(dir) && path[dir.len()..].starts_with('/'))
        {
            continue;
        }
        let new = repo
            .find_blob(entry.oid)
            .ctx(|| format!("reading {path}"))?;
        let old = old
            .map(|o| repo.find_blob(o.oid))
            .transpose()
            .ctx(|| format!("reading the previous {path}"))?;
        log::decode_appended(
            path,
            old.as_ref().map(|b| b.content()),
            new.content(),
            encryption,
            &mut decoded,
        );
    }
    Ok(decoded.readable()?)
}
