//! Observations: one observer saw one todo in one state at one time (docs/DESIGN.md, "Identity").
//!
//! Observations are facts. They are appended and never edited, and everything
//! else — the consolidated list, conflicts, history — is computed from them.

use crate::key::{normalize, todo_id_of_normalized, TodoId};
use crate::status::{Source, Status};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a source reader saw, before the todo's project is known.
///
/// Readers of files and transcripts do not know a session's project (that needs
/// the session's cwd, config rules and the disk), so they report sightings and
/// the consolidator turns them into [`Observation`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub content: String,
    pub active_form: Option<String>,
    pub status: Status,
    /// The observer: a session-and-agent (`<session>` or `<session>/<agent>`), a
    /// task (`task:<list>/<id>`), or a user command.
    pub observer: String,
    pub session: Option<String>,
    pub source: Source,
    pub observed_at: Timestamp,
}

impl Sighting {
    /// The observation this sighting becomes once its project is decided.
    pub fn into_observation(self, project: &str, device: &str) -> Observation {
        Observation::new(
            project,
            self.content,
            self.active_form,
            self.status,
            self.observer,
            self.session,
            device,
            self.source,
            self.observed_at,
        )
    }
}

/// One observation, in the shape it has on the wire (git logs, hub API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// 32 hex digits: a hash of every other field, so the same fact read twice has
    /// the same id and is stored once.
    pub id: String,
    pub todo_id: TodoId,
    pub project: String,
    pub content: String,
    #[serde(
        rename = "activeForm",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub active_form: Option<String>,
    pub status: Status,
    pub observer: String,
    #[serde(default)]
    pub session: Option<String>,
    pub device: String,
    pub source: Source,
    pub observed_at: Timestamp,
}

/// Why an observation received from elsewhere was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("field `{field}`: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
}

fn field_error(field: &'static str, problem: impl Into<String>) -> WireError {
    WireError::Field {
        field,
        problem: problem.into(),
    }
}

impl Observation {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        project: &str,
        content: String,
        active_form: Option<String>,
        status: Status,
        observer: String,
        session: Option<String>,
        device: &str,
        source: Source,
        observed_at: Timestamp,
    ) -> Observation {
        let todo_id = todo_id_of_normalized(project, &normalize(&content));
        let mut obs = Observation {
            id: String::new(),
            todo_id,
            project: project.to_string(),
            content,
            active_form,
            status,
            observer,
            session,
            device: device.to_string(),
            source,
            observed_at,
        };
        obs.id = obs.computed_id();
        obs
    }

    /// The id derived from the other fields.
    pub fn computed_id(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.todo_id.as_str(),
            self.project.as_str(),
            self.content.as_str(),
            self.active_form.as_deref().unwrap_or("\u{0}"),
            self.status.as_str(),
            self.observer.as_str(),
            self.session.as_deref().unwrap_or("\u{0}"),
            self.device.as_str(),
            self.source.as_str(),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        h.update(self.observed_at.millis().to_be_bytes());
        hex::encode(&h.finalize()[..16])
    }

    /// Checks an observation that came from another device or a client: an `id`
    /// of 32 hex digits, non-empty content, project, observer and device, and a
    /// `todo_id` equal to the one computed from project and content. An empty
    /// `todo_id` is filled in.
    pub fn validated(mut self) -> Result<Observation, WireError> {
        if self.id.len() != 32 || !self.id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(field_error("id", "must be 32 hex digits"));
        }
        self.id.make_ascii_lowercase();
        let normalized = normalize(&self.content);
        if normalized.is_empty() {
            return Err(field_error("content", "must be a non-empty string"));
        }
        if self.project.trim().is_empty() {
            return Err(field_error("project", "must be a non-empty string"));
        }
        if self.observer.is_empty() {
            return Err(field_error("observer", "must be a non-empty string"));
        }
        if self.device.is_empty() {
            return Err(field_error("device", "must be a non-empty string"));
        }
        let expected = todo_id_of_normalized(&self.project, &normalized);
        if self.todo_id.is_empty() {
            self.todo_id = expected;
        } else if !self.todo_id.eq_ignore_ascii_case(&expected) {
            return Err(field_error(
                "todo_id",
                format!(
                    "`{}` does not match project and content (expected `{expected}`)",
                    self.todo_id
                ),
            ));
        } else {
            self.todo_id = expected;
        }
        Ok(self)
    }

    /// The ordering of two observations by the same observer: the later one is its
    /// current word; at the same instant the higher status counts (docs/DESIGN.md, "The fold": one
    /// observer listing a todo twice at once counts once, with the higher status);
    /// the remaining fields only make the order total, so the fold is deterministic.
    pub fn recency_key(&self) -> (Timestamp, Status, &str, Option<&str>, &str) {
        (
            self.observed_at,
            self.status,
            self.content.as_str(),
            self.active_form.as_deref(),
            self.id.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Observation {
        Observation::new(
            "api",
            "Fix the bug".into(),
            Some("Fixing the bug".into()),
            Status::Pending,
            "s1".into(),
            Some("s1".into()),
            "laptop",
            Source::File,
            Timestamp(1_700_000_000_000),
        )
    }

    #[test]
    fn id_is_stable_and_field_sensitive() {
        let a = sample();
        assert_eq!(a.id.len(), 32);
        assert_eq!(a.id, sample().id);
        let mut b = sample();
        b.status = Status::Completed;
        assert_ne!(a.id, b.computed_id());
    }

    #[test]
    fn wire_round_trip_and_validation() {
        let a = sample();
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"activeForm\":\"Fixing the bug\""));
        assert!(json.contains("\"observed_at\":\"2023-11-14T22:13:20.000Z\""));
        let back: Observation = serde_json::from_str(&json).unwrap();
        assert_eq!(back.clone().validated().unwrap(), a);

        let mut wrong = a.clone();
        wrong.todo_id = "0000000000000000".into();
        let err = wrong.validated().unwrap_err();
        assert!(err.to_string().contains("todo_id"));

        let mut empty = a;
        empty.content = "   ".into();
        assert!(empty
            .validated()
            .unwrap_err()
            .to_string()
            .contains("content"));
    }
}
