//! What `hooks install` added to each settings file beyond its hook entries,
//! kept in `<home>/hooks-install.json` so that `hooks uninstall` removes that
//! and never a value the user set (docs/HOOKS.md, "Plan tools").

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE_NAME: &str = "hooks-install.json";

/// What install added to one settings file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Added {
    /// The file did not exist: install created it.
    pub file: bool,
    /// The `env` object did not exist: install created it.
    pub env: bool,
    /// `env.CLAUDE_CODE_ENABLE_TODO_TOOLS` was not set: install set it.
    pub plan_tools: bool,
}

/// The records of every settings file, by the real path of the file.
pub struct Records {
    path: PathBuf,
    files: BTreeMap<PathBuf, Added>,
}

impl Records {
    pub fn load(home: &Path) -> Result<Records> {
        let path = home.join(FILE_NAME);
        let files = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is not a record of what `hooks install` added; fix or delete it",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Records { path, files })
    }

    pub fn get(&self, settings: &Path) -> Added {
        self.files.get(settings).copied().unwrap_or_default()
    }

    /// Sets the record of one file (forgotten when nothing is added) and saves.
    pub fn save(&mut self, settings: &Path, added: Added) -> Result<()> {
        if self.get(settings) == added {
            return Ok(());
        }
        if added == Added::default() {
            self.files.remove(settings);
        } else {
            self.files.insert(settings.to_path_buf(), added);
        }
        let mut text = serde_json::to_string_pretty(&self.files)?;
        text.push('\n');
        chittysync_engine::write_atomically(&self.path, text.as_bytes())?;
        Ok(())
    }
}
