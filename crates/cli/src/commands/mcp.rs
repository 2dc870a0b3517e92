//! `chittysync mcp`: the MCP server on stdio; `mcp install|uninstall
//! [--agent A]…`: its entry in each agent's own config (docs/MCP.md).
//!
//! Every agent keeps its MCP servers in a file of its own: Claude Code in
//! `~/.claude.json` (`mcpServers`), Codex in `~/.codex/config.toml`
//! (`[mcp_servers.<name>]`), Gemini CLI and Qwen Code in `settings.json`
//! (`mcpServers`), OpenCode in `~/.config/opencode/opencode.json` (`mcp`).
//! Only the entry named `chittysync` is ours. JSON files are edited by byte
//! splices (crate::settings::json_text, as `hooks install` edits Claude
//! Code's settings), TOML with `toml_edit`, which keeps comments and order;
//! either way the file is backed up, written atomically through links with
//! its mode kept (crate::settings::file), and a file that cannot be read as
//! its format is refused untouched.

use crate::context::Context;
use crate::settings::file::SettingsFile;
use crate::settings::json_text::{JsonText, Step};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The name of chittysync's entry in every agent's config.
const NAME: &str = "chittysync";

/// What `mcp install` added besides its entry, per config file: kept in
/// `<home>/mcp-install.json` so uninstall removes exactly that.
const RECORD_FILE: &str = "mcp-install.json";

