//! The MCP handler: `initialize`, `tools/list` and `tools/call` over rmcp's
//! stdio transport (docs/MCP.md).
//!
//! Tools are listed and dispatched by hand rather than through rmcp's
//! macros: their schemas are written out in `tools.rs`, so the arguments an
//! agent sends are checked by one function that names the bad field.

use crate::identity::Identity;
use crate::tools::{self, CallEnv, ToolError};
use crate::McpError;
use chittysync_core::Timestamp;
use chittysync_engine::Engine;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};

/// What the server tells the agent on `initialize`: when to use it.
const INSTRUCTIONS: &str = "chittysync holds one shared plan for every session and every \
coding agent working on this project. Call plan_list before planning to see what is already \
planned or in progress, sessions to see who works on what, and plan_write to record your own \
plan whenever it changes (plan_update for one todo). Other sessions see your plan at once.";

/// The server: one engine (the store's one door), shared by the calls.
#[derive(Clone)]
pub struct Server {
    engine: Arc<Mutex<Engine>>,
    identity: Arc<Identity>,
    /// The project of the server's folder: every view's default.
    project: Arc<String>,
    stale_after_ms: i64,
}

impl Server {
    pub fn new(engine: Engine, identity: Identity, stale_after_ms: i64) -> Server {
        let project = engine.project_of_cwd(&identity.cwd.display().to_string());
        Server {
            engine: Arc::new(Mutex::new(engine)),
            identity: Arc::new(identity),
            project: Arc::new(project),
            stale_after_ms,
        }
    }

    /// Serves on stdin/stdout until the agent closes stdin.
    pub async fn run_stdio(self) -> Result<(), McpError> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| McpError::Start(Box::new(e)))?;
        // Ends when the agent closes stdin (or goes away): not an error.
        match running.waiting().await {
            Ok(reason) => tracing::debug!(?reason, "MCP session ended"),
            Err(e) => tracing::warn!("MCP session ended abnormally: {e}"),
        }
        Ok(())
    }

    /// Runs one tool call; what the agent is told.
    fn call(&self, client: Option<&str>, name: &str, args: &Map<String, Value>) -> CallOutcome {
        let caller = self.identity.caller(client);
        let env = CallEnv {
            caller: &caller,
            project: &self.project,
            stale_after_ms: self.stale_after_ms,
            now: Timestamp::now(),
        };
        // A call that panicked left the engine as a transaction left it:
        // uncommitted work is rolled back, so the engine is still usable.
        let mut engine = match self.engine.lock() {
            Ok(engine) => engine,
            Err(poisoned) => poisoned.into_inner(),
        };
        match tools::call(&mut engine, &env, name, args) {
            None => CallOutcome::UnknownTool,
            Some(Ok(value)) => CallOutcome::Done(value),
            Some(Err(e)) => {
                if !matches!(e, ToolError::Argument { .. } | ToolError::NotFound(_)) {
                    tracing::warn!("tool {name} failed: {e}");
                }
                CallOutcome::Failed(error_text(&e))
            }
        }
    }
}

enum CallOutcome {
    Done(Value),
    Failed(String),
    UnknownTool,
}

/// An error with its causes, one after the other.
fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn tool_list() -> Vec<Tool> {
    tools::specs()
        .into_iter()
        .map(|spec| {
            let schema = match spec.schema {
                Value::Object(map) => map,
                _ => unreachable!("every schema is an object"),
            };
            let mut annotations = ToolAnnotations::default();
            annotations.read_only_hint = Some(spec.read_only);
            annotations.destructive_hint = Some(false);
            annotations.open_world_hint = Some(false);
            Tool::new(spec.name, spec.description, Arc::new(schema)).with_annotations(annotations)
        })
        .collect()
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("chittysync", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult {
            tools: tool_list(),
            ..ListToolsResult::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let client = context.peer.peer_info().map(|i| i.client_info.name.clone());
        let args = request.arguments.unwrap_or_default();
        match self.call(client.as_deref(), &request.name, &args) {
            CallOutcome::Done(value) => Ok(CallToolResult::structured(value).into()),
            CallOutcome::Failed(message) => {
                Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
            }
            CallOutcome::UnknownTool => {
                let names: Vec<&str> = tools::specs().iter().map(|s| s.name).collect();
                let name: String = request.name.chars().take(64).collect();
                Err(ErrorData::invalid_params(
                    format!("unknown tool `{name}`; the tools are {}", names.join(", ")),
                    None,
                ))
            }
        }
    }
}
