//! Where chittysync keeps its files (docs/CONFIG.md, "Locations") and what `config.toml` may say.
//!
//! Every key is optional and every command works without a config file. A key
//! that is unknown or ill-typed is an error naming the key and the file: a typo
//! that silently does nothing is worse than a refusal.

#![forbid(unsafe_code)]

mod locations;
mod topics;

pub use locations::{AgentFolder, LocationOverrides, Locations};
pub use topics::{SpawnConfig, TopicsConfig};

use chittysync_core::{KeywordRule, PathRule, ProjectRules};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The largest config file read: a hand-written TOML file is a few KiB.
const CONFIG_BYTES: u64 = 1 << 20;

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: chittysync_sources::ReadError,
    },
    #[error("config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The whole of `config.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// This machine's name in observations; default the hostname.
    pub device: Option<String>,
    pub daemon: DaemonConfig,
    pub sessions: SessionsConfig,
    pub limits: LimitsConfig,
    pub project: ProjectConfig,
    pub git: GitConfig,
    pub hub: HubConfig,
    pub log: LogConfig,
    pub sources: SourcesConfig,
    /// `[[topics.rules]]` (docs/TOPICS.md).
    pub topics: TopicsConfig,
    /// `[spawn]`: specialist agents (docs/TOPICS.md).
    pub spawn: SpawnConfig,
    pub notify: NotifyConfig,
}

/// `[notify]`: telling the person of collisions, completed plans, stale
/// sessions and failing syncs (docs/COLLISIONS.md).
/// Off by default; when on, each event goes to every channel configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub enabled: bool,
    /// A program and its arguments, run with the event as JSON on stdin (no shell).
    pub command: Option<Vec<String>>,
    /// An `https://` URL the event is POSTed to as JSON (`http://` only to loopback).
    pub webhook: Option<String>,
    /// Desktop notifications: freedesktop D-Bus on Linux, Notification
    /// Center on macOS.
    pub desktop: bool,
    /// At most this many events are sent per hour; more wait their turn.
    pub max_per_hour: u32,
    /// `sync_failing` is sent once the git or hub sync has failed this long.
    #[serde(with = "humantime_serde")]
    pub sync_failing_after: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            enabled: false,
            command: None,
            webhook: None,
            desktop: false,
            max_per_hour: 30,
            sync_failing_after: Duration::from_secs(30 * 60),
        }
    }
}

/// `[sources.<agent>]`: which agents' records are read, and from where
/// (docs/SOURCES.md). An agent is read when its folder exists, unless switched off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    pub claude: SourceConfig,
    pub codex: SourceConfig,
    pub gemini: SourceConfig,
    pub qwen: SourceConfig,
    pub opencode: SourceConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// `false` switches the agent off. Unset or `true`, it is read when its
    /// folder exists (and the daemon watches for the folder to appear).
    pub enabled: Option<bool>,
    /// The agent's folder (`~/` is the user's home).
    pub dir: Option<PathBuf>,
}

