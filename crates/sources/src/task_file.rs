//! `tasks/<list>/<N>.json`: one task of Claude Code's newer task lists.

use crate::error::ParseError;
use crate::json;
use chittysync_core::Status;
use serde_json::Value;

/// A task file's content. `subject` is the todo's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTask {
    /// The `id` field, which Claude Code writes as a string; a number is read as
    /// its decimal text. The file name is the authority on the task number; this
    /// is for callers that want to cross-check.
    pub id: Option<String>,
    pub subject: String,
    pub description: Option<String>,
    pub active_form: Option<String>,
    pub status: Status,
    /// The status was missing or not one of the four, and was read as pending.
    pub unknown_status: bool,
    pub owner: Option<String>,
    pub blocks: Vec<String>,
    pub blocked_by: Vec<String>,
}

/// Parses the content of a task file. Anything that is not an object with a
/// non-empty string `subject` is [`ParseError::NotATask`]: the folder is shared
/// with Claude Code's own bookkeeping and possibly other tools' files.
pub fn parse_task(bytes: &[u8]) -> Result<RawTask, ParseError> {
    let value = json::parse_document(bytes)?;
    let Value::Object(task) = &value else {
        return Err(ParseError::NotATask {
            reason: format!("the file holds {}, not an object", json::kind_of(&value)),
        });
    };
    let Some(subject) = json::text(task.get("subject")) else {
        return Err(ParseError::NotATask {
            reason: "no non-empty string `subject`".to_string(),
        });
    };
    let (status, unknown_status) = json::status(task.get("status"));
    Ok(RawTask {
        id: json::id_text(task.get("id")),
        subject,
        description: json::text(task.get("description")),
        active_form: json::text(task.get("activeForm")),
        status,
        unknown_status,
        owner: json::text(task.get("owner")),
        blocks: json::id_list(task.get("blocks")),
        blocked_by: json::id_list(task.get("blockedBy")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_task() {
        let task = parse_task(
            br#"{"id":"3","subject":"Write the parser","description":"All shapes",
                 "activeForm":"Writing the parser","status":"in_progress",
                 "blocks":["4",5],"blockedBy":["1"],"owner":"agent-a","extra":true}"#,
        )
        .unwrap();
        assert_eq!(
            task,
            RawTask {
                id: Some("3".into()),
                subject: "Write the parser".into(),
                description: Some("All shapes".into()),
                active_form: Some("Writing the parser".into()),
                status: Status::InProgress,
                unknown_status: false,
                owner: Some("agent-a".into()),
                blocks: vec!["4".into(), "5".into()],
                blocked_by: vec!["1".into()],
            }
        );
    }

    #[test]
    fn minimal_task_and_numeric_id() {
        let task = parse_task(br#"{"id":12,"subject":"x","status":"deleted"}"#).unwrap();
        assert_eq!(task.id.as_deref(), Some("12"));
        assert_eq!(task.status, Status::Deleted);
        assert!(task.blocks.is_empty() && task.blocked_by.is_empty());
        assert_eq!(
            (task.description, task.active_form, task.owner),
            (None, None, None)
        );
    }

    #[test]
    fn unknown_or_missing_status_is_pending() {
        for bytes in [
            &br#"{"subject":"x","status":"blocked"}"#[..],
            br#"{"subject":"x"}"#,
            br#"{"subject":"x","status":null}"#,
        ] {
            let task = parse_task(bytes).unwrap();
            assert_eq!(task.status, Status::Pending);
            assert!(task.unknown_status);
        }
    }

    #[test]
    fn not_task_shaped() {
        for bytes in [
            &b"[]"[..],
            br#""x""#,
            br#"{"content":"a todo, not a task"}"#,
            br#"{"subject":""}"#,
            br#"{"subject":7}"#,
        ] {
            assert!(
                matches!(parse_task(bytes), Err(ParseError::NotATask { .. })),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(parse_task(b""), Err(ParseError::Empty));
        assert!(matches!(
            parse_task(b"{\"subject\":"),
            Err(ParseError::Json { .. })
        ));
    }
}
