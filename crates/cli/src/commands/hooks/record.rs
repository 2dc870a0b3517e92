//! What `hooks install` added to each settings file beyond its hook entries,
//! kept in `<home>/hooks-install.json` so that `hooks uninstall` removes that
//! and never a value the user set (docs/HOOKS.md, "Plan tools").

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;

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
pub type Records = crate::install_record::Records<Added>;

/// The records `hooks install` keeps in `home`.
pub fn load(home: &Path) -> Result<Records> {
    Records::load(home, FILE_NAME, "hooks install")
}
