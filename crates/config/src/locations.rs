//! Resolving the three locations (docs/CONFIG.md, "Locations"): the agent home, chittysync's home
//! and the config file, from flags, then environment, then defaults.

use std::path::{Path, PathBuf};

/// What the command line said, before environment and defaults fill the gaps.
#[derive(Debug, Clone, Default)]
pub struct LocationOverrides {
    pub claude_dir: Option<PathBuf>,
    /// The folder under which every agent's default folder is looked for
    /// (`.claude`, `.codex`, `.gemini`, `.qwen`, `.local/share/opencode`).
    pub agents_home: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

/// The resolved locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    /// Claude Code's home (`~/.claude`).
    pub claude_dir: PathBuf,
    /// Where the other agents' default folders are, when named by
    /// `--agents-home` or `CHITTYSYNC_AGENTS_HOME`; `None` for the user's
    /// home, with the agents' own variables (`CODEX_HOME`…) honoured.
    pub agents_home: Option<PathBuf>,
    /// chittysync's home: store, outputs, logs.
    pub home: PathBuf,
    /// The config file to read, if any exists or was named.
    pub config: Option<PathBuf>,
}

fn env_path(name: &str) -> Option<PathBuf> {
    path_value(std::env::var_os(name))
}

/// A variable's value as a path; an empty value counts as unset.
fn path_value(value: Option<std::ffi::OsString>) -> Option<PathBuf> {
    value.filter(|v| !v.is_empty()).map(PathBuf::from)
}

impl Locations {
    /// Flags first, then `CLAUDE_CONFIG_DIR` / `CHITTYSYNC_HOME` /
    /// `CHITTYSYNC_CONFIG`, then the OS defaults. A config file named by flag
    /// or environment is used even if missing (so reading it fails loudly); the
    /// default ones only when they exist.
    pub fn resolve(overrides: &LocationOverrides) -> Locations {
        let home_dir = dirs::home_dir().unwrap_or_else(|| PathBuf::from("."));
        let agents_home = overrides
            .agents_home
            .clone()
            .or_else(|| env_path("CHITTYSYNC_AGENTS_HOME"))
            .map(one_spelling);
        let claude_dir = one_spelling(
            overrides
                .claude_dir
                .clone()
                .or_else(|| agents_home.as_ref().map(|h| h.join(".claude")))
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
            agents_home,
            home,
            config,
        }
    }

    /// The other agents whose records are read, each with its folder
    /// (docs/SOURCES.md): `[sources.<agent>] dir`, else under `--agents-home`, else
    /// the agent's own variable (`CODEX_HOME`, `QWEN_HOME`, `XDG_DATA_HOME`),
    /// else its default under the user's home. Every agent not switched off
    /// (`enabled = false`) is listed: one whose folder does not exist yet
    /// gives no files and no warning, and is read once it appears (the
    /// daemon watches for it).
    pub fn agent_folders(&self, sources: &crate::SourcesConfig) -> Vec<AgentFolder> {
        let user_home = dirs::home_dir().unwrap_or_else(|| PathBuf::from("."));
        let mut out = Vec::new();
        for (agent, variable, default) in AGENT_DEFAULTS {
            let settings = sources.of(agent);
            let enabled = settings.and_then(|s| s.enabled);
            if enabled == Some(false) {
                continue;
            }
            let configured = settings
                .and_then(|s| s.dir.as_deref())
                .map(|d| expand_home(d, &user_home));
            let dir = match (&configured, &self.agents_home) {
                (Some(dir), _) => dir.clone(),
                (None, Some(home)) => home.join(default),
                (None, None) => agent_dir_from_env(
                    agent,
                    variable.and_then(std::env::var_os),
                    &user_home,
                    default,
                ),
            };
            out.push(AgentFolder {
                agent,
                dir: one_spelling(dir),
            });
        }
        out
    }

    pub fn store_path(&self) -> PathBuf {
        self.home.join("chittysync.db")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.home.join("logs")
    }

    /// The device key of end-to-end encryption (mode 0600, docs/ENCRYPTION.md).
    pub fn key_path(&self) -> PathBuf {
        self.home.join("sync.key")
    }
}

/// Another agent's folder, to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentFolder {
    /// `codex`, `gemini`, `qwen` or `opencode`.
    pub agent: &'static str,
    pub dir: PathBuf,
}

