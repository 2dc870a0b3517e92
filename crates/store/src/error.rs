use std::path::PathBuf;

/// What went wrong in the store. A cause from outside (SQLite, the file
/// system) is told in the message and not chained again as its `source`:
/// a printer that walks the chain (the CLI's `caused by:`) would print it
/// twice, and one that prints the message alone (the daemon's log) would
/// lose it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {path}: {cause}")]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("cannot create or open {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The observation log beside the database could not be opened, read
    /// or written.
    #[error("cannot read or write the observation log {path}: {cause}")]
    Log {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("store query failed: {0}")]
    Sql(rusqlite::Error),
    #[error("the store holds a malformed {what}: {message}")]
    Corrupt { what: &'static str, message: String },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sql(e)
    }
}

impl StoreError {
    pub(crate) fn open(path: &std::path::Path, cause: rusqlite::Error) -> Self {
        StoreError::Open {
            path: path.to_path_buf(),
            cause,
        }
    }

    pub(crate) fn corrupt(what: &'static str, message: impl ToString) -> Self {
        StoreError::Corrupt {
            what,
            message: message.to_string(),
        }
    }
}
