//! Installing the merge driver in a repository: the `.gitattributes` line that
//! routes `todos.json` to it, and the repository's git config that defines it.

use crate::error::{GitContext, GitSyncError};
use git2::{ConfigLevel, Repository};
use serde::Serialize;
use std::path::Path;

/// The driver's name in `.gitattributes` and git config.
pub const DRIVER: &str = "chittysync";
/// The attributes line that sends `todos.json` to the driver.
pub const ATTRIBUTES_LINE: &str = "todos.json merge=chittysync\n";

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
    let existing = match std::fs::read_to_string(&attributes) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io("read")(e)),
    };
    let wanted: Vec<&str> = ATTRIBUTES_LINE.split_whitespace().collect();
    let present = existing
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == wanted);
    if !present {
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(ATTRIBUTES_LINE);
        std::fs::write(&attributes, text).map_err(io("write"))?;
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
}
