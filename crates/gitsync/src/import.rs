//! Reading other devices' new log lines (what the git remote's pull returns
//! for the engine to ingest, crates/gitsync/src/as_remote.rs).

use crate::error::{GitContext, GitSyncError};
use crate::layout;
use crate::log::{self, Decoded};
use crate::tree::Entries;
use chittysync_crypt::Encryption;
use git2::Repository;

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
