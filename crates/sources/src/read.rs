//! Reading a whole small file, with a size limit checked before reading.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Above the limit; nothing was read (a runaway file must not eat memory).
    #[error("the file is {size} bytes, above the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// The operating system's error (not found, permission denied, a folder…),
    /// kept whole so callers can tell a vanished file from a forbidden one.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Reads the file at `path` if it is at most `size_limit` bytes.
///
/// The size is taken from the open handle, so the check and the read concern
/// the same file even if it is being replaced. A file that grows past the limit
/// between the check and the read is refused too, with the size seen.
pub fn read_limited(path: &Path, size_limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > size_limit {
        return Err(ReadError::TooLarge {
            size,
            limit: size_limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(size_limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    if read > size_limit {
        return Err(ReadError::TooLarge {
            size: read,
            limit: size_limit,
        });
    }
    Ok(bytes)
}
