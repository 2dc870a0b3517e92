use std::path::PathBuf;

/// Why a consolidation could not finish. Bad source files are not errors (they
/// are warnings in the report); these are problems with chittysync's own home.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] chittysync_store::StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}
