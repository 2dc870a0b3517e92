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
        // flock(2) on Unix: released when the file is closed, so also
        // when the process dies.
        file.lock().map_err(|cause| GitSyncError::Io {
            action: "lock",
            path: path.to_path_buf(),
            cause,
        })?;
        Ok(SyncLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::SyncLock;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A second sync waits while the first holds the lock, and goes on once
    /// it is released.
    #[test]
    fn a_second_sync_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chittysync.lock");
        let first = SyncLock::acquire(&path).unwrap();
        let (taken, heard) = mpsc::channel();
        let second = std::thread::spawn({
            let path = path.clone();
            move || {
                let lock = SyncLock::acquire(&path).unwrap();
                taken.send(()).unwrap();
                drop(lock);
            }
        });
        // Held: the second has not taken it (however long it is given).
        assert!(heard.recv_timeout(Duration::from_millis(300)).is_err());
        drop(first);
        heard.recv().unwrap();
        second.join().unwrap();
    }
}
