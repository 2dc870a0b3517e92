//! chittysync as a Model Context Protocol server (docs/MCP.md).
//!
//! An agent starts `chittysync mcp` in its session's folder and speaks MCP
//! to it over stdin and stdout (the official Rust SDK, `rmcp`): it lists the
//! shared plan of its project, records its own plan and changes a todo, as
//! the CLI's views and Claude Code's plan tools do. Everything goes through
//! the engine, the one door to the store: a write is an observation with
//! source `mcp`, folded like any other, and the outputs are refreshed at
//! once. Logs go to stderr only; stdout is the protocol's.

#![forbid(unsafe_code)]

mod identity;
mod server;
pub mod tools;

pub use identity::{Caller, Identity, CLAUDE_SESSION_VAR, SESSION_VAR};
pub use server::Server;

use chittysync_config::{Config, Locations};
use chittysync_engine::{Engine, EngineError};
use std::path::PathBuf;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("cannot open chittysync's home {}", home.display())]
    Open {
        home: PathBuf,
        #[source]
        source: EngineError,
    },
    #[error("cannot tell the server's folder")]
    Cwd(#[source] std::io::Error),
    #[error("cannot start the MCP runtime")]
    Runtime(#[source] std::io::Error),
    #[error("the MCP session with the agent failed to start")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Serves MCP on stdin/stdout until the agent closes stdin.
pub fn serve_stdio(locations: &Locations, config: &Config) -> Result<(), McpError> {
    let engine = Engine::open(locations, config).map_err(|source| McpError::Open {
        home: locations.home.clone(),
        source,
    })?;
    let cwd = std::env::current_dir().map_err(McpError::Cwd)?;
    let identity = Identity::from_env(cwd);
    let server = Server::new(
        engine,
        identity,
        config.sessions.stale_after.as_millis() as i64,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(McpError::Runtime)?;
    runtime.block_on(server.run_stdio())
}