/// Each other agent: its name, the variable that moves its folder, and its
/// folder under a user's home (docs/SOURCES.md).
const AGENT_DEFAULTS: [(&str, Option<&str>, &str); 4] = [
    ("codex", Some("CODEX_HOME"), ".codex"),
    ("gemini", None, ".gemini"),
    ("qwen", Some("QWEN_HOME"), ".qwen"),
    ("opencode", Some("XDG_DATA_HOME"), ".local/share/opencode"),
];

/// An agent's folder from its own variable's value (empty counts as unset),
/// else its default under the user's home.
/// `XDG_DATA_HOME` names the data folder, not OpenCode's, and a relative one
/// is ignored, as the XDG rules say; `CODEX_HOME` and `QWEN_HOME` are taken
/// as written.
fn agent_dir_from_env(
    agent: &str,
    variable: Option<std::ffi::OsString>,
    user_home: &Path,
    default: &str,
) -> PathBuf {
    let variable = path_value(variable);
    let from_variable = match agent {
        "opencode" => variable
            .filter(|d| d.is_absolute())
            .map(|d| d.join("opencode")),
        _ => variable,
    };
    from_variable.unwrap_or_else(|| user_home.join(default))
}

/// `~/x` → `<home>/x`.
fn expand_home(dir: &Path, home: &Path) -> PathBuf {
    match dir.strip_prefix("~") {
        Ok(rest) => home.join(rest),
        Err(_) => dir.to_path_buf(),
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

/// The config file found where it is looked for: in the home, else under
/// the user's config folder. Anything there (a folder, a FIFO) is taken,
/// not only a regular file: reading it then refuses it, saying what it is,
/// instead of passing it over in silence for the defaults.
fn default_config(home: &Path) -> Option<PathBuf> {
    let in_home = home.join("config.toml");
    if in_home.exists() {
        return Some(in_home);
    }
    dirs::config_dir()
        .map(|d| d.join("chittysync").join("config.toml"))
        .filter(|p| p.exists())
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
            agents_home: None,
            home: Some(dir.path().to_path_buf()),
            config: None,
        });
        assert_eq!(loc.claude_dir, PathBuf::from("/c"));
        assert_eq!(loc.home, dir.path());
        assert_eq!(loc.config, Some(dir.path().join("config.toml")));
    }

    /// A `config.toml` in the home that is not a regular file is found,
    /// and refused when read, naming what it is.
    #[test]
    fn a_home_config_that_is_not_a_file_is_found_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("config.toml")).unwrap();
        let loc = Locations::resolve(&LocationOverrides {
            claude_dir: Some("/c".into()),
            agents_home: None,
            home: Some(dir.path().to_path_buf()),
            config: None,
        });
        assert_eq!(loc.config, Some(dir.path().join("config.toml")));
        let err = crate::Config::load(loc.config.as_deref()).unwrap_err();
        assert!(
            err.to_string().ends_with("not a regular file but a folder"),
            "{err}"
        );
    }

    #[test]
    fn agent_folders_from_their_variables_or_the_home() {
        let home = Path::new("/home/me");
        let folder = |agent: &str, value: Option<&str>| {
            let (_, _, default) = AGENT_DEFAULTS
                .iter()
                .find(|(name, _, _)| *name == agent)
                .unwrap();
            agent_dir_from_env(agent, value.map(Into::into), home, default)
        };
        assert_eq!(folder("qwen", None), PathBuf::from("/home/me/.qwen"));
        assert_eq!(
            folder("qwen", Some("/opt/qwen")),
            PathBuf::from("/opt/qwen")
        );
        // An empty QWEN_HOME counts as unset.
        assert_eq!(folder("qwen", Some("")), PathBuf::from("/home/me/.qwen"));
        assert_eq!(
            folder("codex", Some("rel/codex")),
            PathBuf::from("rel/codex")
        );
        assert_eq!(folder("gemini", None), PathBuf::from("/home/me/.gemini"));
        assert_eq!(
            folder("opencode", None),
            PathBuf::from("/home/me/.local/share/opencode")
        );
        assert_eq!(
            folder("opencode", Some("/data")),
            PathBuf::from("/data/opencode")
        );
        // A relative XDG_DATA_HOME is ignored.
        assert_eq!(
            folder("opencode", Some("relative")),
            PathBuf::from("/home/me/.local/share/opencode")
        );
    }
}
