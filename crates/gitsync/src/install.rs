//! Installing the merge driver in a repository: the `.gitattributes` line that
//! routes `todos.json` to it, and the repository's git config that defines it.

use crate::error::{GitContext, GitSyncError};
use chittysync_sources::ReadError;
use git2::{ConfigLevel, Repository};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// The driver's name in `.gitattributes` and git config.
pub const DRIVER: &str = "chittysync";
/// The attributes line that sends `todos.json` to the driver.
pub const ATTRIBUTES_LINE: &str = "todos.json merge=chittysync\n";

/// The most read of a `.gitattributes`: a few lines by hand.
const ATTRIBUTES_BYTES: u64 = 1 << 20;

/// What an install changed.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    pub repo: String,
    pub attributes: String,
    /// The attributes line was added (it was not there).
    pub attributes_added: bool,
    /// The command git runs.
    pub driver: String,
}

/// Installs the driver in the repository at or above `dir`, running `exe`.
/// Idempotent.
pub fn install_merge_driver(dir: &Path, exe: &Path) -> Result<Installed, GitSyncError> {
    let repo = Repository::discover(dir)
        .ctx(|| format!("finding a git repository at {}", dir.display()))?;
    let workdir = repo.workdir().ok_or_else(|| GitSyncError::Io {
        action: "install a merge driver in",
        path: repo.path().to_path_buf(),
        cause: std::io::Error::other("a bare repository has no .gitattributes"),
    })?;
    let attributes = workdir.join(".gitattributes");
    let io = |action: &'static str| {
        let path = attributes.clone();
        move |cause| GitSyncError::Io {
            action,
            path,
            cause,
        }
    };
    // The user's file (a FIFO or a link to a device is refused, never
    // waited on): read to see whether the line is there, and the line
    // appended to it, its other bytes never rewritten — a kill mid-write
    // cannot cost the user what the file held.
    let existing = match chittysync_sources::read_limited(&attributes, ATTRIBUTES_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(ReadError::Io(e)) => return Err(io("read")(e)),
        Err(e) => return Err(io("read")(std::io::Error::other(e.to_string()))),
    };
    let wanted: Vec<&str> = ATTRIBUTES_LINE.split_whitespace().collect();
    let present = String::from_utf8_lossy(&existing)
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == wanted);
    if !present {
        let mut line = String::new();
        if existing.last().is_some_and(|&b| b != b'\n') {
            line.push('\n');
        }
        line.push_str(ATTRIBUTES_LINE);
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&attributes)
            .and_then(|mut file| {
                file.write_all(line.as_bytes())?;
                file.sync_all()
            })
            .map_err(io("write"))?;
    }
    let driver = format!(
        "{} merge-driver %O %A %B %P",
        shell_quote(&exe.display().to_string())
    );
    let mut config = repo
        .config()
        .and_then(|c| c.open_level(ConfigLevel::Local))
        .ctx(|| "opening the repository's git config".into())?;
    config
        .set_str(
            &format!("merge.{DRIVER}.name"),
            "chittysync: three-way merge of todos.json",
        )
        .and_then(|()| config.set_str(&format!("merge.{DRIVER}.driver"), &driver))
        .ctx(|| "writing the merge driver to git config".into())?;
    Ok(Installed {
        repo: workdir.display().to_string(),
        attributes: attributes.display().to_string(),
        attributes_added: !present,
        driver,
    })
}

/// Quotes a path for the shell git runs drivers with, when it needs it.
fn shell_quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c));
    if plain && !text.is_empty() {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once() {
        let dir = tempfile::tempdir().unwrap();
        Repository::init(dir.path()).unwrap();
        std::fs::write(dir.path().join(".gitattributes"), "*.png binary").unwrap();
        let exe = Path::new("/opt/my tools/chittysync");
        let first = install_merge_driver(dir.path(), exe).unwrap();
        assert!(first.attributes_added);
        assert_eq!(
            first.driver,
            "'/opt/my tools/chittysync' merge-driver %O %A %B %P"
        );
        let second = install_merge_driver(dir.path(), exe).unwrap();
        assert!(!second.attributes_added);
        let text = std::fs::read_to_string(dir.path().join(".gitattributes")).unwrap();
        assert_eq!(text, "*.png binary\ntodos.json merge=chittysync\n");
        let config = Repository::open(dir.path()).unwrap().config().unwrap();
        assert_eq!(
            config.get_string("merge.chittysync.driver").unwrap(),
            first.driver
        );
    }

    /// The user's `.gitattributes` keeps every byte it had (CRLF lines, bytes
    /// that are not UTF-8) with the line appended, and stays the link it
    /// was, its target written.
    #[test]
    fn appends_to_the_users_file_keeping_its_bytes_and_link() {
        let dir = tempfile::tempdir().unwrap();
        Repository::init(dir.path()).unwrap();
        let target = dir.path().join("shared-attributes");
        let before: &[u8] = b"*.png binary\r\n# caf\xe9\r\n*.txt text";
        std::fs::write(&target, before).unwrap();
        let link = dir.path().join(".gitattributes");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        install_merge_driver(dir.path(), Path::new("/bin/chittysync")).unwrap();
        let mut expected = before.to_vec();
        expected.extend_from_slice(b"\ntodos.json merge=chittysync\n");
        assert_eq!(std::fs::read(&target).unwrap(), expected);
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }

    #[allow(unsafe_code)]
    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    /// A `.gitattributes` that is a FIFO is refused naming it, never waited on.
    #[test]
    fn refuses_a_gitattributes_that_is_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        Repository::init(dir.path()).unwrap();
        let attributes = dir.path().join(".gitattributes");
        mkfifo(&attributes);
        let err = install_merge_driver(dir.path(), Path::new("/bin/chittysync")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(".gitattributes"), "{message}");
        assert!(
            message.contains("not a regular file but a FIFO"),
            "{message}"
        );
    }
}
