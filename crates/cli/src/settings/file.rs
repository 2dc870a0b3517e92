//! Claude Code's settings file on disk: found through symbolic links, refused
//! when read-only, backed up without ever overwriting a backup, and written
//! atomically with its mode and owner kept (docs/HOOKS.md, "Your file stays
//! yours").

use anyhow::{bail, Context as _, Result};
use chittysync_sources::ReadError;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The name every backup starts with, beside the settings file.
const BACKUP_SUFFIX: &str = ".chittysync-backup";

/// Mode of a settings file chittysync creates: settings can hold secrets in `env`.
const NEW_FILE_MODE: u32 = 0o600;

/// A settings file or backup's bytes: a regular file of at most
/// [`super::SETTINGS_BYTES`], opened without waiting.
fn read_bounded(path: &Path) -> Result<Vec<u8>, ReadError> {
    chittysync_sources::read_limited(path, super::SETTINGS_BYTES)
}

#[derive(Debug)]
pub struct SettingsFile {
    /// The path as named (`--settings` or `<claude dir>/settings.json`).
    pub path: PathBuf,
    /// The file written: `path` with every symbolic link followed.
    pub target: PathBuf,
    /// Its bytes; `None` when it does not exist yet.
    pub original: Option<Vec<u8>>,
    metadata: Option<std::fs::Metadata>,
}

impl SettingsFile {
    pub fn read(path: &Path) -> Result<SettingsFile> {
        let target = resolve(path)?;
        let (original, metadata) = match read_bounded(&target) {
            Ok(bytes) => {
                let metadata = std::fs::metadata(&target)
                    .with_context(|| format!("cannot read {}", target.display()))?;
                (Some(bytes), Some(metadata))
            }
            Err(ReadError::Io(e)) if e.kind() == ErrorKind::NotFound => (None, None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(SettingsFile {
            path: path.to_path_buf(),
            target,
            original,
            metadata,
        })
    }

    /// The file as a person would name it: the link and where it leads.
    pub fn name(&self) -> String {
        if std::path::absolute(&self.path).is_ok_and(|p| p == self.target) {
            self.path.display().to_string()
        } else {
            format!("{} (→ {})", self.path.display(), self.target.display())
        }
    }

    /// Refuses a file the user cannot (or chose not to) write: writing a new
    /// file over it by renaming would need only the folder's permission.
    pub fn check_writable(&self) -> Result<()> {
        let Some(metadata) = &self.metadata else {
            return Ok(());
        };
        let mode = metadata.permissions().mode() & 0o7777;
        let why = if metadata.permissions().readonly() {
            format!("it is read-only (mode {mode:04o})")
        } else if !access_writable(&self.target) {
            format!(
                "you may not write it (mode {mode:04o}, owner uid {})",
                metadata.uid()
            )
        } else {
            return Ok(());
        };
        bail!(
            "refusing to change {}: {why}; make it writable (`chmod u+w {}`) and run this \
             again, or make the change by hand",
            self.name(),
            self.target.display()
        );
    }

    /// Copies the bytes read to a new backup beside `path`, with the file's
    /// mode; an existing backup is never overwritten. Nothing is written when
    /// a backup already holds these exact bytes. Returns the backup's path.
    pub fn backup(&self) -> Result<Option<PathBuf>> {
        let (Some(bytes), Some(metadata)) = (&self.original, &self.metadata) else {
            return Ok(None);
        };
        for n in 0.. {
            let candidate = backup_name(&self.path, n);
            match read_bounded(&candidate) {
                Ok(kept) if &kept == bytes => return Ok(None),
                Ok(_) => continue,
                Err(ReadError::Io(e)) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot read the backup {}", candidate.display()))
                }
            }
            let mode = metadata.permissions().mode() & 0o7777;
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&candidate);
            let mut file = match file {
                Ok(file) => file,
                // Taken meanwhile by another run: the next number.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot write the backup {}", candidate.display())
                    })
                }
            };
            let written = file
                .set_permissions(std::fs::Permissions::from_mode(mode))
                .and_then(|()| file.write_all(bytes))
                .and_then(|()| file.sync_all());
            written.with_context(|| format!("cannot write the backup {}", candidate.display()))?;
            return Ok(Some(candidate));
        }
        unreachable!("the numbers of backups do not run out")
    }

    /// Writes `bytes` in place of the target: a temporary file in its folder,
    /// with its mode and owner, fsynced, renamed over it, the folder fsynced.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        let fail = || format!("cannot write {}", self.name());
        let dir = self.target.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir).with_context(fail)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".chittysync-settings-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(fail)?;
        let mode = self
            .metadata
            .as_ref()
            .map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777);
        let file = tmp.as_file();
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(fail)?;
        if let Some(metadata) = &self.metadata {
            keep_owner(file, metadata).with_context(|| {
                format!(
                    "cannot give the new {} the owner of the old one (uid {}, gid {})",
                    self.name(),
                    metadata.uid(),
                    metadata.gid()
                )
            })?;
        }
        tmp.write_all(bytes).with_context(fail)?;
        tmp.as_file().sync_all().with_context(fail)?;
        tmp.persist(&self.target)
            .map_err(|e| e.error)
            .with_context(fail)?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(fail)?;
        Ok(())
    }

    /// Deletes the target (a file that chittysync created and emptied again).
    pub fn remove(&self) -> Result<()> {
        std::fs::remove_file(&self.target).with_context(|| format!("cannot remove {}", self.name()))
    }
}

/// `settings.json.chittysync-backup`, then `….chittysync-backup.1`, `.2`…
fn backup_name(path: &Path, n: usize) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(BACKUP_SUFFIX);
    if n > 0 {
        name.push(format!(".{n}"));
    }
    path.with_file_name(name)
}

/// The real file behind `path`: symbolic links followed, made absolute.
fn resolve(path: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).with_context(|| {
            let to = std::fs::read_link(path).unwrap_or_default();
            format!(
                "{} is a symbolic link to {}, which cannot be followed; create that file or fix the link",
                path.display(),
                to.display()
            )
        }),
        Ok(_) => std::fs::canonicalize(path)
            .with_context(|| format!("cannot read {}", path.display())),
        // Its folder resolved too: the file is known by one path once created.
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let absolute = std::path::absolute(path)
                .with_context(|| format!("cannot make {} absolute", path.display()))?;
            match (absolute.parent(), absolute.file_name()) {
                (Some(dir), Some(name)) if dir.exists() => Ok(std::fs::canonicalize(dir)
                    .with_context(|| format!("cannot read {}", dir.display()))?
                    .join(name)),
                _ => Ok(absolute),
            }
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Whether this process may write the file (its owner, group and the
/// others' bits as they apply to it).
#[allow(unsafe_code)]
fn access_writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access(2) only reads it.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
}

/// Gives the new file the old one's owner and group when they differ (a
/// settings file of another user, changed by root).
fn keep_owner(file: &File, old: &std::fs::Metadata) -> std::io::Result<()> {
    let new = file.metadata()?;
    if (new.uid(), new.gid()) == (old.uid(), old.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()))
}
