//! Claude Code's plan tools as called: the input of a `TodoWrite`,
//! `TaskCreate`, `TaskUpdate` or `TaskDelete` call, which a transcript's
//! `tool_use` item and a hook's `tool_input` carry alike. This is the one
//! reader of that input (docs/SOURCES.md, "Claude Code").

use crate::loose::{fields, FromValue, Id, Kept, List, Text};
use crate::todo_file::{todo_list, TodoEntry, TodoList};
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
    /// reads as pending with `unknown_status` set (docs/SOURCES.md, "Claude Code").
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
    read_input(name, &Input::from_value(Some(input)))
}

/// The fields of a plan tool's input, of whichever tool (a transcript's
/// `input` may come before the `name` that tells the tool).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Input<'a> {
    /// `todos` (`TodoWrite`) when it is an array.
    todos: List<TodoEntry<'a>>,
    subject: Text<'a>,
    description: Text<'a>,
    active_form: Text<'a>,
    task_id: Id<'a>,
    /// `status` (`TaskUpdate`).
    pub(super) status: Kept<'a>,
}

fields!(Input {
    "todos" => todos,
    "subject" => subject,
    "description" => description,
    "activeForm" => active_form,
    "taskId" => task_id,
    "status" => status,
});

/// [`read_tool_call`] of an input read either way.
pub(super) fn read_input(name: &str, input: &Input<'_>) -> Option<Result<ToolCall, String>> {
    Some(match name {
        "TodoWrite" => match &input.todos.0 {
            Some(entries) => Ok(ToolCall::TodoWrite(todo_list(entries))),
            // e.g. `todos` sent as a JSON-encoded string.
            None => Err("TodoWrite call without a list in `todos`".to_string()),
        },
        "TaskCreate" => match input.subject.non_blank() {
            Some(subject) => Ok(ToolCall::TaskCreate {
                subject,
                description: input.description.non_blank(),
                active_form: input.active_form.non_blank(),
            }),
            None => Err("TaskCreate call without a non-empty `subject`".to_string()),
        },
        "TaskUpdate" | "TaskDelete" => {
            let Some(task_id) = input.task_id.text() else {
                return Some(Err(format!("{name} call without a `taskId`")));
            };
            if name == "TaskDelete" {
                Ok(ToolCall::TaskDelete { task_id })
            } else {
                let (status, unknown_status) = match &input.status {
                    Kept::Absent => (None, false),
                    value => match value.as_str().and_then(Status::parse) {
                        Some(status) => (Some(status), false),
                        None => (Some(Status::Pending), true),
                    },
                };
                Ok(ToolCall::TaskUpdate {
                    task_id,
                    status,
                    unknown_status,
                    subject: input.subject.non_blank(),
                    active_form: input.active_form.non_blank(),
                })
            }
        }
        _ => return None,
    })
}