#[derive(Debug, Clone, Subcommand)]
pub enum McpAction {
    /// Register `chittysync mcp` in agents' MCP configs
    Install(AgentArgs),
    /// Remove chittysync's entry from agents' MCP configs
    Uninstall(AgentArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// The agents [default: every agent whose folder exists]
    #[arg(long = "agent", value_enum, value_name = "AGENT")]
    agents: Vec<McpAgent>,
    /// Print what would change instead of writing it
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum McpAgent {
    Claude,
    Codex,
    Gemini,
    Qwen,
    Opencode,
}

impl McpAgent {
    const ALL: [McpAgent; 5] = [
        McpAgent::Claude,
        McpAgent::Codex,
        McpAgent::Gemini,
        McpAgent::Qwen,
        McpAgent::Opencode,
    ];

    fn name(self) -> &'static str {
        match self {
            McpAgent::Claude => "claude",
            McpAgent::Codex => "codex",
            McpAgent::Gemini => "gemini",
            McpAgent::Qwen => "qwen",
            McpAgent::Opencode => "opencode",
        }
    }
}

pub fn run(
    ctx: &Context,
    global: &crate::cli::GlobalArgs,
    action: Option<McpAction>,
) -> Result<()> {
    let Some(action) = action else {
        return chittysync_mcp::serve_stdio(&ctx.locations, &ctx.config).map_err(Into::into);
    };
    let (install, args) = match action {
        McpAction::Install(args) => (true, args),
        McpAction::Uninstall(args) => (false, args),
    };
    let command = server_command(ctx, global)?;
    let agents: Vec<McpAgent> = if args.agents.is_empty() {
        let present: Vec<McpAgent> = McpAgent::ALL
            .into_iter()
            .filter(|a| agent_folder(ctx, *a).is_some_and(|d| d.is_dir()))
            .collect();
        if present.is_empty() {
            bail!(
                "no agent's folder was found (looked for Claude Code, Codex, Gemini CLI, Qwen Code \
                 and OpenCode); name one with --agent"
            );
        }
        present
    } else {
        let mut agents = args.agents.clone();
        agents.sort();
        agents.dedup();
        agents
    };
    let mut records = Records::load(&ctx.locations.home, RECORD_FILE, "mcp install")?;
    let mut failed = 0;
    for agent in agents {
        let path = config_path(ctx, agent);
        let outcome = edit_config(agent, &path, &command, install, args.dry_run, &mut records);
        match outcome {
            Ok(line) => println!("{}: {line}", agent.name()),
            Err(e) => {
                failed += 1;
                crate::output::print_error(&e.context(agent.name()));
            }
        }
    }
    if failed > 0 {
        bail!("{failed} config file(s) left unchanged");
    }
    Ok(())
}

/// `<exe> [--home H] [--config C] mcp`: what the agent starts.
fn server_command(ctx: &Context, global: &crate::cli::GlobalArgs) -> Result<Vec<String>> {
    let exe = std::env::current_exe().context("cannot tell where this binary is")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let mut words = vec![exe.display().to_string()];
    words.extend(super::service::global_args(ctx, global, false)?);
    words.push("mcp".to_string());
    Ok(words)
}

/// The agent's own folder, as the sources find it (`--agents-home` included).
fn agent_folder(ctx: &Context, agent: McpAgent) -> Option<PathBuf> {
    if agent == McpAgent::Claude {
        return Some(ctx.locations.claude_dir.clone());
    }
    if agent == McpAgent::Opencode {
        return opencode_config(ctx).parent().map(Path::to_path_buf);
    }
    ctx.locations
        .agent_folders(&ctx.config.sources)
        .into_iter()
        .find(|f| f.agent == agent.name())
        .map(|f| f.dir)
}

/// The user's home as the agents see it: `--agents-home`, else `$HOME`.
fn agents_home(ctx: &Context) -> PathBuf {
    ctx.locations
        .agents_home
        .clone()
        .or_else(dirs_home)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// OpenCode's global config: `$XDG_CONFIG_HOME/opencode/opencode.json`,
/// else `~/.config/opencode/opencode.json` (under `--agents-home` when given).
fn opencode_config(ctx: &Context) -> PathBuf {
    let base = match (
        &ctx.locations.agents_home,
        std::env::var_os("XDG_CONFIG_HOME"),
    ) {
        (Some(home), _) => home.join(".config"),
        (None, Some(xdg)) if Path::new(&xdg).is_absolute() => PathBuf::from(xdg),
        _ => agents_home(ctx).join(".config"),
    };
    base.join("opencode").join("opencode.json")
}

/// The file that holds the agent's MCP servers.
fn config_path(ctx: &Context, agent: McpAgent) -> PathBuf {
    match agent {
        // Claude Code keeps user-scope servers in `.claude.json` beside its
        // folder (`~/.claude.json`), or inside `CLAUDE_CONFIG_DIR` when set.
        McpAgent::Claude => {
            let home = agents_home(ctx);
            let claude = &ctx.locations.claude_dir;
            let default = home.join(".claude");
            let same = claude == &default
                || std::fs::canonicalize(claude).ok() == std::fs::canonicalize(&default).ok()
                    && claude.exists();
            if same {
                home.join(".claude.json")
            } else {
                claude.join(".claude.json")
            }
        }
        McpAgent::Codex => folder_or_default(ctx, agent).join("config.toml"),
        McpAgent::Gemini | McpAgent::Qwen => folder_or_default(ctx, agent).join("settings.json"),
        McpAgent::Opencode => opencode_config(ctx),
    }
}

fn folder_or_default(ctx: &Context, agent: McpAgent) -> PathBuf {
    agent_folder(ctx, agent).unwrap_or_else(|| agents_home(ctx).join(format!(".{}", agent.name())))
}

/// Installs or removes the entry in one file; the line that says what happened.
fn edit_config(
    agent: McpAgent,
    path: &Path,
    command: &[String],
    install: bool,
    dry_run: bool,
    records: &mut Records,
) -> Result<String> {
    let file = SettingsFile::read(path)?;
    let name = file.name();
    let refuse = |why: String| anyhow!("refusing to change {name}: {why}; fix it first");
    let original = match &file.original {
        None => None,
        Some(bytes) => Some(
            String::from_utf8(bytes.clone()).map_err(|_| refuse("it is not UTF-8 text".into()))?,
        ),
    };
    let mut added = records.get(&file.target);
    let new_text = match agent {
        McpAgent::Codex => edit_toml(original.as_deref(), command, install, &mut added)
            .map_err(|e| refuse(e.to_string()))?,
        _ => edit_json(agent, original.as_deref(), command, install, &mut added)
            .map_err(|e| refuse(e.to_string()))?,
    };
    let unchanged = match (&original, &new_text) {
        (Some(old), Some(new)) => old == new,
        (None, None) => true,
        _ => false,
    };
    if unchanged {
        return Ok(if install {
            format!("chittysync already registered in {name} (unchanged)")
        } else {
            format!("chittysync not registered in {name} (unchanged)")
        });
    }
    if dry_run {
        return Ok(match &new_text {
            Some(text) => format!("would write {name}:\n{text}"),
            None => format!("would remove {name}"),
        });
    }
    file.check_writable()?;
    let mut line = String::new();
    match new_text {
        Some(text) => {
            if let Some(backup) = file.backup()? {
                line = format!(" (backup of the previous file: {})", backup.display());
            }
            if install && file.original.is_none() {
                added.file = true;
            }
            records.save(&file.target, added)?;
            file.write(text.as_bytes())?;
        }
        None => {
            file.remove()?;
            records.save(&file.target, Added::default())?;
            return Ok(format!(
                "removed {name}: `mcp install` had created it and nothing else is in it"
            ));
        }
    }
    Ok(if install {
        format!("chittysync registered in {name}{line}")
    } else {
        format!("chittysync removed from {name}{line}")
    })
}

/// The key that holds the agent's MCP servers, and chittysync's entry there.
fn json_entry(agent: McpAgent, command: &[String]) -> (&'static str, Value) {
    let (exe, args) = command.split_first().expect("a command has its program");
    match agent {
        McpAgent::Claude => (
            "mcpServers",
            json!({"type": "stdio", "command": exe, "args": args, "env": {}}),
        ),
        McpAgent::Opencode => (
            "mcp",
            json!({"type": "local", "command": command, "enabled": true}),
        ),
        _ => ("mcpServers", json!({"command": exe, "args": args})),
    }
}

/// The new text of a JSON config (`None`: delete the file).
fn edit_json(
    agent: McpAgent,
    original: Option<&str>,
    command: &[String],
    install: bool,
    added: &mut Added,
) -> Result<Option<String>> {
    let start = match original {
        None if !install => return Ok(None),
        None => "{}\n".to_string(),
        Some(text) if text.trim().is_empty() => format!("{{}}{text}"),
        Some(text) => text.to_string(),
    };
    let mut doc = JsonText::parse(start).map_err(|e| anyhow!("it is not valid JSON ({e})"))?;
    if !doc.value().is_object() {
        bail!("it is not a JSON object");
    }
    let (key, entry) = json_entry(agent, command);
    let servers = doc.value().get(key).cloned();
    if let Some(servers) = &servers {
        if !servers.is_object() {
            bail!("its `{key}` is not an object");
        }
    }
    let k = |s: &str| Step::Key(s.to_string());
    let edit = |e: crate::settings::json_text::JsonTextError| {
        anyhow!("cannot edit it ({e}) — a bug, please report it")
    };
    if install {
        match servers.as_ref().and_then(|s| s.get(NAME)) {
            Some(existing) if existing == &entry => {}
            Some(_) => doc
                .replace(&[k(key), k(NAME)], &entry.to_string())
                .map_err(edit)?,
            None if servers.is_none() => {
                added.container = true;
                doc.append(&[], Some(key), &json!({ NAME: entry }).to_string())
                    .map_err(edit)?;
            }
            None => doc
                .append(&[k(key)], Some(NAME), &entry.to_string())
                .map_err(edit)?,
        }
    } else if let Some(servers) = &servers {
        if servers.get(NAME).is_some() {
            let only = servers.as_object().is_some_and(|s| s.len() == 1);
            let at = if only && added.container {
                vec![k(key)]
            } else {
                vec![k(key), k(NAME)]
            };
            doc.remove(&at).map_err(edit)?;
            added.container = false;
        }
        if added.file && doc.value() == &json!({}) {
            return Ok(None);
        }
    }
    if original.is_none() && doc.text() == "{}\n" {
        return Ok(None);
    }
    Ok(Some(doc.text().to_string()))
}

/// The new text of Codex's `config.toml` (`None`: delete the file).
fn edit_toml(
    original: Option<&str>,
    command: &[String],
    install: bool,
    added: &mut Added,
) -> Result<Option<String>> {
    use toml_edit::{value, Array, DocumentMut, Item, Table};
    let text = match original {
        None if !install => return Ok(None),
        None => "",
        Some(text) => text,
    };
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| anyhow!("it is not valid TOML ({})", e.message()))?;
    let (exe, args) = command.split_first().expect("a command has its program");
    let mut array = Array::new();
    for arg in args {
        array.push(arg.as_str());
    }
    match doc.get("mcp_servers") {
        Some(item) if !item.is_table_like() => bail!("its `mcp_servers` is not a table"),
        _ => {}
    }
    if install {
        let same = doc
            .get("mcp_servers")
            .and_then(|s| s.get(NAME))
            .is_some_and(|e| {
                e.get("command").and_then(|c| c.as_str()) == Some(exe.as_str())
                    && e.get("args").and_then(|a| a.as_array()).is_some_and(|a| {
                        a.iter().map(|v| v.as_str()).collect::<Vec<_>>()
                            == args.iter().map(|a| Some(a.as_str())).collect::<Vec<_>>()
                    })
            });
        if same {
            return Ok(Some(text.to_string()));
        }
        if doc.get("mcp_servers").is_none() {
            let mut servers = Table::new();
            servers.set_implicit(true);
            doc.insert("mcp_servers", Item::Table(servers));
            added.container = true;
        }
        let servers = doc["mcp_servers"]
            .as_table_like_mut()
            .expect("checked to be a table");
        let mut entry = Table::new();
        entry.insert("command", value(exe.as_str()));
        entry.insert("args", value(array));
        servers.insert(NAME, Item::Table(entry));
        let mut out = doc.to_string();
        // A table appended to a file without a final newline starts its line.
        if !text.is_empty() && !text.ends_with('\n') && out.starts_with(text) {
            out.insert(text.len(), '\n');
        }
        Ok(Some(out))
    } else {
        let Some(servers) = doc
            .get_mut("mcp_servers")
            .and_then(|s| s.as_table_like_mut())
        else {
            return Ok(original.map(str::to_string));
        };
        if servers.remove(NAME).is_none() {
            return Ok(original.map(str::to_string));
        }
        if servers.is_empty() && added.container {
            doc.remove("mcp_servers");
        }
        added.container = false;
        let out = doc.to_string();
        if added.file && out.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

/// What install added to one config file besides its entry.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Added {
    /// The file did not exist: install created it.
    file: bool,
    /// The servers' object or table did not exist: install created it.
    container: bool,
}

type Records = crate::install_record::Records<Added>;