impl SourcesConfig {
    /// The settings of the agent named `agent` (`claude`, `codex`…).
    pub fn of(&self, agent: &str) -> Option<&SourceConfig> {
        Some(match agent {
            "claude" => &self.claude,
            "codex" => &self.codex,
            "gemini" => &self.gemini,
            "qwen" => &self.qwen,
            "opencode" => &self.opencode,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// How quiet a burst of file events must be before the outputs change.
    pub debounce_ms: u64,
    /// How often the daemon rereads everything, as a safety net for missed events.
    #[serde(with = "humantime_serde")]
    pub rescan_interval: Duration,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            debounce_ms: 100,
            rescan_interval: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// A session idle for longer than this is stale.
    #[serde(with = "humantime_serde")]
    pub stale_after: Duration,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            stale_after: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Todo and task files above this size are refused (a todo list is never that big).
    pub max_file_bytes: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_file_bytes: 16 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectConfig {
    pub path_rules: Vec<PathRule>,
    pub keyword_rules: Vec<KeywordRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitConfig {
    /// The sync repository; default `<home>/git`.
    pub repo: Option<PathBuf>,
    pub remote: Option<String>,
    pub branch: String,
    #[serde(with = "humantime_serde")]
    pub commit_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub push_interval: Duration,
    /// Seal what goes to the remote with the device key
    /// docs/ENCRYPTION.md): the remote sees no project, content or activeForm.
    pub encrypt: bool,
}

impl Default for GitConfig {
    fn default() -> Self {
        GitConfig {
            repo: None,
            remote: None,
            branch: "main".to_string(),
            commit_interval: Duration::from_secs(60),
            push_interval: Duration::from_secs(5 * 60),
            encrypt: false,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubConfig {
    pub url: Option<String>,
    /// Prefer the environment variable `CHITTYSYNC_HUB_TOKEN` to keeping it here.
    pub token: Option<String>,
    /// PEM certificates trusted besides the system's roots: a private CA, or
    /// the hub's own self-signed certificate (docs/HUB_API.md#tls).
    pub ca_file: Option<PathBuf>,
    /// Allow plain `http://` to a hub on another machine (a trusted network);
    /// without it such a URL is refused. Loopback needs no permission.
    pub insecure: bool,
    /// Seal what goes to the hub with the device key
    /// docs/ENCRYPTION.md): the hub sees no project, content or activeForm.
    pub encrypt: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `chittysync=debug`; `RUST_LOG` wins.
    pub level: Option<String>,
}

impl Config {
    /// Parses config text; `path` is only used to name the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Reads the config file, or the defaults when there is none.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        // Read by every hook too: never waiting on a FIFO, never reading a
        // device without end (docs/HOOKS.md, "Files read from your folders").
        let read = |cause| ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        };
        let bytes = chittysync_sources::read_limited(path, CONFIG_BYTES).map_err(read)?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!("not UTF-8 text ({e})"),
        })?;
        Config::parse(&text, path)
    }

    /// The device name: the configured one, else the hostname.
    pub fn device_name(&self) -> String {
        self.device
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| {
                gethostname::gethostname()
                    .to_string_lossy()
                    .trim()
                    .to_string()
            })
    }

    pub fn project_rules(&self) -> ProjectRules {
        ProjectRules::new(
            self.project.path_rules.clone(),
            self.project.keyword_rules.clone(),
        )
    }

    /// The hub token: `CHITTYSYNC_HUB_TOKEN` first, then the config.
    pub fn hub_token(&self) -> Option<String> {
        std::env::var("CHITTYSYNC_HUB_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .or_else(|| self.hub.token.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config file that cannot be read (a folder) is refused naming it
    /// and the reason, the reason told once: in the message, not chained
    /// again for the CLI's `caused by:` lines.
    #[test]
    fn an_unreadable_config_file_tells_its_reason_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::create_dir(&path).unwrap();
        let err = Config::load(Some(&path)).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with(&format!("cannot read config file {}: ", path.display())));
        assert!(
            message.ends_with("not a regular file but a folder"),
            "{message}"
        );
        assert!(std::error::Error::source(&err).is_none(), "{err:?}");
    }

    #[test]
    fn every_key_is_optional() {
        let c = Config::parse("", Path::new("c.toml")).unwrap();
        assert_eq!(c.daemon.debounce_ms, 100);
        assert_eq!(c.sessions.stale_after, Duration::from_secs(604_800));
        assert_eq!(c.limits.max_file_bytes, 16_777_216);
        assert_eq!(c.git.branch, "main");
    }

    #[test]
    fn the_spec_example_parses() {
        let text = r#"
device = "laptop"
[daemon]
debounce_ms = 50
rescan_interval = "30m"
[sessions]
stale_after = "7d"
[limits]
max_file_bytes = 1024
[[project.path_rules]]
prefix = "/home/me/work/api"
project = "api"
[[project.keyword_rules]]
contains = "chittyrouter"
project = "chittyrouter"
[git]
remote = "git@github.com:me/todos.git"
branch = "main"
commit_interval = "1m"
push_interval = "5m"
[hub]
url = "http://127.0.0.1:7878"
token = "t"
[notify]
enabled = false
command = ["notify-send-wrapper"]
webhook = "https://ntfy.example.org/me"
desktop = true
"#;
        let c = Config::parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(c.device_name(), "laptop");
        assert_eq!(c.daemon.rescan_interval, Duration::from_secs(1800));
        assert_eq!(c.project.path_rules[0].project, "api");
        assert_eq!(
            c.notify.command.as_deref(),
            Some(&["notify-send-wrapper".to_string()][..])
        );
        assert_eq!(c.notify.max_per_hour, 30);
        assert_eq!(
            c.project_rules().for_content("fix ChittyRouter"),
            "chittyrouter"
        );
    }

    #[test]
    fn unknown_and_ill_typed_keys_name_key_and_file() {
        let err = Config::parse("[daemon]\ndebounce = 5\n", Path::new("/x/config.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/x/config.toml"), "{err}");
        assert!(err.contains("debounce"), "{err}");

        let err = Config::parse("[daemon]\ndebounce_ms = \"fast\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("debounce_ms"), "{err}");

        let err = Config::parse("[sessions]\nstale_after = \"soon\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("stale_after"), "{err}");

        let err = Config::parse("[notify]\ncommand = \"notify-send\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("command"), "{err}");
        let err = Config::parse("[notify]\nwebhok = \"https://x\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("webhok"), "{err}");
    }
}
