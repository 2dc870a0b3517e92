//! `chittysync hooks install|uninstall [--settings FILE]`: chittysync's entries
//! in Claude Code's `settings.json`.
//!
//! Only entries whose command runs `chittysync … hook <event>` are ours; every
//! other key, hook and matcher is kept. Installing twice changes nothing, a
//! chittysync found at another path (an upgrade, a move) is replaced, and the
//! file is backed up before any change. A file that is not valid JSON is
//! refused: rewriting it would lose what the user meant.

use crate::cli::{GlobalArgs, HookEvent, HooksAction};
use crate::context::Context;
use anyhow::{bail, Context as _, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Claude Code's event, the `hook` argument handling it, and the tools matched.
const EVENTS: [(&str, HookEvent, Option<&str>); 3] = [
    ("SessionStart", HookEvent::SessionStart, None),
    (
        "PostToolUse",
        HookEvent::PostToolUse,
        Some("TodoWrite|TaskCreate|TaskUpdate"),
    ),
    ("SessionEnd", HookEvent::SessionEnd, None),
];

/// Seconds Claude Code gives a hook before giving up on it. A hook takes
/// milliseconds; this only bounds a wait on a store locked for long.
const HOOK_TIMEOUT_SECS: u64 = 10;

pub fn run(
    ctx: &Context,
    global: &GlobalArgs,
    action: HooksAction,
    settings: Option<&Path>,
) -> Result<()> {
    let path = settings
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.locations.claude_dir.join("settings.json"));
    let original = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut root: Value = match &original {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => serde_json::from_slice(bytes)
            .map_err(|e| {
                anyhow::anyhow!(
                    "refusing to rewrite {}: it is not valid JSON ({e}); fix it first",
                    path.display()
                )
            })?,
        _ => json!({}),
    };
    let before = root.clone();
    let prefix = super::service::command_prefix(ctx, global)?;
    match action {
        HooksAction::Install => install(&mut root, &prefix)?,
        HooksAction::Uninstall => uninstall(&mut root)?,
    }
    let verb = match action {
        HooksAction::Install => "installed in",
        HooksAction::Uninstall => "removed from",
    };
    if root == before {
        println!(
            "chittysync hooks already {verb} {} (unchanged)",
            path.display()
        );
        return Ok(());
    }
    if let Some(bytes) = &original {
        let backup = backup_path(&path);
        std::fs::write(&backup, bytes)
            .with_context(|| format!("cannot write the backup {}", backup.display()))?;
        println!("backup: {}", backup.display());
    }
    let mut text = serde_json::to_string_pretty(&root)?;
    text.push('\n');
    chittysync_engine::write_atomically(&path, text.as_bytes())?;
    println!("chittysync hooks {verb} {}", path.display());
    Ok(())
}

fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

/// The `hooks` object of the settings, created if missing.
fn hooks_of(root: &mut Value) -> Result<&mut Map<String, Value>> {
    let Some(root) = root.as_object_mut() else {
        bail!("the settings file is not a JSON object");
    };
    match root.entry("hooks").or_insert_with(|| json!({})) {
        Value::Object(hooks) => Ok(hooks),
        _ => bail!("`hooks` in the settings file is not an object"),
    }
}

