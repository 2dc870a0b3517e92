//! Which agent an observer or a session belongs to (docs/SOURCES.md).
//!
//! Claude Code's observers and sessions are named as Claude Code names them
//! (a session id, `<session>/<sub-agent>`, `task:<list>/<id>`); every other
//! agent's are namespaced by the agent (`codex:<session>`), so the agent of
//! any observer is read from its name alone — the same answer for the CLI,
//! the outputs, the hub and the dashboard.

/// The agent whose sessions are not namespaced.
pub const CLAUDE: &str = "claude";

/// The agents whose observers and sessions carry their name as a prefix.
pub const NAMESPACED: [&str; 4] = ["codex", "gemini", "qwen", "opencode"];

/// The id of an agent's session (or observer) as chittysync names it:
/// `codex:<id>` for other agents, the id itself for Claude Code.
pub fn namespaced(agent: &str, id: &str) -> String {
    if agent == CLAUDE {
        id.to_string()
    } else {
        format!("{agent}:{id}")
    }
}

/// The agent of an observer or session id.
pub fn agent_of(id: &str) -> &'static str {
    match id.split_once(':') {
        Some((prefix, _)) => match NAMESPACED.iter().find(|a| **a == prefix) {
            Some(agent) => agent,
            None if prefix == "mcp" => "mcp",
            None => CLAUDE,
        },
        _ => CLAUDE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_read_from_names() {
        assert_eq!(agent_of("5e55a0b1-0000-4000-8000-000000000001"), "claude");
        assert_eq!(agent_of("s1/a3f9c21"), "claude");
        assert_eq!(agent_of("task:release-train/3"), "claude");
        assert_eq!(agent_of("codex:0199a213-81c0"), "codex");
        assert_eq!(agent_of("opencode:ses_1"), "opencode");
        assert_eq!(agent_of("mcp:claude-code:/tmp"), "mcp");
        assert_eq!(agent_of("unknown:x"), "claude");
        assert_eq!(namespaced("gemini", "abc"), "gemini:abc");
        assert_eq!(namespaced("claude", "abc"), "abc");
    }
}
