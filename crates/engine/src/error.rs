use std::path::PathBuf;

/// Why a consolidation could not finish. Bad source files are not errors (they
/// are warnings in the report); these are problems with chittysync's own home.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] chittysync_store::StoreError),
    /// The cause is in the message, not chained again (see `StoreError`).
    #[error("cannot write {path}: {cause}")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
}
