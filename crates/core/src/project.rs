//! Which project a todo belongs to (docs/DESIGN.md, "Projects").
//!
//! The order is: a path rule matching the session's cwd; the cwd itself (its
//! git work tree's folder name when the cwd exists here, else its last
//! component); for sessions with no known cwd, a keyword rule on the content;
//! otherwise `general`. Looking at the disk is the caller's job, passed in as a
//! function, so the rules stay pure and testable.

use serde::{Deserialize, Serialize};

/// The project of todos that nothing else places.
pub const GENERAL: &str = "general";

/// `[[project.path_rules]]`: a cwd at or under `prefix` belongs to `project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathRule {
    pub prefix: String,
    pub project: String,
}

/// `[[project.keyword_rules]]`: content containing `contains` (any case) belongs to `project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordRule {
    pub contains: String,
    pub project: String,
}

/// The configured rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectRules {
    path_rules: Vec<PathRule>,
    /// Keyword rules with `contains` already lowercased.
    keyword_rules: Vec<KeywordRule>,
}

/// What the disk says about a session's cwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CwdOnDisk {
    /// The cwd exists and lies in a git work tree whose folder has this name.
    InWorkTree(String),
    /// The cwd exists but no enclosing folder holds `.git`.
    NotInWorkTree,
    /// The cwd does not exist on this machine.
    Missing,
}

impl ProjectRules {
    pub fn new(path_rules: Vec<PathRule>, keyword_rules: Vec<KeywordRule>) -> Self {
        let keyword_rules = keyword_rules
            .into_iter()
            .map(|r| KeywordRule {
                contains: r.contains.to_lowercase(),
                project: r.project,
            })
            .collect();
        ProjectRules {
            path_rules,
            keyword_rules,
        }
    }

    /// The project of a session whose cwd is known. When several path rules
    /// match, the longest (most specific) prefix wins.
    pub fn for_cwd(&self, cwd: &str, on_disk: impl FnOnce(&str) -> CwdOnDisk) -> String {
        let cwd_trimmed = trim_trailing_slash(cwd);
        let matching = self
            .path_rules
            .iter()
            .filter(|r| path_is_under(cwd_trimmed, trim_trailing_slash(&r.prefix)))
            .max_by_key(|r| trim_trailing_slash(&r.prefix).len());
        if let Some(rule) = matching {
            return rule.project.clone();
        }
        match on_disk(cwd_trimmed) {
            CwdOnDisk::InWorkTree(name) => name,
            CwdOnDisk::NotInWorkTree | CwdOnDisk::Missing => last_component(cwd_trimmed),
        }
    }

    /// The project of a todo whose session has no known cwd.
    pub fn for_content(&self, content: &str) -> String {
        let lower = content.to_lowercase();
        self.keyword_rules
            .iter()
            .find(|r| !r.contains.is_empty() && lower.contains(&r.contains))
            .map_or_else(|| GENERAL.to_string(), |r| r.project.clone())
    }

    pub fn has_keyword_rules(&self) -> bool {
        !self.keyword_rules.is_empty()
    }
}

fn trim_trailing_slash(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['/', '\\']);
    if trimmed.is_empty() {
        path
    } else {
        trimmed
    }
}

fn path_is_under(path: &str, prefix: &str) -> bool {
    path == prefix
        || (path.starts_with(prefix)
            && matches!(path.as_bytes().get(prefix.len()), Some(b'/' | b'\\')))
}

fn last_component(path: &str) -> String {
    path.rsplit(['/', '\\'])
        .find(|c| !c.is_empty())
        .map_or_else(|| GENERAL.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ProjectRules {
        ProjectRules::new(
            vec![
                PathRule {
                    prefix: "/home/me/work".into(),
                    project: "work".into(),
                },
                PathRule {
                    prefix: "/home/me/work/api/".into(),
                    project: "api".into(),
                },
            ],
            vec![KeywordRule {
                contains: "ChittyRouter".into(),
                project: "chittyrouter".into(),
            }],
        )
    }

    #[test]
    fn path_rules_match_whole_components_longest_first() {
        let r = rules();
        let never = |_: &str| -> CwdOnDisk { panic!("disk consulted although a rule matched") };
        assert_eq!(r.for_cwd("/home/me/work/api/src", never), "api");
        assert_eq!(r.for_cwd("/home/me/work/web", never), "work");
        assert_eq!(
            r.for_cwd("/home/me/workshop", |_| CwdOnDisk::Missing),
            "workshop"
        );
    }

    #[test]
    fn cwd_falls_back_to_work_tree_then_last_component() {
        let r = ProjectRules::default();
        assert_eq!(
            r.for_cwd("/src/mono/pkg/a", |_| CwdOnDisk::InWorkTree("mono".into())),
            "mono"
        );
        assert_eq!(r.for_cwd("/gone/place/", |_| CwdOnDisk::Missing), "place");
        assert_eq!(r.for_cwd("/", |_| CwdOnDisk::Missing), "general");
    }

    #[test]
    fn keywords_then_general() {
        let r = rules();
        assert_eq!(r.for_content("Wire the chittyrouter API"), "chittyrouter");
        assert_eq!(r.for_content("Something else"), "general");
    }
}
