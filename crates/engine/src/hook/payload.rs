//! The JSON Claude Code writes on a hook's stdin, and the plan call in it.

use super::HookError;
use chittysync_core::Status;
use chittysync_sources::{parse_todo_list, TodoList};
use serde::Deserialize;
use serde_json::Value;

/// A hook payload. Only what chittysync uses is read; every field but
/// `session_id` may be missing (events differ in what they carry).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HookInput {
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    /// `PostToolUse`: the tool, what it was given, what it answered.
    pub tool_name: Option<String>,
    pub tool_input: Value,
    pub tool_response: Value,
    /// `SessionStart`: `startup`, `resume`, `clear` or `compact`.
    pub source: Option<String>,
    /// `SessionEnd`: `clear`, `logout`, `prompt_input_exit`, `other`…
    pub reason: Option<String>,
    /// Set when the call comes from a sub-agent: its list is its own.
    pub agent_id: Option<String>,
}

impl HookInput {
    /// Parses a payload; what is not JSON of the right shape is refused whole.
    pub fn parse(bytes: &[u8]) -> Result<HookInput, HookError> {
        serde_json::from_slice(bytes).map_err(|e| HookError::Payload(e.to_string()))
    }

    pub(crate) fn session(&self) -> Result<&str, HookError> {
        self.session_id
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| HookError::Payload("no `session_id`".into()))
    }

    /// The plan call of a `PostToolUse` payload; None for other tools.
    pub(crate) fn plan_call(&self) -> Result<Option<PlanCall>, HookError> {
        let input = &self.tool_input;
        let call = match self.tool_name.as_deref() {
            Some("TodoWrite") => {
                let Some(todos @ Value::Array(_)) = input.get("todos") else {
                    return Err(HookError::Payload(
                        "TodoWrite without a list in `tool_input.todos`".into(),
                    ));
                };
                // The same reader as todo files and transcripts: every shape of
                // todo Claude Code has written.
                let bytes = serde_json::to_vec(todos).unwrap_or_default();
                let list =
                    parse_todo_list(&bytes).map_err(|e| HookError::Payload(e.to_string()))?;
                PlanCall::TodoWrite(list)
            }
            Some("TaskCreate") => PlanCall::TaskCreate {
                task_id: id(self.tool_response.pointer("/task/id")).ok_or_else(|| {
                    HookError::Payload("TaskCreate without `tool_response.task.id`".into())
                })?,
                subject: text(input.get("subject")).ok_or_else(|| {
                    HookError::Payload("TaskCreate without a `tool_input.subject`".into())
                })?,
                active_form: text(input.get("activeForm")),
            },
            Some("TaskUpdate") => PlanCall::TaskUpdate {
                task_id: id(input.get("taskId")).ok_or_else(|| {
                    HookError::Payload("TaskUpdate without a `tool_input.taskId`".into())
                })?,
                status: match input.get("status") {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(StatusWord::read(value)),
                },
                subject: text(input.get("subject")),
                active_form: text(input.get("activeForm")),
            },
            _ => return Ok(None),
        };
        Ok(Some(call))
    }
}

/// A plan tool call as a hook sees it: unlike a transcript, a created task's
/// id comes with the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlanCall {
    TodoWrite(TodoList),
    TaskCreate {
        task_id: String,
        subject: String,
        active_form: Option<String>,
    },
    TaskUpdate {
        task_id: String,
        status: Option<StatusWord>,
        subject: Option<String>,
        active_form: Option<String>,
    },
}

/// A status as a call gave it: unknown words read as pending (SPEC §3), and
/// are told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatusWord {
    pub status: Status,
    pub known: bool,
}

impl StatusWord {
    fn read(value: &Value) -> StatusWord {
        match value.as_str().and_then(Status::parse) {
            Some(status) => StatusWord {
                status,
                known: true,
            },
            None => StatusWord {
                status: Status::Pending,
                known: false,
            },
        }
    }
}

impl PlanCall {
    /// What in the call could not be used as given.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            PlanCall::TodoWrite(list) => {
                if list.skipped_entries > 0 {
                    problems.push(format!(
                        "TodoWrite: {} entries without a non-empty string `content` skipped",
                        list.skipped_entries
                    ));
                }
                if list.unknown_statuses > 0 {
                    problems.push(format!(
                        "TodoWrite: {} unknown statuses read as `pending`",
                        list.unknown_statuses
                    ));
                }
            }
            PlanCall::TaskUpdate {
                task_id,
                status: Some(StatusWord { known: false, .. }),
                ..
            } => problems.push(format!(
                "TaskUpdate of task {task_id}: unknown status read as `pending`"
            )),
            _ => {}
        }
        problems
    }
}

/// A string with some non-blank text.
fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// A task id, written as a string (`"3"`) or a number (`3`).
fn id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        other => text(Some(other)).map(|s| s.trim().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(tool: &str, tool_input: Value, tool_response: Value) -> HookInput {
        HookInput {
            session_id: Some("s1".into()),
            tool_name: Some(tool.into()),
            tool_input,
            tool_response,
            ..HookInput::default()
        }
    }

    #[test]
    fn reads_each_plan_tool() {
        let todo = input(
            "TodoWrite",
            json!({"todos": [{"content": "A", "status": "in_progress", "activeForm": "Doing A"},
                             {"status": "pending"}, {"content": "B", "status": "later"}]}),
            Value::Null,
        );
        let call = todo.plan_call().unwrap().unwrap();
        let PlanCall::TodoWrite(list) = &call else {
            panic!("{call:?}")
        };
        assert_eq!(list.items.len(), 2);
        assert_eq!(call.problems().len(), 2);

        let create = input(
            "TaskCreate",
            json!({"subject": "Ship it", "description": "d"}),
            json!({"task": {"id": 7, "subject": "Ship it"}}),
        );
        assert_eq!(
            create.plan_call().unwrap(),
            Some(PlanCall::TaskCreate {
                task_id: "7".into(),
                subject: "Ship it".into(),
                active_form: None
            })
        );

        let update = input(
            "TaskUpdate",
            json!({"taskId": "7", "status": "completed"}),
            Value::Null,
        );
        let Some(PlanCall::TaskUpdate { status, .. }) = update.plan_call().unwrap() else {
            panic!()
        };
        assert_eq!(status.map(|s| s.status), Some(Status::Completed));

        assert_eq!(
            input("Bash", json!({}), Value::Null).plan_call().unwrap(),
            None
        );
    }

    #[test]
    fn malformed_calls_are_payload_errors() {
        let no_list = input("TodoWrite", json!({"todos": "[]"}), Value::Null);
        assert!(matches!(no_list.plan_call(), Err(HookError::Payload(_))));
        let no_id = input("TaskCreate", json!({"subject": "x"}), json!({}));
        assert!(matches!(no_id.plan_call(), Err(HookError::Payload(_))));
        assert!(HookInput::parse(b"not json").is_err());
        assert!(HookInput::parse(b"{}").unwrap().session().is_err());
    }
}
