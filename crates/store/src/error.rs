use std::path::PathBuf;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The observation log beside the database could not be opened, read
    /// or written (the cause follows in the chain).
    #[error("cannot read or write the observation log {path}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the store holds a malformed {what}: {message}")]
    Corrupt { what: &'static str, message: String },
}

impl StoreError {
    pub(crate) fn open(path: &std::path::Path, source: rusqlite::Error) -> Self {
        StoreError::Open {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn corrupt(what: &'static str, message: impl ToString) -> Self {
        StoreError::Corrupt {
            what,
            message: message.to_string(),
        }
    }
}
