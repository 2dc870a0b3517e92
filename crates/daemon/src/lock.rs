//! One daemon per home: an advisory lock on `<home>/daemon.lock`, with the
//! holder's pid written inside so a refused second daemon can name it.
//!
//! The lock, not the pid, is the truth: the kernel drops it when its process
//! dies however it dies (kill -9 included), so a stale pid never blocks a
//! restart and a reused pid never looks like a live daemon.

use crate::DaemonError;
use fs4::fs_std::FileExt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held for as long as the daemon runs; dropping it releases the lock.
#[derive(Debug)]
pub struct DaemonLock {
    file: File,
    path: PathBuf,
}

/// The lock file of a home.
pub fn lock_path(home: &Path) -> PathBuf {
    home.join("daemon.lock")
}

/// How long a starting daemon waits for a lock that is briefly held by a
/// probe (`status` checking whether a daemon runs) before it gives up.
const PROBE_GRACE: Duration = Duration::from_millis(500);

impl DaemonLock {
    /// Takes the home's lock and writes this process's pid in it, or says
    /// which process holds it.
    pub fn acquire(home: &Path) -> Result<DaemonLock, DaemonError> {
        let path = lock_path(home);
        let fail = |cause| DaemonError::Lock {
            path: path.clone(),
            cause,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(home)
            .map_err(fail)?;
        let mut file = open(&path).map_err(fail)?;
        let deadline = Instant::now() + PROBE_GRACE;
        while !FileExt::try_lock_exclusive(&file).map_err(fail)? {
            if Instant::now() >= deadline {
                return Err(DaemonError::AlreadyRunning {
                    pid: read_pid(&mut file),
                    lock: path,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        file.set_len(0).map_err(fail)?;
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
        writeln!(file, "{}", std::process::id()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        Ok(DaemonLock { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DaemonLock {
    fn drop(&mut self) {
        // Emptied first: a pid left behind would name a process that is gone.
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

/// The pid of the daemon holding the home's lock, if one does (Some(None):
/// held, pid not written yet). Takes the lock for an instant to find out.
pub fn holder(home: &Path) -> std::io::Result<Option<Option<u32>>> {
    let path = lock_path(home);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if FileExt::try_lock_shared(&file)? {
        FileExt::unlock(&file)?;
        return Ok(None);
    }
    Ok(Some(read_pid(&mut file)))
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
