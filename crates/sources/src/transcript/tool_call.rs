//! Claude Code's plan tools as called: the input of a `TodoWrite`,
//! `TaskCreate`, `TaskUpdate` or `TaskDelete` call, which a transcript's
//! `tool_use` item and a hook's `tool_input` carry alike. This is the one
//! reader of that input (docs/SOURCES.md, "Claude Code").

use crate::json;
use crate::todo_file::{todos_from_entries, TodoList};
use chittysync_core::Status;
use serde_json::Value;

/// One plan tool call, read from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolCall {
    /// The agent's whole list at that moment.
    TodoWrite(TodoList),
    /// A new task; its id is in the call's result, not its input.
    TaskCreate {
        subject: String,
        description: Option<String>,
        active_form: Option<String>,
    },
    /// `status` is None when the call did not change it; an unknown status
    /// reads as pending with `unknown_status` set (SPEC §3).
    TaskUpdate {
        task_id: String,
        status: Option<Status>,
        unknown_status: bool,
        subject: Option<String>,
        active_form: Option<String>,
    },
    TaskDelete {
        task_id: String,
    },
}

/// Whether a tool is one of Claude Code's plan tools.
pub fn is_plan_tool(name: &str) -> bool {
    matches!(
        name,
        "TodoWrite" | "TaskCreate" | "TaskUpdate" | "TaskDelete"
    )
}

/// Reads the input of a call of the tool `name`: None for a tool that is not
/// a plan tool, `Err` with the problem for a malformed call (Claude Code
/// rejects such calls, so they changed nothing).
pub fn read_tool_call(name: &str, input: &Value) -> Option<Result<ToolCall, String>> {
    Some(match name {
        "TodoWrite" => match input.get("todos") {
            Some(Value::Array(entries)) => Ok(ToolCall::TodoWrite(todos_from_entries(entries))),
            // e.g. `todos` sent as a JSON-encoded string.
            _ => Err("TodoWrite call without a list in `todos`".to_string()),
        },
        "TaskCreate" => match json::text(input.get("subject")) {
            Some(subject) => Ok(ToolCall::TaskCreate {
                subject,
                description: json::text(input.get("description")),
                active_form: json::text(input.get("activeForm")),
            }),
            None => Err("TaskCreate call without a non-empty `subject`".to_string()),
        },
        "TaskUpdate" | "TaskDelete" => {
            let Some(task_id) = json::id_text(input.get("taskId")) else {
                return Some(Err(format!("{name} call without a `taskId`")));
            };
            if name == "TaskDelete" {
                Ok(ToolCall::TaskDelete { task_id })
            } else {
                let (status, unknown_status) = match input.get("status") {
                    None | Some(Value::Null) => (None, false),
                    Some(value) => match value.as_str().and_then(Status::parse) {
                        Some(status) => (Some(status), false),
                        None => (Some(Status::Pending), true),
                    },
                };
                Ok(ToolCall::TaskUpdate {
                    task_id,
                    status,
                    unknown_status,
                    subject: json::text(input.get("subject")),
                    active_form: json::text(input.get("activeForm")),
                })
            }
        }
        _ => return None,
    })
}
