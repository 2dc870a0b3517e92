//! Reading a whole small file from a user's folder, with a size limit checked
//! before reading.
//!
//! Such folders (the Claude folder, a session's cwd and its `.git`) hold
//! whatever their owner or a tool put there: a FIFO, a symlink to `/dev/zero`,
//! a folder where a file was expected. The open never waits (non-blocking, so
//! a FIFO with no writer opens at once), only a regular file is read (checked
//! on the open handle), and never more than the limit.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Above the limit; nothing was read (a runaway file must not eat memory).
    #[error("the file is {size} bytes, above the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// The operating system's error (not found, permission denied…), kept whole
    /// so callers can tell a vanished file from a forbidden one; and a path
    /// that is not a regular file (a folder, a FIFO, a device), as
    /// [`io::ErrorKind::InvalidInput`].
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads the file at `path` if it is a regular file of at most `size_limit`
/// bytes.
///
/// The type and size are taken from the open handle, so the checks and the
/// read concern the same file even if it is being replaced. A file that grows
/// past the limit between the check and the read is refused too, with the size
/// seen.
pub fn read_limited(path: &Path, size_limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
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

/// Opens `path` for reading without ever waiting, and only if it is a regular
/// file (symlinks followed). `O_NONBLOCK` makes the open of a FIFO return at
/// once; on a regular file it changes nothing.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    let what = if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "something else"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file but {what}"),
    ))
}
