//! Asking the disk where a cwd's git work tree is (docs/DESIGN.md, "Projects"; rule 2).

use chittysync_core::project::CwdOnDisk;
use std::collections::HashMap;
use std::path::Path;

/// Caches answers per cwd for one run: many sessions share a cwd.
#[derive(Default)]
pub(crate) struct WorkTreeLookup {
    cache: HashMap<String, CwdOnDisk>,
}

impl WorkTreeLookup {
    pub(crate) fn lookup(&mut self, cwd: &str) -> CwdOnDisk {
        if let Some(known) = self.cache.get(cwd) {
            return known.clone();
        }
        let answer = look(Path::new(cwd));
        self.cache.insert(cwd.to_string(), answer.clone());
        answer
    }
}

/// The enclosing folder holding `.git` (a folder, or a file in linked work
/// trees; anything else there, a FIFO say, is not git's and is passed over).
/// Only `stat`s: nothing is opened.
pub(crate) fn work_tree_of(cwd: &Path) -> Option<&Path> {
    cwd.ancestors()
        .find(|dir| std::fs::metadata(dir.join(".git")).is_ok_and(|m| m.is_dir() || m.is_file()))
}

fn look(cwd: &Path) -> CwdOnDisk {
    if !cwd.is_absolute() || !cwd.is_dir() {
        return CwdOnDisk::Missing;
    }
    match work_tree_of(cwd).map(Path::file_name) {
        Some(Some(name)) => CwdOnDisk::InWorkTree(name.to_string_lossy().into_owned()),
        _ => CwdOnDisk::NotInWorkTree,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_enclosing_work_tree() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("myrepo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        let mut lookup = WorkTreeLookup::default();
        let deep = repo.join("src/deep");
        assert_eq!(
            lookup.lookup(deep.to_str().unwrap()),
            CwdOnDisk::InWorkTree("myrepo".into())
        );
        assert_eq!(lookup.lookup("/no/such/place"), CwdOnDisk::Missing);
    }
}
