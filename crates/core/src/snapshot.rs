//! One consolidated todo as it appears in `todos.json` (docs/DESIGN.md, "The outputs") — also the unit
//! the three-way merge works on.

use crate::key::normalize;
use crate::status::Status;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A consolidated todo. Every field but `content` and `status` has a default, so
/// the seed's plain arrays of `{content, status, activeForm}` read as entries too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoEntry {
    #[serde(default)]
    pub id: String,
    pub content: String,
    #[serde(rename = "activeForm", default)]
    pub active_form: Option<String>,
    pub status: Status,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub sessions: Vec<String>,
    /// The agents whose observers saw it (`claude`, `codex`…), sorted.
    #[serde(default)]
    pub agents: Vec<String>,
    #[serde(default)]
    pub first_seen: Option<Timestamp>,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
}

impl TodoEntry {
    /// The order of `todos.json`: by project, then normalized content.
    pub fn sort_key(&self) -> (String, String) {
        (self.project.clone(), normalize(&self.content))
    }
}

/// Sorts entries into the order every output uses.
pub fn sort_entries(entries: &mut [TodoEntry]) {
    entries.sort_by_cached_key(|e| (e.sort_key(), e.id.clone()));
}
