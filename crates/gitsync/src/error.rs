use std::path::PathBuf;

/// Why a git sync operation failed. An unreachable remote is not an error: it
/// is reported in [`crate::SyncReport::offline`] and retried later.
#[derive(Debug, thiserror::Error)]
pub enum GitSyncError {
    #[error("no sync repository at {} — run `chittysync git init` first", path.display())]
    NotInitialized { path: PathBuf },
    #[error("git: {context}: {}", source.message())]
    Git {
        context: String,
        source: git2::Error,
    },
    #[error(transparent)]
    Store(#[from] chittysync_store::StoreError),
    #[error(transparent)]
    Engine(#[from] chittysync_engine::EngineError),
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{rev}` is not a commit of the sync repository {}", repo.display())]
    UnknownRevision { rev: String, repo: PathBuf },
}

/// Adds what was being done to a libgit2 error.
pub(crate) trait GitContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, GitSyncError>;
}

impl<T> GitContext<T> for Result<T, git2::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, GitSyncError> {
        self.map_err(|source| GitSyncError::Git {
            context: context(),
            source,
        })
    }
}
