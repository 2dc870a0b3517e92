//! The MCP tools (docs/MCP.md): their schemas and descriptions, what their
//! arguments may be, and what they answer (docs/MCP.md, "Tools").
//!
//! Every answer is the same JSON as the CLI's `--json` of the same view
//! (built by `chittysync_engine::views`), wrapped in an object that says for
//! which project and which caller. Arguments are checked here, strictly: a
//! wrong one is refused whole with a message naming it, never half-used.

use crate::identity::Caller;
use chittysync_core::{Status, Timestamp};
use chittysync_engine::views::{self, StatusSet, TodoFilter};
use chittysync_engine::{Engine, TodoRef, UpdateError};
use chittysync_sources::RawTodo;
use serde_json::{json, Map, Value};

/// What a caller did wrong, or what went wrong: told to the agent as a tool
/// error it can act on.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// An argument that is missing, of the wrong type or out of bounds.
    #[error("argument `{field}`: {problem}")]
    Argument { field: String, problem: String },
    /// The arguments are well-formed but name nothing (an unknown todo…).
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    Engine(#[from] chittysync_engine::EngineError),
    #[error(transparent)]
    Store(#[from] chittysync_engine::StoreError),
}

fn bad(field: impl Into<String>, problem: impl Into<String>) -> ToolError {
    ToolError::Argument {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The most items one `plan_write` takes: far more than any real plan.
pub const MAX_ITEMS: usize = 1000;
/// The longest content or active form, in bytes: a todo is a line, not a file.
pub const MAX_TEXT_BYTES: usize = 4096;
/// `project` value that asks for every project.
pub const ALL_PROJECTS: &str = "*";

/// One tool: its name, what an agent reads to decide to call it, and the
/// JSON schema of its arguments.
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: Value,
    pub read_only: bool,
}

fn status_schema(extra: &[&str]) -> Value {
    let mut words = vec!["pending", "in_progress", "completed", "deleted"];
    words.extend_from_slice(extra);
    json!({"type": "string", "enum": words})
}

fn project_schema() -> Value {
    json!({"type": "string", "description": "A project name; default: the project of the folder the agent started this server in. `*` for every project."})
}

/// Every tool this server offers, in the order listed.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "plan_list",
            description: "List the shared plan: the todos of every session and every agent \
                working on this project, deduplicated, with their status (pending, in_progress, \
                completed), the sessions and agents that hold them, and when they were started \
                and finished. Call it before planning, to see what others already do.",
            schema: json!({
                "type": "object",
                "properties": {
                    "project": project_schema(),
                    "status": {
                        "description": "Only todos in this status; `open` is pending and in_progress. Default: every status but deleted.",
                        "type": "string",
                        "enum": ["pending", "in_progress", "completed", "deleted", "open"]
                    },
                    "session": {"type": "string", "description": "Only todos this session holds: its id or a prefix of 4+ characters."},
                    "agent": {"type": "string", "description": "Only todos this agent holds: claude, codex, gemini, qwen, opencode or mcp."}
                },
                "additionalProperties": false
            }),
            read_only: true,
        },
        ToolSpec {
            name: "plan_write",
            description: "Record your whole current plan, as a TodoWrite tool would: every item \
                you are tracking, each with its status. Call it whenever your plan changes (a \
                todo added, started or finished). Items you leave out keep their last status. \
                Other sessions see the plan at once.",
            schema: json!({
                "type": "object",
                "properties": {
                    "todos": {
                        "type": "array",
                        "maxItems": MAX_ITEMS,
                        "items": {
                            "type": "object",
                            "properties": {
                                "content": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_BYTES, "description": "What to do, imperative: `Run the tests`."},
                                "status": {"type": "string", "enum": ["pending", "in_progress", "completed", "deleted"]},
                                "activeForm": {"type": "string", "maxLength": MAX_TEXT_BYTES, "description": "The same while being done: `Running the tests`."}
                            },
                            "required": ["content", "status"],
                            "additionalProperties": false
                        }
                    }
                },
                "required": ["todos"],
                "additionalProperties": false
            }),
            read_only: false,
        },
        ToolSpec {
            name: "plan_update",
            description: "Change one todo's status: by `id` (from plan_list) or by `content`. A \
                content not yet in this project's plan is added. Use it to take a todo \
                (in_progress), finish it (completed) or drop it (deleted). If another session \
                disagrees, the answer shows the conflict with both sides.",
            schema: json!({
                "type": "object",
                "properties": {
                    "id": {"type": "string", "minLength": 4, "description": "The todo's id, or a prefix of it of 4+ characters."},
                    "content": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_BYTES, "description": "The todo's content (compared case- and space-insensitively)."},
                    "status": status_schema(&[]),
                    "activeForm": {"type": "string", "maxLength": MAX_TEXT_BYTES}
                },
                "required": ["status"],
                "additionalProperties": false
            }),
            read_only: false,
        },
        ToolSpec {
            name: "sessions",
            description: "Who else works on this project: each session's agent, device, folder, \
                last activity, state (active, stale, ended) and the todos it has in progress. \
                Call it to avoid doing what another session is already doing.",
            schema: json!({
                "type": "object",
                "properties": {
                    "project": project_schema(),
                    "state": {"type": "string", "enum": ["active", "stale", "ended", "all"], "description": "Default: active."}
                },
                "additionalProperties": false
            }),
            read_only: true,
        },
        ToolSpec {
            name: "conflicts",
            description: "Todos whose sessions disagree on the status, with every side (session, \
                status, time) and how it was resolved (completed wins over in_progress over \
                pending over deleted).",
            schema: json!({
                "type": "object",
                "properties": {"project": project_schema()},
                "additionalProperties": false
            }),
            read_only: true,
        },
        ToolSpec {
            name: "history",
            description: "Every observation of a todo, oldest first: which session and agent \
                saw it in which status, when, from which source.",
            schema: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "minLength": 1, "description": "A todo id (or prefix) or part of its content."}
                },
                "required": ["query"],
                "additionalProperties": false
            }),
            read_only: true,
        },
    ]
}

