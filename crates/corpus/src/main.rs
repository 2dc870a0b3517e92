//! `chittysync-corpus`: writes a synthetic Claude Code home for benchmarks.

use anyhow::Result;
use chittysync_corpus::{
    append_one_transcript_line, append_transcript_line, generate, generate_home, parse_agents,
    parse_size, touch_one_todo_file, transcript_files, AppendKind, CorpusSpec, CorpusStats,
    TranscriptSize,
};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Transcripts {
    /// No transcripts (todo and task files only).
    None,
    /// About 10-15 KB per session: the plan writes (first, middle and last of each
    /// list) and a few small tool calls.
    Small,
    /// Heavy-tailed sizes adding up to --transcript-bytes.
    Realistic,
}

/// Writes a deterministic synthetic Claude Code folder (todos/, tasks/, projects/)
/// into an empty folder and prints what it wrote; with --agents naming other
/// agents, a home holding each agent's folder (.claude, .codex, .gemini, .qwen,
/// .local/share/opencode) with the sessions spread across them. `touch` and
/// `append` then make the one-file changes that incremental benchmarks measure.
#[derive(Debug, Parser)]
#[command(
    name = "chittysync-corpus",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Number of sessions.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Random seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How much transcript to write.
    #[arg(long, value_enum, default_value_t = Transcripts::Small)]
    transcripts: Transcripts,
    /// Total transcript size for --transcripts realistic (e.g. 1G, 500M).
    #[arg(long, default_value = "1G", value_parser = parse_size)]
    transcript_bytes: u64,
    /// Number of projects [default: max(4, sessions / 40)].
    #[arg(long)]
    projects: Option<usize>,
    /// The agents to spread the sessions across, e.g. claude,codex,gemini,qwen,opencode
    /// (or `all`). With `claude` alone --out is the Claude Code folder; otherwise
    /// --out is the home that holds each agent's folder.
    #[arg(long, default_value = "claude")]
    agents: String,
    /// Output folder (must be missing or empty).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the stats as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rewrites one todo file (chosen by --seed) with one status advanced, and bumps its mtime.
    Touch {
        /// The generated home.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Appends one line to one transcript (chosen by --seed): a TodoWrite with three
    /// new todos, or with --text a plain assistant line.
    Append {
        /// The generated home.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Append a plain text line (no plan) instead of a TodoWrite.
        #[arg(long)]
        text: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("chittysync-corpus: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Touch { dir, seed }) => {
            let t = touch_one_todo_file(&dir, seed)?;
            let mtime = t
                .mtime
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let v = serde_json::json!({
                "path": t.path.display().to_string(),
                "session": t.session,
                "content": t.content,
                "old_status": t.old_status,
                "new_status": t.new_status,
                "mtime_ms": mtime,
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        Some(Command::Append { dir, seed, text }) => {
            let a = if text {
                let files = transcript_files(&dir)?;
                anyhow::ensure!(!files.is_empty(), "{}: no transcripts", dir.display());
                let path = &files[(seed % files.len() as u64) as usize];
                append_transcript_line(path, &AppendKind::Text(format!("Checked ({seed}).")))?
            } else {
                append_one_transcript_line(&dir, seed)?
            };
            let v = serde_json::json!({
                "path": a.path.display().to_string(),
                "session": a.session,
                "agent_id": a.agent_id,
                "timestamp": a.timestamp,
                "bytes": a.bytes,
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        None => {}
    }
    let Some(out) = cli.out.clone() else {
        use clap::CommandFactory;
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "--out DIR is required (the folder to write the corpus into)",
            )
            .exit();
    };
    let mut spec = CorpusSpec::new(cli.sessions, cli.seed);
    spec.transcripts = match cli.transcripts {
        Transcripts::None => TranscriptSize::None,
        Transcripts::Small => TranscriptSize::Small,
        Transcripts::Realistic => TranscriptSize::Realistic {
            target_total_bytes: cli.transcript_bytes,
        },
    };
    if let Some(p) = cli.projects {
        spec.projects = p;
    }
    spec.agents = parse_agents(&cli.agents)?;
    let started = Instant::now();
    let (stats, by_agent) = if spec.claude_only() {
        (generate(&out, &spec)?, None)
    } else {
        let home = generate_home(&out, &spec)?;
        (home.total, Some(home.agents))
    };
    let elapsed = started.elapsed();
    if cli.json {
        let mut v = serde_json::to_value(stats)?;
        v["projects"] = spec.projects.into();
        v["elapsed_ms"] = (elapsed.as_millis() as u64).into();
        v["out"] = out.display().to_string().into();
        if let Some(by_agent) = &by_agent {
            v["agents"] = serde_json::to_value(by_agent)?;
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("out               {}", out.display());
        println!("sessions          {}", stats.sessions);
        if let Some(by_agent) = &by_agent {
            for (agent, s) in by_agent {
                println!("  {agent:<15} {}", agent_line(s));
            }
        }
        println!("projects          {}", spec.projects);
        println!("files             {}", stats.files);
        println!(
            "todo_files        {} ({} empty)",
            stats.todo_files, stats.empty_todo_files
        );
        println!("task_files        {}", stats.task_files);
        println!("transcripts       {}", stats.transcripts);
        println!("raw_todos         {}", stats.raw_todos);
        println!("bytes             {} ({})", stats.bytes, human(stats.bytes));
        println!(
            "transcript_bytes  {} ({})",
            stats.transcript_bytes,
            human(stats.transcript_bytes)
        );
        println!("elapsed           {:.2} s", elapsed.as_secs_f64());
    }
    Ok(())
}

/// One agent's share: sessions, files and bytes.
fn agent_line(s: &CorpusStats) -> String {
    format!(
        "{} sessions, {} files, {}",
        s.sessions,
        s.files,
        human(s.bytes)
    )
}

fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}
