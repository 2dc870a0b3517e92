//! chittysync's hook entries in a settings value: which are ours, and the
//! next edit that installs or removes them. Edits are made one at a time on
//! the text and the value read again, until none is needed: installing twice
//! finds nothing to do.

use crate::cli::HookEvent;
use crate::settings::json_text::{JsonText, JsonTextError, Pointer, Step};
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::Path;

/// Claude Code's event, the `hook` argument handling it, and the tools matched.
pub const EVENTS: [(&str, HookEvent, Option<&str>); 3] = [
    ("SessionStart", HookEvent::SessionStart, None),
    (
        "PostToolUse",
        HookEvent::PostToolUse,
        Some("TodoWrite|TaskCreate|TaskUpdate"),
    ),
    ("SessionEnd", HookEvent::SessionEnd, None),
];

/// Ends every command chittysync installs: a shell comment, so Claude Code
/// (which runs the command with a shell) ignores it, and chittysync knows its
/// entries whatever its binary is called or wherever it lies.
pub const MARKER: &str = "# chittysync-hook";

/// Seconds Claude Code gives a hook before giving up on it. A hook takes
/// milliseconds; this only bounds a wait on a store locked for long.
const HOOK_TIMEOUT_SECS: u64 = 10;

/// One change to the settings text; values are JSON text, their members in
/// the order they are written.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// A new last member of the container: `Some(key)` in an object.
    Append(Pointer, Option<String>, String),
    Remove(Pointer),
    Replace(Pointer, String),
}

/// One hook entry, its keys in the order of Claude Code's documentation.
#[derive(Serialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: &'static str,
    command: String,
    timeout: u64,
}

/// A matcher group holding one entry.
#[derive(Serialize)]
struct Group {
    #[serde(skip_serializing_if = "Option::is_none")]
    matcher: Option<&'static str>,
    hooks: [Entry; 1],
}

/// A new `hooks` object: one group per event.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AllEvents {
    session_start: [Group; 1],
    post_tool_use: [Group; 1],
    session_end: [Group; 1],
}

fn text(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

impl Edit {
    pub fn apply(&self, doc: &mut JsonText) -> Result<(), JsonTextError> {
        match self {
            Edit::Append(at, key, value) => doc.append(at, key.as_deref(), value),
            Edit::Remove(at) => doc.remove(at),
            Edit::Replace(at, value) => doc.replace(at, value),
        }
    }
}

pub fn key(k: &str) -> Step {
    Step::Key(k.to_string())
}

/// The command running `hook <event>` with this prefix (`<exe> [--home H]`).
pub fn command(prefix: &str, event: HookEvent) -> String {
    format!("{prefix} hook {} {MARKER}", event.name())
}

/// Refuses settings whose shape chittysync would have to guess at.
pub fn check_shape(root: &Value) -> Result<(), String> {
    let Some(root) = root.as_object() else {
        return Err("it is not a JSON object".into());
    };
    for name in ["hooks", "env"] {
        if root.get(name).is_some_and(|v| !v.is_object()) {
            return Err(format!("`{name}` is not an object"));
        }
    }
    if let Some(Value::Object(hooks)) = root.get("hooks") {
        for (name, _, _) in EVENTS {
            if hooks.get(name).is_some_and(|v| !v.is_array()) {
                return Err(format!("`hooks.{name}` is not a list"));
            }
        }
    }
    Ok(())
}

/// The next edit toward one entry per event running `command(prefix, event)`;
/// `None` when all are in place. An entry of ours in a group of the right
/// matcher is kept and its command updated; others of ours are removed.
pub fn next_install(root: &Value, prefix: &str) -> Option<Edit> {
    let Some(hooks) = root.get("hooks").and_then(Value::as_object) else {
        let [start, post, end] = EVENTS.map(|(_, event, matcher)| [group(prefix, event, matcher)]);
        let all = AllEvents {
            session_start: start,
            post_tool_use: post,
            session_end: end,
        };
        return Some(Edit::Append(vec![], Some("hooks".into()), text(&all)));
    };
    for (name, event, matcher) in EVENTS {
        let Some(groups) = hooks.get(name).and_then(Value::as_array) else {
            let groups = text(&[group(prefix, event, matcher)]);
            return Some(Edit::Append(vec![key("hooks")], Some(name.into()), groups));
        };
        let own = own_entries(groups);
        let fits = |g: usize| groups[g].get("matcher").and_then(Value::as_str) == matcher;
        let keep = own.iter().copied().find(|&(g, _)| fits(g));
        if let Some(&(g, h)) = own.iter().find(|&&o| Some(o) != keep) {
            return Some(Edit::Remove(removal(root, name, g, h)));
        }
        let Some((g, h)) = keep else {
            let at = vec![key("hooks"), key(name)];
            return Some(Edit::Append(at, None, text(&group(prefix, event, matcher))));
        };
        let wanted = command(prefix, event);
        if groups[g]["hooks"][h]["command"] != wanted.as_str() {
            let at = vec![
                key("hooks"),
                key(name),
                Step::Index(g),
                key("hooks"),
                Step::Index(h),
                key("command"),
            ];
            return Some(Edit::Replace(at, text(&wanted)));
        }
    }
    None
}

/// The next entry of ours to remove, in any event; `None` when none is left.
pub fn next_uninstall(root: &Value) -> Option<Edit> {
    let hooks = root.get("hooks")?.as_object()?;
    hooks.iter().find_map(|(name, groups)| {
        let &(g, h) = own_entries(groups.as_array()?).first()?;
        Some(Edit::Remove(removal(root, name, g, h)))
    })
}

/// What to remove for entry `h` of group `g` of event `name`: the entry, or
/// the group, event or `hooks` object that holds nothing else.
fn removal(root: &Value, name: &str, g: usize, h: usize) -> Pointer {
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    let hooks = &root["hooks"];
    let groups = &hooks[name];
    let alone_in_group = len(&groups[g]["hooks"]) == 1;
    let alone_in_event = alone_in_group && len(groups) == 1;
    let alone_in_hooks = alone_in_event && hooks.as_object().map_or(0, Map::len) == 1;
    match (alone_in_hooks, alone_in_event, alone_in_group) {
        (true, _, _) => vec![key("hooks")],
        (_, true, _) => vec![key("hooks"), key(name)],
        (_, _, true) => vec![key("hooks"), key(name), Step::Index(g)],
        _ => vec![
            key("hooks"),
            key(name),
            Step::Index(g),
            key("hooks"),
            Step::Index(h),
        ],
    }
}

/// (group, entry) of each entry of ours among an event's groups.
fn own_entries(groups: &[Value]) -> Vec<(usize, usize)> {
    let mut own = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let Some(list) = group.get("hooks").and_then(Value::as_array) else {
            continue;
        };
        for (h, hook) in list.iter().enumerate() {
            if hook
                .get("command")
                .and_then(Value::as_str)
                .is_some_and(is_ours)
            {
                own.push((g, h));
            }
        }
    }
    own
}

