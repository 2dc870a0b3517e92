//! The command line: every command and flag of SPEC §7.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "chittysync",
    version,
    about = "One live, deduplicated, project-aware picture of every AI coding session's todo list.",
    long_about = "chittysync reads the todo lists, task files and transcripts that Claude Code \
sessions write, folds them into one deduplicated list per project, and keeps it current \
(daemon, hooks), in history (git) and shared across machines (sync hub).",
    after_help = "Start with `chittysync consolidate`, then `chittysync todos`."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Claude Code's folder [default: ~/.claude]
    #[arg(long, global = true, env = "CLAUDE_CONFIG_DIR", value_name = "DIR")]
    pub claude_dir: Option<PathBuf>,
    /// chittysync's home: store, outputs, logs [default: ~/.local/share/chittysync]
    #[arg(long, global = true, env = "CHITTYSYNC_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Config file [default: <home>/config.toml, else ~/.config/chittysync/config.toml]
    #[arg(long, global = true, env = "CHITTYSYNC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Show every warning, not only the first few
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct JsonFlag {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read what changed under the Claude Code folder, fold it, write the outputs
    Consolidate {
        /// Reread every file, not only those whose size or mtime changed
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The consolidated todo list
    Todos(TodosArgs),
    /// Projects with their sessions and counts
    Projects {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Sessions: state, device, project, last activity, open todos
    Sessions {
        /// Only sessions active now (not ended, not stale)
        #[arg(long, conflicts_with = "stale")]
        active: bool,
        /// Only stale sessions (idle longer than `sessions.stale_after`)
        #[arg(long)]
        stale: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Todos whose sessions disagree, and how each was resolved
    Conflicts {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Every observation of a todo, oldest first
    History {
        /// A todo id (or its prefix), or text contained in its content
        query: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// What chittysync knows of itself: store, last run, daemon, stale sessions
    Status {
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct TodosArgs {
    /// Only this project
    #[arg(long, short)]
    pub project: Option<String>,
    /// Only this status: pending, in_progress, completed, deleted, or open (pending and in_progress)
    #[arg(long, short)]
    pub status: Option<StatusFilter>,
    /// Only todos seen by this session (an id or a unique prefix)
    #[arg(long)]
    pub session: Option<String>,
    /// The list as it was then: RFC 3339, a date (2026-11-20), or an age (2h, 3d)
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Pending,
    InProgress,
    Completed,
    Deleted,
    Open,
}
