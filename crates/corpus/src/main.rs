//! `chittysync-corpus`: writes a synthetic Claude Code home for benchmarks.

use anyhow::Result;
use chittysync_corpus::{generate, parse_size, CorpusSpec, TranscriptSize};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Transcripts {
    /// No transcripts (todo and task files only).
    None,
    /// A few KB per session.
    Small,
    /// Heavy-tailed sizes adding up to --transcript-bytes.
    Realistic,
}

/// Writes a deterministic synthetic Claude Code home (todos/, tasks/, projects/)
/// into an empty folder and prints what it wrote.
#[derive(Debug, Parser)]
#[command(name = "chittysync-corpus", version)]
struct Cli {
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
    /// Output folder (must be missing or empty).
    #[arg(long)]
    out: PathBuf,
    /// Print the stats as JSON.
    #[arg(long)]
    json: bool,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("chittysync-corpus: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
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
    let started = Instant::now();
    let stats = generate(&cli.out, &spec)?;
    let elapsed = started.elapsed();
    if cli.json {
        let mut v = serde_json::to_value(stats)?;
        v["projects"] = spec.projects.into();
        v["elapsed_ms"] = (elapsed.as_millis() as u64).into();
        v["out"] = cli.out.display().to_string().into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("out               {}", cli.out.display());
        println!("sessions          {}", stats.sessions);
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
