//! Resolving the three locations of SPEC §2: the agent home, chittysync's home
//! and the config file, from flags, then environment, then defaults.

use std::path::{Path, PathBuf};

/// What the command line said, before environment and defaults fill the gaps.
#[derive(Debug, Clone, Default)]
pub struct LocationOverrides {
    pub claude_dir: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

/// The resolved locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    /// Claude Code's home (`~/.claude`).
    pub claude_dir: PathBuf,
    /// chittysync's home: store, outputs, logs.
    pub home: PathBuf,
    /// The config file to read, if any exists or was named.
    pub config: Option<PathBuf>,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Locations {
    /// Flags first, then `CLAUDE_CONFIG_DIR` / `CHITTYSYNC_HOME` /
    /// `CHITTYSYNC_CONFIG`, then the OS defaults. A config file named by flag
    /// or environment is used even if missing (so reading it fails loudly); the
    /// default ones only when they exist.
    pub fn resolve(overrides: &LocationOverrides) -> Locations {
        let home_dir = dirs::home_dir().unwrap_or_else(|| PathBuf::from("."));
        let claude_dir = one_spelling(
            overrides
                .claude_dir
                .clone()
                .or_else(|| env_path("CLAUDE_CONFIG_DIR"))
                .unwrap_or_else(|| home_dir.join(".claude")),
        );
        let home = overrides
            .home
            .clone()
            .or_else(|| env_path("CHITTYSYNC_HOME"))
            .unwrap_or_else(|| {
                dirs::data_dir()
                    .unwrap_or_else(|| home_dir.join(".local/share"))
                    .join("chittysync")
            });
        let config = overrides
            .config
            .clone()
            .or_else(|| env_path("CHITTYSYNC_CONFIG"))
            .or_else(|| default_config(&home));
        Locations {
            claude_dir,
            home,
            config,
        }
    }

    pub fn store_path(&self) -> PathBuf {
        self.home.join("chittysync.db")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.home.join("logs")
    }
}

/// The one spelling of a folder, however it was given (relative, through
/// `..` or a symlink): its canonical path if it exists, else its absolute
/// path. Files are known by their paths (the store's file index, the
/// notifier's events), so the same file must always be named the same way.
fn one_spelling(dir: PathBuf) -> PathBuf {
    std::fs::canonicalize(&dir)
        .or_else(|_| std::path::absolute(&dir))
        .unwrap_or(dir)
}

fn default_config(home: &Path) -> Option<PathBuf> {
    let in_home = home.join("config.toml");
    if in_home.is_file() {
        return Some(in_home);
    }
    dirs::config_dir()
        .map(|d| d.join("chittysync").join("config.toml"))
        .filter(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_and_home_config_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let loc = Locations::resolve(&LocationOverrides {
            claude_dir: Some("/c".into()),
            home: Some(dir.path().to_path_buf()),
            config: None,
        });
        assert_eq!(loc.claude_dir, PathBuf::from("/c"));
        assert_eq!(loc.home, dir.path());
        assert_eq!(loc.config, Some(dir.path().join("config.toml")));
    }
}