fn group(prefix: &str, event: HookEvent, matcher: Option<&'static str>) -> Group {
    Group {
        matcher,
        hooks: [Entry {
            kind: "command",
            command: command(prefix, event),
            timeout: HOOK_TIMEOUT_SECS,
        }],
    }
}

/// Whether a hook command is chittysync's: it ends with the marker, or (as
/// versions before the marker wrote it) its program is named `chittysync`
/// and its last words are `hook <event>`.
pub fn is_ours(command: &str) -> bool {
    let command = command.trim_end();
    if let Some(rest) = command.strip_suffix(MARKER) {
        if rest.ends_with(char::is_whitespace) {
            return true;
        }
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    let [.., "hook", event] = words.as_slice() else {
        return false;
    };
    let named = Path::new(program_of(command))
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "chittysync");
    named && EVENTS.iter().any(|(_, e, _)| e.name() == *event)
}

/// The first word of a shell command, unquoted if it is quoted as a whole.
fn program_of(command: &str) -> &str {
    let command = command.trim_start();
    for quote in ['\'', '"'] {
        if let Some(rest) = command.strip_prefix(quote) {
            return rest.split(quote).next().unwrap_or_default();
        }
    }
    command.split_whitespace().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PREFIX: &str = "/opt/bin/chittysync";

    /// Applies edits until none is needed.
    fn settle(root: Value, next: impl Fn(&Value) -> Option<Edit>) -> Value {
        let mut doc = JsonText::parse(root.to_string()).unwrap();
        for _ in 0..50 {
            match next(doc.value()) {
                Some(edit) => edit.apply(&mut doc).unwrap(),
                None => return doc.value().clone(),
            }
        }
        panic!("no end of edits");
    }

    fn user_settings() -> Value {
        json!({
            "model": "opus",
            "hooks": {
                "PostToolUse": [
                    {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo hi"}]}
                ],
                "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
            }
        })
    }

    #[test]
    fn install_is_idempotent_and_keeps_the_rest() {
        let installed = settle(user_settings(), |v| next_install(v, PREFIX));
        assert_eq!(next_install(&installed, PREFIX), None);
        assert_eq!(installed["model"], "opus");
        assert_eq!(installed["hooks"]["Stop"], user_settings()["hooks"]["Stop"]);
        let post = installed["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post.len(), 2);
        assert_eq!(post[0]["matcher"], "Bash");
        assert_eq!(post[1]["matcher"], "TodoWrite|TaskCreate|TaskUpdate");
        assert_eq!(
            post[1]["hooks"][0]["command"],
            "/opt/bin/chittysync hook post-tool-use # chittysync-hook"
        );
        let removed = settle(installed, next_uninstall);
        assert_eq!(removed, user_settings());
    }

    #[test]
    fn an_old_or_moved_entry_is_updated_in_place() {
        let old = json!({"hooks": {"SessionStart": [{"hooks": [
            {"type": "command", "command": "/old/chittysync --home /h hook session-start", "timeout": 10}
        ]}]}});
        let installed = settle(old, |v| next_install(v, "/new/renamed-binary"));
        let start = installed["hooks"]["SessionStart"].as_array().unwrap();
        assert_eq!(start.len(), 1);
        assert_eq!(
            start[0]["hooks"][0]["command"],
            "/new/renamed-binary hook session-start # chittysync-hook"
        );
        assert_eq!(settle(installed, next_uninstall), json!({}));
    }

    #[test]
    fn recognizes_its_commands_only() {
        assert!(is_ours("/x/chittysync hook session-end"));
        assert!(is_ours("'/a b/chittysync' --home '/h' hook post-tool-use"));
        assert!(is_ours("/tmp/cs-copy hook session-end # chittysync-hook"));
        assert!(!is_ours("/x/chittysync-other hook session-end"));
        assert!(!is_ours("/x/chittysync hook something-else"));
        assert!(!is_ours("echo chittysync hook session-end"));
        assert!(!is_ours("echo x#chittysync-hook"));
    }
}
