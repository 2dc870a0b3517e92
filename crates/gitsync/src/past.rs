//! The observations a commit of the sync repository holds: what `todos
//! --as-of <commit>` folds and `rollback --to <commit>` restores.

use crate::error::{GitContext, GitSyncError};
use crate::log::{self, Decoded};
use crate::repo::GitSync;
use crate::{layout, tree};
use chittysync_core::{Observation, Timestamp};
use serde::Serialize;

/// A commit and every observation in its logs.
#[derive(Debug, Clone, Serialize)]
pub struct CommitObservations {
    pub commit: String,
    /// The commit's time.
    pub time: Timestamp,
    pub summary: String,
    #[serde(skip)]
    pub observations: Vec<Observation>,
    /// Lines that were not valid observations.
    pub rejected: Vec<String>,
}

impl GitSync {
    /// Reads every log of the commit named by `rev` (an id, a prefix, `HEAD~3`, …).
    pub fn observations_at(&self, rev: &str) -> Result<CommitObservations, GitSyncError> {
        let unknown = || GitSyncError::UnknownRevision {
            rev: rev.to_string(),
            repo: self.repo_path().to_path_buf(),
        };
        let commit = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| unknown())?;
        let entries = tree::flatten(&commit.tree().ctx(|| format!("reading the tree of {rev}"))?)?;
        let mut decoded = Decoded::default();
        for (path, entry) in entries.iter().filter(|(p, _)| layout::is_log(p)) {
            let blob = self
                .repo
                .find_blob(entry.oid)
                .ctx(|| format!("reading {path}"))?;
            log::decode_appended(path, None, blob.content(), &self.encryption, &mut decoded);
        }
        let decoded = decoded.readable()?;
        Ok(CommitObservations {
            commit: commit.id().to_string(),
            time: Timestamp(commit.time().seconds() * 1000),
            summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                .into_owned(),
            observations: decoded.observations,
            rejected: decoded.rejected,
        })
    }
}
