//! What an `install` command added to a file of the user's besides its own
//! entry (the file itself, an object to hold the entry, a setting), kept in
//! chittysync's home, so that `uninstall` removes that and never a value the
//! user set (docs/HOOKS.md, "Plan tools"; docs/MCP.md).

use anyhow::{Context as _, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One install command's records, by the real path of each file it changed;
/// `A` is what it may add to a file.
pub struct Records<A> {
    path: PathBuf,
    files: BTreeMap<PathBuf, A>,
}

impl<A: Default + Copy + Eq + Serialize + DeserializeOwned> Records<A> {
    /// The records in `<home>/<name>`, kept by `command` (named when the
    /// file cannot be read as its records).
    pub fn load(home: &Path, name: &str, command: &str) -> Result<Records<A>> {
        let path = home.join(name);
        let files = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is not a record of what `{command}` added; fix or delete it",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Records { path, files })
    }

    pub fn get(&self, file: &Path) -> A {
        self.files.get(file).copied().unwrap_or_default()
    }

    /// Sets the record of one file (forgotten when nothing is added) and
    /// saves, creating the home privately if it is not there yet.
    pub fn save(&mut self, file: &Path, added: A) -> Result<()> {
        if self.get(file) == added {
            return Ok(());
        }
        if added == A::default() {
            self.files.remove(file);
        } else {
            self.files.insert(file.to_path_buf(), added);
        }
        let mut text = serde_json::to_string_pretty(&self.files)?;
        text.push('\n');
        crate::context::create_private_dir(self.path.parent().unwrap_or(Path::new(".")))?;
        chittysync_engine::write_atomically(&self.path, text.as_bytes())?;
        Ok(())
    }
}
