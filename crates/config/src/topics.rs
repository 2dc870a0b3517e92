//! `[topics]` and `[spawn]`: topics of pending work and the specialist agents
//! started when one piles up (docs/TOPICS.md).

use chittysync_core::topic::{TopicRule, TopicRules};
use serde::Deserialize;
use std::time::Duration;

/// `[topics]`: `[[topics.rules]]`, in order; the first that matches wins.
/// A rule's regex is compiled as the file is read, so a bad one is an error
/// naming the rule and the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicsConfig {
    pub rules: Vec<TopicRule>,
}

impl TopicsConfig {
    pub fn rules(&self) -> TopicRules {
        TopicRules::new(self.rules.clone())
    }
}

/// `[spawn]`: a command started in a topic's folder when the topic has
/// `threshold` pending todos. Off unless `enabled = true`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpawnConfig {
    pub enabled: bool,
    /// Pending todos of one topic that start its specialist.
    pub threshold: usize,
    /// The program and its arguments, run without a shell; each placeholder
    /// (`{topic}`, `{project}`, `{cwd}`, `{todos_file}`, `{prompt}`) is
    /// replaced inside its own argument, never split into more.
    pub command: Vec<String>,
    /// What `{prompt}` becomes (its own placeholders filled).
    pub prompt: String,
    /// No second start for a topic within this time of its last one.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    /// At most this many of a topic's specialists running at once.
    pub max_running: usize,
    /// Stop the specialists the daemon started when it stops (SIGTERM).
    pub stop_with_daemon: bool,
    /// Each start's log (its stdout and stderr) keeps at most this many bytes.
    pub log_max_bytes: u64,
}

impl Default for SpawnConfig {
    fn default() -> Self {
        SpawnConfig {
            enabled: false,
            threshold: 3,
            command: vec!["claude".into(), "-p".into(), "{prompt}".into()],
            prompt: "You are the {topic} specialist of {project}. Open work: {todos_file}".into(),
            cooldown: Duration::from_secs(3600),
            max_running: 1,
            stop_with_daemon: false,
            log_max_bytes: 1024 * 1024,
        }
    }
}

impl SpawnConfig {
    /// What makes the settings unusable, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.command.is_empty() || self.command[0].trim().is_empty() {
            return Some("`spawn.command` needs a program".into());
        }
        if self.threshold == 0 {
            return Some("`spawn.threshold` must be at least 1".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use std::path::Path;
    use std::time::Duration;

    #[test]
    fn topics_and_spawn_are_read() {
        let text = r#"
[[topics.rules]]
name = "router"
contains = ["chittyrouter", "router"]
[[topics.rules]]
name = "db"
matches = "sql|migration"
projects = ["api"]
[spawn]
enabled = true
threshold = 2
command = ["agent", "{prompt}"]
cooldown = "10m"
"#;
        let c = Config::parse(text, Path::new("c.toml")).unwrap();
        let rules = c.topics.rules();
        assert_eq!(rules.topic_of("web", "Fix ChittyRouter"), "router");
        assert_eq!(rules.topic_of("api", "write the SQL"), "db");
        assert_eq!(rules.topic_of("web", "write the SQL"), "web");
        assert!(c.spawn.enabled);
        assert_eq!(c.spawn.cooldown, Duration::from_secs(600));
        assert_eq!(c.spawn.max_running, 1);
        assert!(c.spawn.problem().is_none());
        assert!(!Config::default().spawn.enabled);
    }

    #[test]
    fn bad_topic_and_spawn_keys_name_themselves() {
        let err = Config::parse(
            "[[topics.rules]]\nname = \"x\"\nmatches = \"(\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("c.toml") && err.contains("regex"), "{err}");
        let err = Config::parse("[spawn]\nthreshhold = 3\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("threshhold"), "{err}");
        let err = Config::parse(
            "[[topics.rules]]\nname = \"x\"\ncontain = [\"a\"]\n",
            Path::new("c.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("contain"), "{err}");
    }
}
