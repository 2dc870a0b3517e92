//! Topics: pending work grouped by what it is about (docs/TOPICS.md).
//!
//! A topic lives inside a project. `[[topics.rules]]` name topics by keywords
//! (`contains`, any case) or a regular expression (`matches`, any case),
//! optionally only in some `projects`; the first rule that applies to a todo's
//! project and matches its content names its topic. A todo no rule names is in
//! its project's own topic, named as the project — so with no rules at all a
//! project is one topic. The CLI, the daemon's specialist agents and the hub's
//! `GET /api/topic` all group with [`topics`], so they cannot disagree.

use crate::key::normalize;
use crate::{Status, Timestamp, TodoEntry};
use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// `[[topics.rules]]` as written in `config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicRuleSpec {
    pub name: String,
    /// Keywords: a todo containing any of them (any case) is in the topic.
    #[serde(default)]
    pub contains: Vec<String>,
    /// A regular expression (any case) the todo's content must match.
    #[serde(default)]
    pub matches: Option<String>,
    /// Only todos of these projects; empty: every project.
    #[serde(default)]
    pub projects: Vec<String>,
}

/// One rule, ready to match: keywords lowercased, the expression compiled.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "TopicRuleSpec")]
pub struct TopicRule {
    name: String,
    contains: Vec<String>,
    matches: Option<Regex>,
    projects: Vec<String>,
}

impl TryFrom<TopicRuleSpec> for TopicRule {
    type Error = String;

    fn try_from(spec: TopicRuleSpec) -> Result<Self, String> {
        let name = spec.name.trim().to_string();
        if name.is_empty() {
            return Err("a topic rule needs a non-empty `name`".to_string());
        }
        let contains: Vec<String> = spec
            .contains
            .iter()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        let matches = match spec.matches.as_deref() {
            Some(pattern) => Some(
                Regex::builder()
                    .syntax(syntax::Config::new().case_insensitive(true))
                    .build(pattern)
                    .map_err(|e| format!("topic `{name}`: `matches` is not a valid regex: {e}"))?,
            ),
            None => None,
        };
        if contains.is_empty() && matches.is_none() {
            return Err(format!(
                "topic `{name}` needs `contains` keywords or a `matches` regex"
            ));
        }
        Ok(TopicRule {
            name,
            contains,
            matches,
            projects: spec.projects,
        })
    }
}

impl TopicRule {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this rule names the topic of `content` in `project`.
    fn claims(&self, project: &str, lowered: &str, content: &str) -> bool {
        if !self.projects.is_empty() && !self.projects.iter().any(|p| p == project) {
            return false;
        }
        self.contains.iter().any(|k| lowered.contains(k.as_str()))
            || self.matches.as_ref().is_some_and(|r| r.is_match(content))
    }
}

/// The configured rules, in config order.
#[derive(Debug, Clone, Default)]
pub struct TopicRules {
    rules: Vec<TopicRule>,
}

impl TopicRules {
    pub fn new(rules: Vec<TopicRule>) -> TopicRules {
        TopicRules { rules }
    }

    /// Compiles rules as written; the error names the rule.
    pub fn from_specs(specs: Vec<TopicRuleSpec>) -> Result<TopicRules, String> {
        Ok(TopicRules::new(
            specs
                .into_iter()
                .map(TopicRule::try_from)
                .collect::<Result<_, _>>()?,
        ))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The topic of a todo: the first rule that applies to its project and
    /// matches its content, else the project itself.
    pub fn topic_of<'a>(&'a self, project: &'a str, content: &str) -> &'a str {
        if self.rules.is_empty() {
            return project;
        }
        let lowered = content.to_lowercase();
        self.rules
            .iter()
            .find(|r| r.claims(project, &lowered, content))
            .map_or(project, |r| r.name.as_str())
    }
}

/// One open todo of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicTodo {
    pub id: String,
    pub content: String,
    pub status: Status,
    pub sessions: Vec<String>,
    pub updated_at: Option<Timestamp>,
}

/// A topic: its open todos and the sessions working on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub project: String,
    /// The rule's name, or the project's when no rule names it.
    pub topic: String,
    /// Open todos, by normalized content (then id).
    pub pending: Vec<TopicTodo>,
    pub in_progress: Vec<TopicTodo>,
    /// Todos of the topic already completed.
    pub completed: usize,
    /// The sessions listing any of its open todos, sorted.
    pub sessions: Vec<String>,
    /// When any of its todos last changed.
    pub last_activity: Option<Timestamp>,
}

impl Topic {
    /// Its open todos: in progress first, then pending.
    pub fn open(&self) -> impl Iterator<Item = &TopicTodo> {
        self.in_progress.iter().chain(self.pending.iter())
    }
}