/// Adds (or updates in place) one entry per event, running `prefix hook <event>`.
fn install(root: &mut Value, prefix: &str) -> Result<()> {
    let hooks = hooks_of(root)?;
    for (name, event, matcher) in EVENTS {
        let command = format!("{prefix} hook {}", event.name());
        let entry = json!({"type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECS});
        let Value::Array(groups) = hooks.entry(name).or_insert_with(|| json!([])) else {
            bail!("`hooks.{name}` in the settings file is not a list");
        };
        let mut placed = false;
        for group in groups.iter_mut() {
            let fits = group.get("matcher").and_then(Value::as_str) == matcher;
            if let Some(Value::Array(list)) = group.get_mut("hooks") {
                list.retain_mut(|hook| {
                    if !is_ours(hook) {
                        return true;
                    }
                    if fits && !placed {
                        *hook = entry.clone();
                        placed = true;
                        return true;
                    }
                    false
                });
            }
        }
        drop_emptied(groups);
        if !placed {
            let mut group = json!({"hooks": [entry]});
            if let Some(matcher) = matcher {
                group["matcher"] = json!(matcher);
            }
            groups.push(group);
        }
    }
    Ok(())
}

/// Removes every entry of ours, and the groups and events left empty by that.
fn uninstall(root: &mut Value) -> Result<()> {
    if root.get("hooks").is_none() {
        return Ok(());
    }
    let hooks = hooks_of(root)?;
    for (name, _, _) in EVENTS {
        let Some(Value::Array(groups)) = hooks.get_mut(name) else {
            continue;
        };
        let had = groups.len();
        for group in groups.iter_mut() {
            if let Some(Value::Array(list)) = group.get_mut("hooks") {
                list.retain(|hook| !is_ours(hook));
            }
        }
        drop_emptied(groups);
        if groups.is_empty() && had > 0 {
            hooks.remove(name);
        }
    }
    if hooks.is_empty() {
        if let Some(root) = root.as_object_mut() {
            root.remove("hooks");
        }
    }
    Ok(())
}

/// Drops groups whose `hooks` list is empty (only ours were in them).
fn drop_emptied(groups: &mut Vec<Value>) {
    groups
        .retain(|group| !matches!(group.get("hooks"), Some(Value::Array(list)) if list.is_empty()));
}

/// Whether a hook entry is chittysync's: a command whose program is named
/// `chittysync` and whose last words are `hook <event>`.
fn is_ours(hook: &Value) -> bool {
    let Some(command) = hook.get("command").and_then(Value::as_str) else {
        return false;
    };
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

    const PREFIX: &str = "/opt/bin/chittysync";

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
        let mut settings = user_settings();
        install(&mut settings, PREFIX).unwrap();
        let once = settings.clone();
        install(&mut settings, PREFIX).unwrap();
        assert_eq!(settings, once);
        assert_eq!(settings["model"], "opus");
        assert_eq!(settings["hooks"]["Stop"], user_settings()["hooks"]["Stop"]);
        let post = settings["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post.len(), 2);
        assert_eq!(post[0]["matcher"], "Bash");
        assert_eq!(post[1]["matcher"], "TodoWrite|TaskCreate|TaskUpdate");
        assert_eq!(
            post[1]["hooks"][0]["command"],
            "/opt/bin/chittysync hook post-tool-use"
        );
        assert_eq!(
            settings["hooks"]["SessionStart"][0]["hooks"][0]["command"],
            "/opt/bin/chittysync hook session-start"
        );
    }

    #[test]
    fn a_moved_binary_replaces_the_old_entries() {
        let mut settings = json!({});
        install(&mut settings, "/old/chittysync --home /h").unwrap();
        install(&mut settings, PREFIX).unwrap();
        let start = settings["hooks"]["SessionStart"].as_array().unwrap();
        assert_eq!(start.len(), 1);
        assert_eq!(
            start[0]["hooks"][0]["command"],
            "/opt/bin/chittysync hook session-start"
        );
    }

    #[test]
    fn uninstall_removes_only_ours() {
        let mut settings = user_settings();
        install(&mut settings, PREFIX).unwrap();
        uninstall(&mut settings).unwrap();
        assert_eq!(settings, user_settings());
        let mut empty = json!({});
        install(&mut empty, PREFIX).unwrap();
        uninstall(&mut empty).unwrap();
        assert_eq!(empty, json!({}));
    }

    #[test]
    fn recognizes_its_commands_only() {
        let ours = |c: &str| is_ours(&json!({"type": "command", "command": c}));
        assert!(ours("/x/chittysync hook session-end"));
        assert!(ours("'/a b/chittysync' --home '/h' hook post-tool-use"));
        assert!(!ours("/x/chittysync-other hook session-end"));
        assert!(!ours("/x/chittysync hook something-else"));
        assert!(!ours("echo chittysync hook session-end"));
    }
}
