//! The JSON Claude Code writes on a hook's stdin, and the plan call in it.

use super::HookError;
use chittysync_core::Status;
use chittysync_sources::{read_tool_call, TodoList, ToolCall};
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

    /// The plan tool call the payload reports, read by the same reader as a
    /// transcript's calls (`chittysync_sources::read_tool_call`); `None` for
    /// another tool, and for `TaskDelete` (its task's last `TaskUpdate`
    /// already said `deleted`; the transcript records the call).
    pub(crate) fn plan_call(&self) -> Result<Option<PlanCall>, HookError> {
        let Some(name) = self.tool_name.as_deref() else {
            return Ok(None);
        };
        let call = match read_tool_call(name, &self.tool_input) {
            None => return Ok(None),
            Some(Ok(call)) => call,
            Some(Err(problem)) => {
                return Err(HookError::Payload(format!("{problem} (`tool_input`)")))
            }
        };
        Ok(Some(match call {
            ToolCall::TodoWrite(list) => PlanCall::TodoWrite(list),
            ToolCall::TaskCreate {
                subject,
                active_form,
                ..
            } => PlanCall::TaskCreate {
                task_id: id(self.tool_response.pointer("/task/id")).ok_or_else(|| {
                    HookError::Payload("TaskCreate without `tool_response.task.id`".into())
                })?,
                subject,
                active_form,
            },
            ToolCall::TaskUpdate {
                task_id,
                status,
                unknown_status,
                subject,
                active_form,
            } => PlanCall::TaskUpdate {
                task_id,
                status: status.map(|status| StatusWord {
                    status,
                    known: !unknown_status,
                }),
                subject,
                active_form,
            },
            ToolCall::TaskDelete { .. } => return Ok(None),
        }))
    }
}

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

/// A status as a call gave it: unknown words read as pending (docs/SOURCES.md, "Claude Code"), and
/// are told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatusWord {
    pub status: Status,
    pub known: bool,
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