/// What a call needs besides its arguments.
pub struct CallEnv<'a> {
    pub caller: &'a Caller,
    /// The project of the server's folder: the default of every view.
    pub project: &'a str,
    pub stale_after_ms: i64,
    pub now: Timestamp,
}

/// Runs one tool. `None`: no tool has this name.
pub fn call(
    engine: &mut Engine,
    env: &CallEnv<'_>,
    name: &str,
    args: &Map<String, Value>,
) -> Option<Result<Value, ToolError>> {
    let spec = specs().into_iter().find(|s| s.name == name)?;
    Some(check_known(&spec, args).and_then(|()| match name {
        "plan_list" => plan_list(engine, env, args),
        "plan_write" => plan_write(engine, env, args),
        "plan_update" => plan_update(engine, env, args),
        "sessions" => sessions(engine, env, args),
        "conflicts" => conflicts(engine, env, args),
        "history" => history(engine, args),
        _ => unreachable!("every spec has a handler"),
    }))
}

/// Refuses arguments the schema does not name (a typo would be ignored).
fn check_known(spec: &ToolSpec, args: &Map<String, Value>) -> Result<(), ToolError> {
    let known = spec.schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for key in args.keys() {
        if !known.contains(key) {
            let key: String = key.chars().take(64).collect();
            return Err(bad(
                key,
                format!(
                    "not an argument of {} (its arguments: {})",
                    spec.name,
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An optional string argument; `field` names it in errors.
fn opt_str<'a>(
    args: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.len() > MAX_TEXT_BYTES {
                return Err(bad(
                    field,
                    format!("{} bytes long; at most {MAX_TEXT_BYTES}", s.len()),
                ));
            }
            Ok(Some(s.as_str()))
        }
        Some(other) => Err(bad(
            field,
            format!("must be a string, not {}", type_name(other)),
        )),
    }
}

fn status_arg(value: &str, field: &str) -> Result<Status, ToolError> {
    Status::parse(value).ok_or_else(|| {
        bad(
            field,
            format!(
                "unknown status `{}` (expected pending, in_progress, completed or deleted)",
                value.chars().take(64).collect::<String>()
            ),
        )
    })
}

/// The project a view is about: the argument, else the server folder's.
fn project_arg(args: &Map<String, Value>, env: &CallEnv<'_>) -> Result<Option<String>, ToolError> {
    Ok(match opt_str(args, "project", "project")? {
        Some(ALL_PROJECTS) => None,
        Some(p) if p.trim().is_empty() => return Err(bad("project", "is empty")),
        Some(p) => Some(p.to_string()),
        None => Some(env.project.to_string()),
    })
}

fn plan_list(
    engine: &mut Engine,
    env: &CallEnv<'_>,
    args: &Map<String, Value>,
) -> Result<Value, ToolError> {
    let project = project_arg(args, env)?;
    let status = match opt_str(args, "status", "status")? {
        None => None,
        Some("open") => Some(StatusSet::Open),
        Some(word) => Some(StatusSet::One(status_arg(word, "status")?)),
    };
    let filter = TodoFilter {
        project: project.clone(),
        status,
        session: opt_str(args, "session", "session")?.map(str::to_string),
        agent: opt_str(args, "agent", "agent")?.map(str::to_string),
    };
    let todos = views::todo_entries(engine.reader(), &filter)?;
    Ok(json!({
        "project": project.as_deref().unwrap_or(ALL_PROJECTS),
        "count": todos.len(),
        "todos": todos,
    }))
}

/// The items of a `plan_write`, each checked.
fn plan_items(args: &Map<String, Value>) -> Result<Vec<RawTodo>, ToolError> {
    let items = match args.get("todos") {
        None => return Err(bad("todos", "missing: give the whole list, `[]` for none")),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(bad(
                "todos",
                format!("must be an array of todos, not {}", type_name(other)),
            ))
        }
    };
    if items.len() > MAX_ITEMS {
        return Err(bad(
            "todos",
            format!("{} items; at most {MAX_ITEMS}", items.len()),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(bad(
                format!("todos[{i}]"),
                format!(
                    "must be an object {{content, status, activeForm?}}, not {}",
                    type_name(item)
                ),
            ));
        };
        for key in item.keys() {
            if !["content", "status", "activeForm"].contains(&key.as_str()) {
                let key: String = key.chars().take(64).collect();
                return Err(bad(
                    format!("todos[{i}].{key}"),
                    "not a field of a todo (its fields: content, status, activeForm)",
                ));
            }
        }
        let content = opt_str(item, "content", &format!("todos[{i}].content"))?
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| bad(format!("todos[{i}].content"), "missing or empty"))?;
        let status = opt_str(item, "status", &format!("todos[{i}].status"))?
            .ok_or_else(|| bad(format!("todos[{i}].status"), "missing"))?;
        out.push(RawTodo {
            content: content.to_string(),
            active_form: opt_str(item, "activeForm", &format!("todos[{i}].activeForm"))?
                .filter(|a| !a.trim().is_empty())
                .map(str::to_string),
            status: status_arg(status, &format!("todos[{i}].status"))?,
        });
    }
    Ok(out)
}

fn plan_write(
    engine: &mut Engine,
    env: &CallEnv<'_>,
    args: &Map<String, Value>,
) -> Result<Value, ToolError> {
    let items = plan_items(args)?;
    let written = engine.record_plan(
        &env.caller.engine_caller(env.now, env.stale_after_ms),
        &items,
    )?;
    let filter = TodoFilter {
        project: Some(written.project.clone()),
        session: Some(env.caller.session.clone()),
        ..TodoFilter::default()
    };
    let mine: Vec<_> = views::todo_entries(engine.reader(), &filter)?
        .into_iter()
        .filter(|t| t.sessions.contains(&env.caller.session))
        .collect();
    Ok(json!({
        "caller": env.caller,
        "project": written.project,
        "written": items.len(),
        "new_observations": written.observations,
        "todos": mine,
        "collisions": written.warned.collisions,
        "warning": written.warned.warning,
    }))
}

fn plan_update(
    engine: &mut Engine,
    env: &CallEnv<'_>,
    args: &Map<String, Value>,
) -> Result<Value, ToolError> {
    let target = match (
        opt_str(args, "id", "id")?,
        opt_str(args, "content", "content")?,
    ) {
        (Some(id), None) => TodoRef::Id(id.to_string()),
        (None, Some(content)) if !content.trim().is_empty() => {
            TodoRef::Content(content.to_string())
        }
        (None, Some(_)) => return Err(bad("content", "is empty")),
        (Some(_), Some(_)) => return Err(bad("id", "give `id` or `content`, not both")),
        (None, None) => return Err(bad("id", "missing: give the todo's `id` or its `content`")),
    };
    let status = opt_str(args, "status", "status")?.ok_or_else(|| bad("status", "missing"))?;
    let status = status_arg(status, "status")?;
    let active_form = opt_str(args, "activeForm", "activeForm")?
        .filter(|a| !a.trim().is_empty())
        .map(str::to_string);
    let updated = engine.update_todo(
        &env.caller.engine_caller(env.now, env.stale_after_ms),
        &target,
        status,
        active_form,
    )?;
    Ok(json!({
        "caller": env.caller,
        "added": updated.added,
        "new_observations": updated.observations,
        "todo": updated.todo,
        "conflict": updated.conflict,
        "collisions": updated.warned.collisions,
        "warning": updated.warned.warning,
    }))
}

fn sessions(
    engine: &mut Engine,
    env: &CallEnv<'_>,
    args: &Map<String, Value>,
) -> Result<Value, ToolError> {
    let project = project_arg(args, env)?;
    let state = opt_str(args, "state", "state")?.unwrap_or("active");
    let wanted = match state {
        "all" => None,
        "active" => Some(views::SessionState::Active),
        "stale" => Some(views::SessionState::Stale),
        "ended" => Some(views::SessionState::Ended),
        other => {
            return Err(bad(
                "state",
                format!(
                    "unknown state `{}` (expected active, stale, ended or all)",
                    other.chars().take(64).collect::<String>()
                ),
            ))
        }
    };
    // One project's sessions and todos only (docs/BENCHMARKS.md, "MCP server").
    let all = views::sessions_at_work(
        engine.reader(),
        project.as_deref(),
        env.now,
        env.stale_after_ms,
    )?;
    let mut out = Vec::new();
    for (view, working_on) in all {
        if wanted.is_some_and(|w| w != view.state) {
            continue;
        }
        let mut value = serde_json::to_value(&view).map_err(|e| {
            ToolError::NotFound(format!("cannot show session {}: {e}", view.session.id))
        })?;
        value["working_on"] = json!(working_on);
        value["you"] = json!(view.session.id == env.caller.session);
        out.push(value);
    }
    Ok(json!({
        "project": project.as_deref().unwrap_or(ALL_PROJECTS),
        "state": state,
        "caller": env.caller,
        "sessions": out,
    }))
}

fn conflicts(
    engine: &mut Engine,
    env: &CallEnv<'_>,
    args: &Map<String, Value>,
) -> Result<Value, ToolError> {
    let project = project_arg(args, env)?;
    let list = views::project_conflicts(engine.reader(), project.as_deref())?;
    Ok(json!({
        "project": project.as_deref().unwrap_or(ALL_PROJECTS),
        "count": list.len(),
        "conflicts": list,
    }))
}

fn history(engine: &mut Engine, args: &Map<String, Value>) -> Result<Value, ToolError> {
    let query = opt_str(args, "query", "query")?
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| bad("query", "missing or empty"))?;
    let histories = views::histories(engine.reader(), query)?;
    if histories.is_empty() {
        return Err(ToolError::NotFound(format!(
            "no todo has an id or content matching `{}`",
            query.chars().take(200).collect::<String>()
        )));
    }
    Ok(json!({"histories": histories}))
}
