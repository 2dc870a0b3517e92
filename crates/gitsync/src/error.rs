use std::path::PathBuf;

/// Why a git sync operation failed. An unreachable remote is not an error: it
/// is reported in [`crate::SyncReport::offline`] and retried later.
#[derive(Debug, thiserror::Error)]
pub enum GitSyncError {
    #[error("no sync repository at {} — run `chittysync git init` first", path.display())]
    NotInitialized { path: PathBuf },
    #[error("git: {context}: {}", cause.message())]
    Git { context: String, cause: git2::Error },
    #[error(transparent)]
    Store(#[from] chittysync_engine::StoreError),
    #[error(transparent)]
    Engine(#[from] chittysync_engine::EngineError),
    #[error("cannot {action} {}: {cause}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A history chittysync did not write, and `--adopt` was not given
    /// (docs/GIT_SYNC.md, "Whose history").
    #[error(
        "{place} holds a history chittysync did not write ({found}); chittysync merges only \
         with its own histories, so nothing was merged or pushed. Use an empty repository, \
         or pass --adopt to add chittysync's files next to these (it never changes or \
         deletes them)"
    )]
    ForeignHistory { place: String, found: String },
    /// The remote answered the push and refused it, in its own words.
    #[error("{remote} refused the push to {branch}: {words}")]
    PushRefused {
        remote: String,
        branch: String,
        words: String,
    },
    #[error("`{rev}` is not a commit of the sync repository {}", repo.display())]
    UnknownRevision { rev: String, repo: PathBuf },
    /// The remote could not be reached (a [`crate::GitRemote`] push or pull;
    /// the full sync reports it in [`crate::SyncReport::offline`] instead).
    #[error("cannot reach {remote}: {detail}")]
    Offline { remote: String, detail: String },
    /// `[git] encrypt` without a usable device key (docs/ENCRYPTION.md).
    #[error(transparent)]
    Encryption(#[from] chittysync_crypt::EncryptionError),
    /// Sealed log lines this device cannot open (no key, another key, or
    /// altered): nothing was imported.
    #[error(transparent)]
    Unreadable(#[from] chittysync_crypt::OpenError),
}

impl From<chittysync_crypt::KeyError> for GitSyncError {
    fn from(error: chittysync_crypt::KeyError) -> Self {
        GitSyncError::Encryption(error.into())
    }
}

/// Adds what was being done to a libgit2 error.
pub(crate) trait GitContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, GitSyncError>;
}

impl<T> GitContext<T> for Result<T, git2::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, GitSyncError> {
        self.map_err(|cause| GitSyncError::Git {
            context: context(),
            cause,
        })
    }
}
