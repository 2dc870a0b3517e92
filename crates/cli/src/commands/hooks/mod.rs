//! `chittysync hooks install|uninstall [--settings FILE] [--no-plan-tools]`:
//! chittysync's entries in Claude Code's `settings.json`, and its plan tools.
//!
//! Only entries whose command ends with the marker `# chittysync-hook` (or, as
//! earlier versions wrote them, runs `chittysync … hook <event>`) are ours.
//! Every other byte of the file is kept: edits splice the text (see
//! crate::settings::json_text), so uninstall after install gives back the
//! file as it was. A file that is not valid JSON, or whose `hooks` or `env`
//! is not an object, is refused: rewriting it would lose what the user meant.
//! See docs/HOOKS.md.

mod entries;
mod record;

use crate::cli::{GlobalArgs, HooksAction};
use crate::context::Context;
use crate::settings::file::SettingsFile;
use crate::settings::json_text::JsonText;
use crate::settings::plan_tools::{self, is_on, ON, VAR};
use anyhow::{anyhow, bail, Result};
use entries::{key, Edit};
use record::Added;
use serde_json::{json, Value};
use std::path::Path;

/// More edits than any settings file needs: a bug, not a file, if reached.
const MAX_EDITS: usize = 1000;

pub fn run(
    ctx: &Context,
    global: &GlobalArgs,
    action: HooksAction,
    settings: Option<&Path>,
    plan_tools: bool,
) -> Result<()> {
    let path = settings
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.locations.claude_dir.join("settings.json"));
    let file = SettingsFile::read(&path)?;
    let name = file.name();
    let refuse = |why: String| anyhow!("refusing to change {name}: {why}; fix it first");
    let original = match &file.original {
        None => None,
        Some(bytes) => Some(
            String::from_utf8(bytes.clone())
                .map_err(|_| refuse("it is not valid JSON (not UTF-8 text)".into()))?,
        ),
    };
    let start = match &original {
        None => "{}\n".to_string(),
        // An empty file reads as an empty object, its whitespace kept.
        Some(text) if text.trim().is_empty() => format!("{{}}{text}"),
        Some(text) => text.clone(),
    };
    let mut doc =
        JsonText::parse(start).map_err(|e| refuse(format!("it is not valid JSON ({e})")))?;
    entries::check_shape(doc.value()).map_err(refuse)?;

    let mut records = record::load(&ctx.locations.home)?;
    let mut added = records.get(&file.target);
    let mut lines = Vec::new();
    let hooks_before = doc.text().to_string();
    match action {
        HooksAction::Install => {
            let prefix = super::service::command_prefix(ctx, global)?;
            settle(&mut doc, |v| entries::next_install(v, &prefix))?;
            lines.push(if doc.text() == hooks_before {
                format!("chittysync hooks already installed in {name} (unchanged)")
            } else {
                format!("chittysync hooks installed in {name}")
            });
            if plan_tools {
                lines.push(turn_plan_tools_on(&mut doc, &mut added, &name)?);
            } else {
                lines.push("plan tools: left as they are (--no-plan-tools)".into());
            }
        }
        HooksAction::Uninstall => {
            settle(&mut doc, entries::next_uninstall)?;
            lines.push(if doc.text() == hooks_before {
                format!("chittysync hooks already removed from {name} (unchanged)")
            } else {
                format!("chittysync hooks removed from {name}")
            });
            if plan_tools {
                lines.extend(remove_plan_tools(&mut doc, &mut added)?);
            }
        }
    }

    let unchanged =
        original.as_deref() == Some(doc.text()) || (original.is_none() && doc.text() == "{}\n");
    let delete = action == HooksAction::Uninstall
        && added.file
        && file.original.is_some()
        && doc.value() == &json!({});
    if action == HooksAction::Install && file.original.is_none() && !unchanged {
        added.file = true;
    }
    if !unchanged || delete {
        file.check_writable()?;
    }
    // A file about to be deleted held nothing but what install had put in it.
    if !unchanged && !delete {
        if let Some(backup) = file.backup()? {
            lines.push(format!("backup of the previous file: {}", backup.display()));
        }
    }
    match action {
        // Recorded first: a value install sets is never left unrecorded.
        HooksAction::Install => {
            records.save(&file.target, added)?;
            if !unchanged {
                file.write(doc.text().as_bytes())?;
            }
        }
        HooksAction::Uninstall => {
            if delete {
                file.remove()?;
                lines.push(format!(
                    "removed {name}: `hooks install` had created it and nothing else is in it"
                ));
            } else if !unchanged {
                file.write(doc.text().as_bytes())?;
            }
            if plan_tools || delete {
                records.save(&file.target, Added::default())?;
            }
        }
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// Applies `next`'s edits until it asks for none.
fn settle(doc: &mut JsonText, next: impl Fn(&Value) -> Option<Edit>) -> Result<()> {
    for _ in 0..MAX_EDITS {
        let Some(edit) = next(doc.value()) else {
            return Ok(());
        };
        edit.apply(doc)
            .map_err(|e| anyhow!("cannot edit the settings ({e}) — a bug, please report it"))?;
    }
    bail!("the settings did not settle after {MAX_EDITS} edits — a bug, please report it")
}

/// Sets `env.CLAUDE_CODE_ENABLE_TODO_TOOLS = "1"` unless it is set already;
/// a value the user set is left alone. Returns the line that says so.
fn turn_plan_tools_on(doc: &mut JsonText, added: &mut Added, name: &str) -> Result<String> {
    let set = format!("env.{VAR} = \"{ON}\"");
    let edit = match doc.value().get("env") {
        None => Edit::Append(vec![], Some("env".into()), json!({ VAR: ON }).to_string()),
        Some(env) => match env.get(VAR) {
            None => Edit::Append(vec![key("env")], Some(VAR.into()), json!(ON).to_string()),
            Some(value) if added.plan_tools && value == ON => {
                return Ok(format!(
                    "plan tools: on ({set} in {name}, set by chittysync)"
                ));
            }
            Some(value) => {
                // Changed since install set it: the user's word now.
                added.plan_tools = false;
                let text = plan_tools::as_env_text(value);
                let state = if is_on(&text) {
                    "on"
                } else {
                    "off: sessions on newer models write no plan"
                };
                return Ok(format!(
                    "plan tools: left as you set them, env.{VAR} = {value} in {name} ({state})"
                ));
            }
        },
    };
    added.env |= doc.value().get("env").is_none();
    added.plan_tools = true;
    settle_one(doc, &edit)?;
    Ok(format!(
        "plan tools: turned on for every Claude Code session ({set} in {name}); \
         `--no-plan-tools` leaves them as they are"
    ))
}

/// Removes what install set (its value unchanged), and `env` if install
/// created it and nothing else is in it. Returns the lines that say so.
fn remove_plan_tools(doc: &mut JsonText, added: &mut Added) -> Result<Option<String>> {
    let env = doc.value().get("env").and_then(Value::as_object);
    let Some(value) = env.and_then(|env| env.get(VAR)) else {
        return Ok(None);
    };
    if !(added.plan_tools && value == ON) {
        return Ok(Some(format!(
            "plan tools: left as you set them, env.{VAR} = {value}"
        )));
    }
    let at = if added.env && env.is_some_and(|env| env.len() == 1) {
        vec![key("env")]
    } else {
        vec![key("env"), key(VAR)]
    };
    settle_one(doc, &Edit::Remove(at))?;
    *added = Added {
        file: added.file,
        ..Added::default()
    };
    Ok(Some(format!(
        "plan tools: removed env.{VAR}, which `hooks install` had set"
    )))
}

fn settle_one(doc: &mut JsonText, edit: &Edit) -> Result<()> {
    edit.apply(doc)
        .map_err(|e| anyhow!("cannot edit the settings ({e}) — a bug, please report it"))
}
