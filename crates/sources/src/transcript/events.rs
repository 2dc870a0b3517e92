//! Plan events from one parsed transcript line.
//!
//! Only two kinds of line can carry them: an `assistant` line whose
//! `message.content` holds `tool_use` items (one line may hold several), and a
//! `user` line holding a `tool_result` with a `toolUseResult.task` (a created
//! task's id). Every other kind — `progress` lines of 2.x, which embed a
//! sub-agent's messages, `summary`, `system`, `queue-operation`,
//! `file-history-snapshot` — is never read as a plan, even if it contains
//! the same names: a sub-agent's calls are read from its own transcript.

use super::line::{Item, Line};
use super::tool_call::{is_plan_tool, read_input, ToolCall};
use super::TranscriptEvent;
use chittysync_core::Timestamp;

/// A malformed plan call, told as a warning on its line.
pub(super) struct Problem(pub(super) String);

/// Appends the events of `line` (number `number`) to `out`.
pub(super) fn read_line(
    line: &Line<'_>,
    number: u64,
    file_agent: Option<&str>,
    out: &mut Vec<TranscriptEvent>,
    problems: &mut Vec<Problem>,
) {
    let items = line.message.content.items();
    let at = line.timestamp.as_str().and_then(Timestamp::parse_rfc3339);
    match line.kind.as_str() {
        Some("assistant") => {
            let call = Call {
                number,
                at,
                agent: agent_of(line, file_agent),
            };
            for item in items {
                if item.kind.as_str() == Some("tool_use") {
                    call.read(item, out, problems);
                }
            }
        }
        Some("user") => task_created(line, items, number, at, out, problems),
        _ => {}
    }
}

/// Whose call a line's is (see [`TranscriptEvent`]).
fn agent_of(line: &Line<'_>, file_agent: Option<&str>) -> Option<String> {
    let line_agent = line.agent_id.as_str();
    if let Some(agent) = line_agent.filter(|a| !a.is_empty()) {
        let session = line.session_id.as_str();
        return (Some(agent) != session).then(|| agent.to_string());
    }
    if let Some(agent) = file_agent {
        return Some(agent.to_string());
    }
    line.sidechain.0.then(|| "sidechain".to_string())
}

/// What the tool calls of one assistant line share.
struct Call {
    number: u64,
    at: Option<Timestamp>,
    agent: Option<String>,
}

impl Call {
    fn read(&self, item: &Item<'_>, out: &mut Vec<TranscriptEvent>, problems: &mut Vec<Problem>) {
        let Some(name) = item.name.as_str() else {
            return;
        };
        if !is_plan_tool(name) {
            return;
        }
        let Some(at) = self.at else {
            return problems.push(Problem(format!(
                "{name} call on a line without a valid `timestamp`; skipped"
            )));
        };
        let input = &item.input;
        let call = match read_input(name, input) {
            None => return,
            Some(Ok(call)) => call,
            Some(Err(problem)) => return problems.push(Problem(format!("{problem}; skipped"))),
        };
        let (line, agent) = (self.number, self.agent.clone());
        let event = match call {
            ToolCall::TodoWrite(list) => TranscriptEvent::TodoWrite {
                line,
                at,
                agent,
                todos: list.items,
                skipped_entries: list.skipped_entries,
                unknown_statuses: list.unknown_statuses,
            },
            ToolCall::TaskCreate {
                subject,
                description,
                active_form,
            } => {
                let Some(tool_use_id) = item.id.non_blank() else {
                    return problems.push(Problem(
                        "TaskCreate call without an `id`; skipped".to_string(),
                    ));
                };
                TranscriptEvent::TaskCreate {
                    line,
                    at,
                    agent,
                    tool_use_id,
                    subject,
                    description,
                    active_form,
                }
            }
            ToolCall::TaskDelete { task_id } => TranscriptEvent::TaskDelete {
                line,
                at,
                agent,
                task_id,
            },
            ToolCall::TaskUpdate {
                task_id,
                status,
                unknown_status,
                subject,
                active_form,
            } => {
                if unknown_status {
                    problems.push(Problem(format!(
                        "TaskUpdate of task {task_id}: unknown status {}, read as pending",
                        input.status
                    )));
                }
                TranscriptEvent::TaskUpdate {
                    line,
                    at,
                    agent,
                    task_id,
                    status,
                    subject,
                    active_form,
                }
            }
        };
        out.push(event);
    }
}

/// The result of a `TaskCreate`: `toolUseResult.task.id` names the new task,
/// and the line's `tool_result` item names the call.
fn task_created(
    line: &Line<'_>,
    items: &[Item<'_>],
    number: u64,
    at: Option<Timestamp>,
    out: &mut Vec<TranscriptEvent>,
    problems: &mut Vec<Problem>,
) {
    let Some(task_id) = line.task_id().text() else {
        return;
    };
    let tool_use_id = items
        .iter()
        .filter(|item| item.kind.as_str() == Some("tool_result"))
        .find_map(|item| item.tool_use_id.non_blank());
    let Some(tool_use_id) = tool_use_id else {
        return problems.push(Problem(format!(
            "result for task {task_id} without a `tool_use_id`; skipped"
        )));
    };
    let Some(at) = at else {
        return problems.push(Problem(format!(
            "result for task {task_id} on a line without a valid `timestamp`; skipped"
        )));
    };
    out.push(TranscriptEvent::TaskCreated {
        line: number,
        at,
        tool_use_id,
        task_id,
    });
}
