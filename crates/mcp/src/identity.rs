//! Who calls: the session of the agent that started this server
//! (docs/MCP.md, "Which session writes").
//!
//! An agent starts an MCP server once per session, in the session's folder,
//! and tells it what it chooses to: Claude Code (since 2.1.154) puts the
//! session's id in `CLAUDE_CODE_SESSION_ID`; the other agents give nothing
//! that names their session, only their MCP client name in `initialize`.
//! `CHITTYSYNC_SESSION`, set in an agent's MCP config, names the session for
//! any agent. Where nothing does, the observer is `mcp:<client>:<cwd>` — one
//! observer per agent and folder — and every answer says so: never a guess.

use chittysync_core::Timestamp;
use chittysync_engine::McpCaller;
use serde::Serialize;
use std::path::PathBuf;

/// The variable any agent's MCP config may set to name the session.
pub const SESSION_VAR: &str = "CHITTYSYNC_SESSION";
/// The variable Claude Code sets for the MCP servers it starts.
pub const CLAUDE_SESSION_VAR: &str = "CLAUDE_CODE_SESSION_ID";

/// What the server learnt of its caller when it started.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The session named by the environment, and the variable that named it.
    pub session: Option<(String, &'static str)>,
    /// The server's folder: the session's.
    pub cwd: PathBuf,
}

/// How an answer names its caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    /// The session the caller's words are recorded for (also its observer).
    pub session: String,
    /// What named it: `CHITTYSYNC_SESSION`, `CLAUDE_CODE_SESSION_ID`, or
    /// `none` when the session could not be told.
    pub identified_by: &'static str,
    pub cwd: String,
    /// Said when the session is not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Identity {
    /// From this process's environment and folder.
    pub fn from_env(cwd: PathBuf) -> Identity {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|v| (v, name))
        };
        Identity {
            session: var(SESSION_VAR).or_else(|| var(CLAUDE_SESSION_VAR)),
            cwd,
        }
    }

    /// The caller, given the client name the agent sent in `initialize`.
    pub fn caller(&self, client: Option<&str>) -> Caller {
        let cwd = self.cwd.display().to_string();
        match &self.session {
            Some((session, var)) => Caller {
                session: session.clone(),
                identified_by: var,
                cwd,
                note: None,
            },
            None => {
                let client = client_label(client);
                Caller {
                    session: format!("mcp:{client}:{cwd}"),
                    identified_by: "none",
                    note: Some(format!(
                        "the agent did not say which session this is (no {CLAUDE_SESSION_VAR} \
                         or {SESSION_VAR} in the server's environment), so this is recorded \
                         as the observer `mcp:{client}:{cwd}`: every session of client \
                         `{client}` in this folder shares it"
                    )),
                    cwd,
                }
            }
        }
    }
}

impl Caller {
    /// The caller as the engine records its writes; `stale_after_ms` decides
    /// which sessions a collision counts (docs/COLLISIONS.md).
    pub fn engine_caller(&self, now: Timestamp, stale_after_ms: i64) -> McpCaller {
        McpCaller {
            session: self.session.clone(),
            cwd: Some(self.cwd.clone()),
            now,
            stale_after: std::time::Duration::from_millis(stale_after_ms.max(0) as u64),
        }
    }
}

/// The client's name as an observer id may hold it: `unknown` when not
/// given, control characters and `:` replaced, at most 64 characters.
fn client_label(client: Option<&str>) -> String {
    let name: String = client
        .unwrap_or("")
        .trim()
        .chars()
        .map(|c| if c.is_control() || c == ':' { '_' } else { c })
        .take(64)
        .collect();
    if name.is_empty() {
        "unknown".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_sessions_are_named_by_client_and_folder_and_say_so() {
        let identity = Identity {
            session: None,
            cwd: PathBuf::from("/work/api"),
        };
        let caller = identity.caller(Some("codex-mcp-client"));
        assert_eq!(caller.session, "mcp:codex-mcp-client:/work/api");
        assert_eq!(caller.identified_by, "none");
        assert!(caller.note.unwrap().contains("did not say which session"));
        assert_eq!(identity.caller(None).session, "mcp:unknown:/work/api");
        assert_eq!(identity.caller(Some("a:b\n")).session, "mcp:a_b:/work/api");
    }

    #[test]
    fn a_named_session_is_used_as_is() {
        let identity = Identity {
            session: Some(("5e55a0b1".into(), CLAUDE_SESSION_VAR)),
            cwd: PathBuf::from("/w"),
        };
        let caller = identity.caller(Some("claude-code"));
        assert_eq!(caller.session, "5e55a0b1");
        assert_eq!(caller.identified_by, CLAUDE_SESSION_VAR);
        assert_eq!(caller.note, None);
    }
}