/// Groups the todos (deleted ones are left out) into topics, sorted by
/// project, then topic. A pure function of the set of todos: their order does
/// not matter.
pub fn topics(rules: &TopicRules, todos: &[TodoEntry]) -> Vec<Topic> {
    // (project, topic) → (todos with their sort keys, completed count, last activity)
    type Acc = (Vec<(String, TopicTodo)>, usize, Option<Timestamp>);
    let mut groups: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for todo in todos.iter().filter(|t| t.status != Status::Deleted) {
        let topic = rules.topic_of(&todo.project, &todo.content).to_string();
        let group = groups.entry((todo.project.clone(), topic)).or_default();
        group.2 = group.2.max(todo.updated_at);
        if todo.status == Status::Completed {
            group.1 += 1;
            continue;
        }
        let mut sessions = todo.sessions.clone();
        sessions.sort();
        sessions.dedup();
        group.0.push((
            normalize(&todo.content),
            TopicTodo {
                id: todo.id.clone(),
                content: todo.content.clone(),
                status: todo.status,
                sessions,
                updated_at: todo.updated_at,
            },
        ));
    }
    groups
        .into_iter()
        .map(|((project, topic), (mut open, completed, last_activity))| {
            open.sort_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
            open.dedup_by(|a, b| a.1.id == b.1.id);
            let sessions: BTreeSet<String> = open
                .iter()
                .flat_map(|(_, t)| t.sessions.iter().cloned())
                .collect();
            let (in_progress, pending): (Vec<TopicTodo>, Vec<TopicTodo>) = open
                .into_iter()
                .map(|(_, t)| t)
                .partition(|t| t.status == Status::InProgress);
            Topic {
                project,
                topic,
                pending,
                in_progress,
                completed,
                sessions: sessions.into_iter().collect(),
                last_activity,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(name: &str, contains: &[&str], matches: Option<&str>, projects: &[&str]) -> TopicRule {
        TopicRule::try_from(TopicRuleSpec {
            name: name.into(),
            contains: contains.iter().map(|s| s.to_string()).collect(),
            matches: matches.map(str::to_string),
            projects: projects.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    fn entry(project: &str, content: &str, status: Status, sessions: &[&str]) -> TodoEntry {
        TodoEntry {
            id: crate::todo_id(project, content).to_string(),
            content: content.into(),
            active_form: None,
            status,
            project: project.into(),
            sessions: sessions.iter().map(|s| s.to_string()).collect(),
            agents: vec!["claude".into()],
            first_seen: None,
            started_at: None,
            updated_at: Some(Timestamp(1000)),
            completed_at: None,
        }
    }

    #[test]
    fn no_rules_a_project_is_one_topic() {
        let rules = TopicRules::default();
        assert_eq!(rules.topic_of("api", "Fix the router"), "api");
        let all = topics(
            &rules,
            &[
                entry("api", "a", Status::Pending, &["s1"]),
                entry("api", "b", Status::InProgress, &["s2"]),
                entry("web", "c", Status::Completed, &["s3"]),
                entry("web", "d", Status::Deleted, &["s3"]),
            ],
        );
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].pending.len(), all[0].in_progress.len()), (1, 1));
        assert_eq!(all[0].sessions, vec!["s1", "s2"]);
        assert_eq!((all[1].topic.as_str(), all[1].completed), ("web", 1));
        assert!(all[1].sessions.is_empty());
    }

    #[test]
    fn first_matching_rule_names_the_topic() {
        let rules = TopicRules::new(vec![
            rule("router", &["ChittyRouter", "router"], None, &[]),
            rule("db", &[], Some(r"\b(sql|migrat\w*)\b"), &["api"]),
        ]);
        assert_eq!(rules.topic_of("api", "Fix the ROUTER tests"), "router");
        assert_eq!(rules.topic_of("api", "Write the MIGRATION"), "db");
        // `db` is limited to `api`.
        assert_eq!(rules.topic_of("web", "write the migration"), "web");
        assert_eq!(rules.topic_of("web", "something else"), "web");
    }

    #[test]
    fn bad_rules_are_refused_by_name() {
        let bad = TopicRule::try_from(TopicRuleSpec {
            name: "x".into(),
            contains: vec![],
            matches: Some("(".into()),
            projects: vec![],
        })
        .unwrap_err();
        assert!(bad.contains("`x`") && bad.contains("regex"), "{bad}");
        let empty = TopicRule::try_from(TopicRuleSpec {
            name: "y".into(),
            contains: vec![" ".into()],
            matches: None,
            projects: vec![],
        })
        .unwrap_err();
        assert!(empty.contains("`y`"), "{empty}");
    }

    fn arb_todo() -> impl Strategy<Value = TodoEntry> {
        let projects = prop::sample::select(vec!["api", "web"]);
        let words = prop::sample::select(vec!["router", "sql", "docs", "fix", "Router", "ui"]);
        let status = prop::sample::select(vec![
            Status::Pending,
            Status::InProgress,
            Status::Completed,
            Status::Deleted,
        ]);
        let sessions = prop::collection::vec(prop::sample::select(vec!["s1", "s2", "s3"]), 0..3);
        (
            projects,
            prop::collection::vec(words, 1..4),
            status,
            sessions,
        )
            .prop_map(|(p, words, status, sessions)| entry(p, &words.join(" "), status, &sessions))
    }

    proptest! {
        /// Same todos, same topics, in any order (docs/TOPICS.md).
        #[test]
        fn topics_do_not_depend_on_order(
            todos in prop::collection::vec(arb_todo(), 0..20),
            seed in any::<u64>(),
        ) {
            // One todo per id, as the fold gives.
            let mut todos = todos;
            todos.sort_by(|a, b| a.id.cmp(&b.id));
            todos.dedup_by(|a, b| a.id == b.id);
            let rules = TopicRules::new(vec![
                rule("router", &["router"], None, &[]),
                rule("db", &[], Some("sql"), &["api"]),
            ]);
            let mut shuffled = todos.clone();
            let n = shuffled.len();
            for i in 0..n {
                let j = ((seed >> (i % 60)) as usize + i * 7) % n;
                shuffled.swap(i, j);
            }
            shuffled.reverse();
            let a = topics(&rules, &todos);
            prop_assert_eq!(&a, &topics(&rules, &shuffled));
            // Every open todo is in exactly one topic.
            let open = todos.iter().filter(|t| t.status.is_open()).count();
            prop_assert_eq!(open, a.iter().map(|t| t.open().count()).sum::<usize>());
        }
    }
}
