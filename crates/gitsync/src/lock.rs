//! One sync at a time per repository: the daemon and a one-shot `sync` (or two
//! of them) must not interleave their cursor updates and ref moves.

use crate::error::GitSyncError;
use std::fs::File;
use std::path::Path;

/// Held while a sync runs; released when dropped (or when the process dies).
pub struct SyncLock {
    _file: File,
}

impl SyncLock {
    /// Waits for and takes the lock file at `path`.
    pub fn acquire(path: &Path) -> Result<SyncLock, GitSyncError> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|cause| GitSyncError::Io {
                action: "open the lock file",
                path: path.to_path_buf(),
                cause,
            })?;
        lock_exclusive(&file).map_err(|cause| GitSyncError::Io {
            action: "lock",
            path: path.to_path_buf(),
            cause,
        })?;
        Ok(SyncLock { _file: file })
    }
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor this function borrows for the call.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Elsewhere the lock is advisory only: libgit2's own ref locks still refuse
/// a conflicting ref update.
#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    Ok(())
}
