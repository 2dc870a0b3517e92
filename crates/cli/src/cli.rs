//! The command line: every command and flag (docs/DESIGN.md, "Commands").

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "chittysync",
    version,
    about = "One live, deduplicated, project-aware picture of every AI coding session's todo list.",
    long_about = "chittysync reads the plans that AI coding sessions write — Claude Code's todo \
lists, task files and transcripts, Codex CLI's rollouts, Gemini CLI's and Qwen Code's chats and \
todo files, OpenCode's database — folds them into one deduplicated list per project, and keeps \
it current (daemon, hooks), in history (git) and shared across machines (sync hub).",
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
    /// The folder holding every agent's default folder (`.claude`, `.codex`,
    /// `.gemini`, `.qwen`, `.local/share/opencode`) [default: your home]
    #[arg(
        long,
        global = true,
        env = "CHITTYSYNC_AGENTS_HOME",
        value_name = "DIR"
    )]
    pub agents_home: Option<PathBuf>,
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
    /// Read what changed in every agent's folder, fold it, write the outputs
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
    /// Todos in progress in two or more active sessions at once (docs/COLLISIONS.md)
    Collisions {
        /// Only this project's
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Send what `[notify]` has queued; `--test` sends a sample event (docs/COLLISIONS.md)
    Notify {
        /// Send a sample event to every configured channel, now
        #[arg(long)]
        test: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Topics of open work: their todos, sessions and specialist agents (docs/TOPICS.md)
    Topics {
        /// Only this project's
        #[arg(long, short)]
        project: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// A plan spreading pending todos over active sessions by load (docs/TOPICS.md)
    Orchestrate {
        /// Only this project's
        #[arg(long, short)]
        project: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Start the specialist agents of topics that piled up (`[spawn]`, docs/TOPICS.md)
    Spawn {
        /// Show what would start and why; start nothing
        #[arg(long)]
        dry_run: bool,
        /// Only this project's topics
        #[arg(long, short)]
        project: Option<String>,
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
    /// Per project and day: todos planned, started, completed, still open, and time to finish
    Report {
        /// Only days from this time on: RFC 3339, a date, or an age (7d)
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only this project
        #[arg(long, short)]
        project: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The web dashboard of the local picture: board, sessions, conflicts, history, report, topics; live (docs/UI.md)
    Ui {
        /// Address to listen on: loopback, or any address with --token
        #[arg(long, default_value = "127.0.0.1:7879", value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// Required of every request (sign in once per browser); required to listen off loopback
        #[arg(
            long,
            env = "CHITTYSYNC_UI_TOKEN",
            value_name = "TOKEN",
            hide_env_values = true
        )]
        token: Option<String>,
        /// Open the board in the default browser
        #[arg(long)]
        open: bool,
    },
    /// Run the sync hub: HTTP and WebSocket API over SQLite or PostgreSQL
    Serve {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// `postgres://…` for PostgreSQL (several hubs may share it), or a SQLite file [default: <home>/hub.db]
        #[arg(long, env = "CHITTYSYNC_HUB_DATABASE", value_name = "URL")]
        database: Option<String>,
        /// Largest request body accepted, in bytes
        #[arg(long, default_value_t = 16 * 1024 * 1024, value_name = "BYTES")]
        max_body_bytes: usize,
        /// Serve TLS with this PEM certificate chain (leaf first); needs --tls-key (docs/HUB_API.md#tls)
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Manage the sync hub: tokens
    Hub {
        #[command(subcommand)]
        command: HubCommand,
    },
    /// What chittysync knows of itself: store, last run, daemon, stale sessions
    Status {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Watch every agent's folders and keep the outputs current (foreground; see `service`)
    Daemon,
    /// Install the daemon as a systemd user unit (Linux) or LaunchAgent (macOS)
    Service {
        action: ServiceAction,
        /// Print the file and the commands instead of writing and running them
        #[arg(long)]
        dry_run: bool,
        /// The service manager [default: this OS's]
        #[arg(long, value_enum)]
        manager: Option<ServiceManager>,
    },
    /// The MCP server any coding agent starts (stdio); `install`/`uninstall` register it in agents' configs (docs/MCP.md)
    Mcp {
        #[command(subcommand)]
        action: Option<crate::commands::mcp::McpAction>,
    },
    /// Add or remove chittysync's hooks in Claude Code's settings.json
    Hooks {
        action: HooksAction,
        /// The settings file [default: <claude dir>/settings.json]
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// Leave CLAUDE_CODE_ENABLE_TODO_TOOLS (Claude Code's plan tools) in the
        /// settings' `env` as it is; by default install sets it to "1" and
        /// uninstall removes it if install set it
        #[arg(long)]
        no_plan_tools: bool,
    },
    /// Handle one Claude Code hook: reads its JSON on stdin; always exits 0
    Hook { event: HookEvent },
    /// The git sync repository: create or clone it, install the merge driver
    Git {
        #[command(subcommand)]
        command: GitCommand,
    },
    /// The device key of end-to-end encryption (`[git] encrypt`, `[hub] encrypt`)
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Consolidate, then pull, import other devices' observations, commit and push
    Sync {
        /// Sync what the store holds without consolidating first
        #[arg(long)]
        no_consolidate: bool,
        /// Merge with a history chittysync did not write, keeping its files as they are
        #[arg(long)]
        adopt: bool,
        /// Allow plain http:// to a hub on another machine (as `[hub] insecure = true`)
        #[arg(long)]
        insecure: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Restore statuses as of a time or a commit by appending observations
    Rollback(RollbackArgs),
    /// The git merge driver for todos.json; git runs it as `merge-driver %O %A %B %P`
    MergeDriver {
        /// The common ancestor's version (%O)
        base: PathBuf,
        /// Our version (%A); the merged file is written here
        ours: PathBuf,
        /// Their version (%B)
        theirs: PathBuf,
        /// The file's path in the repository (%P), for messages
        path: Option<String>,
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
    /// Only todos seen by this agent's sessions
    #[arg(long, value_parser = ["claude", "codex", "gemini", "qwen", "opencode", "mcp"])]
    pub agent: Option<String>,
    /// The list as it was then: RFC 3339, a date (2026-11-20), an age (2h, 3d), or a commit of the sync repository
    #[arg(long, value_name = "TIME|COMMIT")]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Pending,
    #[value(name = "in_progress")]
    InProgress,
    Completed,
    Deleted,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceAction {
    Install,
    Uninstall,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceManager {
    Systemd,
    Launchd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HooksAction {
    Install,
    Uninstall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookEvent {
    SessionStart,
    PostToolUse,
    SessionEnd,
}

#[derive(Debug, Subcommand)]
pub enum GitCommand {
    /// Create the sync repository (`[git] repo`, default <home>/git), or clone it from the remote
    Init {
        /// The remote to sync with [default: `[git] remote`]
        #[arg(long, value_name = "URL")]
        remote: Option<String>,
        /// The branch [default: `[git] branch`, main]
        #[arg(long, value_name = "NAME")]
        branch: Option<String>,
        /// Take a remote holding a history chittysync did not write, keeping its files as they are
        #[arg(long)]
        adopt: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Make `git merge` resolve a repository's todos.json with chittysync's three-way merge
    InstallMergeDriver {
        /// The repository [default: the one holding the current directory]
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create this device's key (<home>/sync.key, mode 0600); on the first device only
    Create {
        /// Replace an existing key (what it encrypted becomes unreadable here)
        #[arg(long)]
        force: bool,
    },
    /// Print the key alone on stdout, for `chittysync key import` on another device
    Show,
    /// Take the key another device printed with `key show` (an argument, or stdin)
    Import {
        /// The key; read from stdin when absent (keeps it out of the shell's history)
        key: Option<String>,
        /// Replace an existing, different key
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The point to restore: a time (RFC 3339, a date, an age such as 2h) or a commit of the sync repository
    #[arg(long, value_name = "TIME|COMMIT")]
    pub to: String,
    /// Only this project's todos
    #[arg(long, short)]
    pub project: Option<String>,
    /// List the changes without making them
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Bearer tokens, each mapping to one tenant
    Token {
        #[command(subcommand)]
        command: TokenCommand,
        /// The hub's database (as for `serve`) [default: <home>/hub.db]
        #[arg(
            long,
            global = true,
            env = "CHITTYSYNC_HUB_DATABASE",
            value_name = "URL"
        )]
        database: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a tenant; prints the token alone on stdout
    Create {
        #[arg(long)]
        tenant: String,
    },
    /// List tokens (their prefixes, never the secrets)
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a token by its id, its listed prefix, or the token itself
    Revoke { token: String },
}
