//! Consolidation speed on a generated Claude Code folder.
//!
//! `cargo bench -p chittysync-engine --bench consolidate` (a plain `harness =
//! false` bench: each case runs several times in a fresh home and reports the
//! median). Environment: `BENCH_SESSIONS` (default 20000), `BENCH_TRANSCRIPTS`
//! (`none`, `small` — the default — or a size such as `1G` for realistic
//! transcripts), `BENCH_RUNS` (default 7). The corpus is generated once into
//! `target/bench-corpus/` (or `BENCH_CORPUS_DIR`) and reused.
//!
//! With `BENCH_AGENTS` (e.g. `claude,codex,gemini,qwen,opencode`, or `all`)
//! it measures instead a cold consolidation of a home whose `BENCH_SESSIONS`
//! sessions are spread across those agents against a home of as many Claude
//! Code sessions, alternating the two in the same run, and reports the ratio;
//! then an unchanged re-run over the mixed home, which must read no file.

use chittysync_config::{Config, Locations};
use chittysync_core::{fold, Observation, Source, Timestamp};
use chittysync_corpus::{
    append_one_transcript_line, generate, generate_home, parse_agents, parse_size, todo_files,
    touch_one_todo_file, transcript_files, Agent, CorpusSpec, TranscriptSize,
};
use chittysync_engine::Engine;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// CPU time of this process so far (user + system, all threads). On a shared,
/// loaded machine it varies far less than wall time.
#[allow(unsafe_code)]
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Wall and CPU time of one call.
fn timed<T>(samples: &mut Vec<(Duration, Duration)>, f: impl FnOnce() -> T) -> T {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let out = f();
    samples.push((wall.elapsed(), cpu_time() - cpu));
    out
}

/// "median wall (median CPU)".
fn report(samples: &[(Duration, Duration)]) -> String {
    let wall = median(samples.iter().map(|s| s.0).collect());
    let cpu = median(samples.iter().map(|s| s.1).collect());
    format!("{} | {}", ms(wall), ms(cpu))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn engine(claude: &Path, home: &Path) -> Engine {
    let locations = Locations {
        claude_dir: claude.to_path_buf(),
        agents_home: None,
        home: home.to_path_buf(),
        config: None,
    };
    Engine::open(&locations, &Config::default()).expect("open engine")
}

/// An engine on a home holding each agent's folder (found under `agents_home`).
fn home_engine(root: &Path, home: &Path) -> Engine {
    let locations = Locations {
        claude_dir: root.join(".claude"),
        agents_home: Some(root.to_path_buf()),
        home: home.to_path_buf(),
        config: None,
    };
    Engine::open(&locations, &Config::default()).expect("open engine")
}

/// A home generated once into `dir` (reused when complete).
fn home_corpus(dir: &Path, spec: &CorpusSpec) {
    let complete = dir.join(".complete");
    if complete.exists() {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    let started = Instant::now();
    let stats = generate_home(dir, spec).expect("generate home");
    eprintln!(
        "generated {} ({} sessions, {} files, {} MB) in {:.1} s",
        dir.display(),
        stats.total.sessions,
        stats.total.files,
        stats.total.bytes / 1_000_000,
        started.elapsed().as_secs_f64()
    );
    for (agent, s) in &stats.agents {
        eprintln!(
            "  {agent}: {} sessions, {} files, {} MB",
            s.sessions,
            s.files,
            s.bytes / 1_000_000
        );
    }
    std::fs::write(&complete, "").expect("mark the corpus complete");
}

/// Cold consolidation of a home of every agent against one of Claude Code
/// alone, the same number of sessions, in the same run.
fn mixed_vs_claude(
    corpus_root: &Path,
    sessions: usize,
    transcripts: TranscriptSize,
    transcripts_arg: &str,
    agents: Vec<Agent>,
    runs: usize,
) {
    let names: Vec<&str> = agents.iter().map(|a| a.as_str()).collect();
    let claude_root = corpus_root.join(format!("home-claude-{sessions}-{transcripts_arg}"));
    let mixed_root = corpus_root.join(format!(
        "home-{}-{sessions}-{transcripts_arg}",
        names.join("+")
    ));
    let spec = CorpusSpec::new(sessions, 1).with_transcripts(transcripts);
    home_corpus(&claude_root, &spec.clone().with_agents(vec![Agent::Claude]));
    home_corpus(&mixed_root, &spec.with_agents(agents));

    let mut claude_cold = Vec::new();
    let mut mixed_cold = Vec::new();
    let mut mixed_unchanged = Vec::new();
    let mut summaries = (None, None);
    for run in 0..runs {
        // Alternate which goes first, so neither always meets a warmer cache.
        for first in [run % 2 == 0, run % 2 != 0] {
            let home = tempfile::tempdir().expect("temp home");
            if first {
                let mut engine = home_engine(&claude_root, home.path());
                let report =
                    timed(&mut claude_cold, || engine.consolidate(false)).expect("cold claude");
                summaries.0.get_or_insert(report.summary);
            } else {
                let mut engine = home_engine(&mixed_root, home.path());
                let report =
                    timed(&mut mixed_cold, || engine.consolidate(false)).expect("cold mixed");
                assert!(report.warnings.is_empty(), "{:?}", report.warnings);
                summaries.1.get_or_insert(report.summary);
                let report = timed(&mut mixed_unchanged, || engine.consolidate(false))
                    .expect("re-run mixed");
                assert_eq!(
                    report.summary.files_changed, 0,
                    "nothing changed in the mixed home, nothing read"
                );
            }
        }
    }
    let (c, m) = (summaries.0.expect("a run"), summaries.1.expect("a run"));
    for (name, s) in [("claude only", &c), (names.join(",").as_str(), &m)] {
        println!(
            "{name}: {sessions} sessions, transcripts {transcripts_arg}: {} files, {} observations, {} unique todos, {} projects, {} sessions, {} conflicts",
            s.files_scanned, s.observations, s.unique_todos, s.projects, s.sessions, s.conflicts
        );
    }
    let wall = |v: &[(Duration, Duration)]| median(v.iter().map(|s| s.0).collect());
    let cpu = |v: &[(Duration, Duration)]| median(v.iter().map(|s| s.1).collect());
    println!("| case | median wall of {runs} | median CPU |");
    println!("|---|---|---|");
    println!(
        "| cold, {sessions} Claude Code sessions | {} |",
        report(&claude_cold)
    );
    println!(
        "| cold, {sessions} sessions across {} | {} |",
        names.join(", "),
        report(&mixed_cold)
    );
    println!(
        "| ratio mixed / Claude only | {:.2}× | {:.2}× |",
        wall(&mixed_cold).as_secs_f64() / wall(&claude_cold).as_secs_f64(),
        cpu(&mixed_cold).as_secs_f64() / cpu(&claude_cold).as_secs_f64()
    );
    println!(
        "| re-run of the mixed home, nothing changed (files_changed = 0) | {} |",
        report(&mixed_unchanged)
    );
    let per_obs = |v: &[(Duration, Duration)], n: u64| cpu(v).as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "CPU per observation stored: Claude only {:.1} µs, mixed {:.1} µs; per file read: {:.0} µs, {:.0} µs",
        per_obs(&claude_cold, c.observations),
        per_obs(&mixed_cold, m.observations),
        per_obs(&claude_cold, c.files_changed),
        per_obs(&mixed_cold, m.files_changed)
    );
    if std::env::var_os("BENCH_PER_AGENT").is_some() {
        // Each agent alone, with its share of the sessions: where the time goes.
        let share = sessions / names.len();
        println!("| each agent alone, {share} sessions | median wall of {runs} | median CPU | files | observations |");
        println!("|---|---|---|---|---|");
        for name in &names {
            let agent = Agent::parse(name).expect("an agent");
            let root = corpus_root.join(format!("home-{name}-{share}-{transcripts_arg}"));
            home_corpus(
                &root,
                &CorpusSpec::new(share, 1)
                    .with_transcripts(transcripts)
                    .with_agents(vec![agent]),
            );
            let mut cold = Vec::new();
            let mut summary = None;
            for _ in 0..runs {
                let home = tempfile::tempdir().expect("temp home");
                let mut engine = home_engine(&root, home.path());
                let r = timed(&mut cold, || engine.consolidate(false)).expect("cold");
                summary.get_or_insert(r.summary);
            }
            let s = summary.expect("a run");
            println!(
                "| {name} | {} | {} | {} |",
                report(&cold),
                s.files_changed,
                s.observations
            );
        }
    }
}

/// The floor to beat: read and parse every todo file on every run and fold in memory.
fn naive(claude: &Path) -> usize {
    let mut observations = Vec::new();
    for path in todo_files(claude).expect("list todo files") {
        let bytes = std::fs::read(&path).expect("read");
        let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(&bytes) else {
            continue;
        };
        let session = path.file_stem().unwrap().to_string_lossy().to_string();
        for item in items {
            if let (Some(content), Some(status)) =
                (item["content"].as_str(), item["status"].as_str())
            {
                observations.push(Observation::new(
                    "general",
                    content.to_string(),
                    None,
                    status.parse().unwrap_or(chittysync_core::Status::Pending),
                    session.clone(),
                    Some(session.clone()),
                    "bench",
                    Source::File,
                    Timestamp(0),
                ));
            }
        }
    }
    fold(&observations).len()
}

/// Every file under `dir` (the corpus's marker aside): what a cold run reads.
fn every_file(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("list corpus").flatten() {
        let path = entry.path();
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            every_file(&path, out);
        } else if kind.is_file() && entry.file_name() != ".complete" {
            out.push(path);
        }
    }
}

/// Issue 13's transcript baseline: the real `cat` of every file a cold run
/// reads, to /dev/null (512 files to a process).
fn cat(files: &[PathBuf]) {
    for batch in files.chunks(512) {
        let status = std::process::Command::new("cat")
            .args(batch)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run cat");
        assert!(status.success(), "cat failed");
    }
}

/// Reads every transcript and returns the bytes read: the floor (what `cat` does).
fn read_transcripts(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .map(|f| std::fs::read(f).expect("read transcript").len() as u64)
        .sum()
}

/// What a reader that parses every line as JSON would pay.
fn parse_every_line(files: &[PathBuf]) -> usize {
    let mut lines = 0;
    for f in files {
        let bytes = std::fs::read(f).expect("read transcript");
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if serde_json::from_slice::<serde_json::Value>(line).is_ok() {
                lines += 1;
            }
        }
    }
    lines
}

fn mb_per_s(bytes: u64, d: Duration) -> String {
    format!("{:.0} MB/s", bytes as f64 / 1e6 / d.as_secs_f64())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sessions: usize = env_or("BENCH_SESSIONS", "20000")
        .parse()
        .expect("BENCH_SESSIONS");
    let transcripts_arg = env_or("BENCH_TRANSCRIPTS", "small");
    let transcripts = match transcripts_arg.as_str() {
        "none" => TranscriptSize::None,
        "small" => TranscriptSize::Small,
        size => TranscriptSize::Realistic {
            target_total_bytes: parse_size(size).expect("BENCH_TRANSCRIPTS size"),
        },
    };
    let runs: usize = env_or("BENCH_RUNS", "7").parse().expect("BENCH_RUNS");

    let root = std::env::var_os("BENCH_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-corpus")
        });
    if let Ok(agents) = std::env::var("BENCH_AGENTS") {
        let agents = parse_agents(&agents).expect("BENCH_AGENTS");
        mixed_vs_claude(&root, sessions, transcripts, &transcripts_arg, agents, runs);
        return;
    }
    let claude = root.join(format!("{sessions}-{transcripts_arg}"));
    // A marker written last, so a generation cut short is never reused.
    let complete = claude.join(".complete");
    if !complete.exists() {
        let _ = std::fs::remove_dir_all(&claude);
        let started = Instant::now();
        let stats = generate(
            &claude,
            &CorpusSpec::new(sessions, 1).with_transcripts(transcripts),
        )
        .expect("generate corpus");
        eprintln!(
            "generated {} sessions: {} todo files ({} empty), {} raw todos, {} transcripts ({} MB) in {:.1} s",
            stats.sessions,
            stats.todo_files,
            stats.empty_todo_files,
            stats.raw_todos,
            stats.transcripts,
            stats.transcript_bytes / 1_000_000,
            started.elapsed().as_secs_f64()
        );
        std::fs::write(&complete, "").expect("mark the corpus complete");
    }

    let mut cold = Vec::new();
    let mut unchanged = Vec::new();
    let mut one_file = Vec::new();
    let mut one_line = Vec::new();
    let mut one_file_named = Vec::new();
    let mut one_line_named = Vec::new();
    let mut asked = Vec::new();
    let mut cat_runs = Vec::new();
    let mut every = Vec::new();
    every_file(&claude, &mut every);
    let every_bytes: u64 = every
        .iter()
        .map(|f| f.metadata().expect("stat").len())
        .sum();
    let mut summary = None;
    for run in 0..runs {
        // `cat` of the same bytes just before each cold run: one load for both.
        timed(&mut cat_runs, || cat(&every));
        let home = tempfile::tempdir().expect("temp home");
        // What `chittysync consolidate` does with no daemon to ask: a new
        // process each time, opening the engine (timed), which runs once.
        let command = || {
            let mut engine = engine(&claude, home.path());
            engine.runs_once();
            engine
        };
        let report = timed(&mut cold, || command().consolidate(false)).expect("cold consolidate");
        summary.get_or_insert(report.summary);

        let report = timed(&mut unchanged, || command().consolidate(false)).expect("re-run");
        assert_eq!(
            report.summary.files_changed, 0,
            "nothing changed, nothing read"
        );

        touch_one_todo_file(&claude, run as u64).expect("touch a todo file");
        let report =
            timed(&mut one_file, || command().consolidate(false)).expect("one changed file");
        assert!(report.summary.files_changed >= 1);

        if transcripts != TranscriptSize::None {
            append_one_transcript_line(&claude, run as u64).expect("append a line");
            timed(&mut one_line, || command().consolidate(false)).expect("one appended line");
        }

        // A long-lived engine (the daemon), its outputs rendered in memory.
        let mut engine = engine(&claude, home.path());
        engine.write_outputs().expect("render the outputs");

        // The daemon's way: the watcher names the file, outputs stay rendered.
        let touched = touch_one_todo_file(&claude, 1000 + run as u64).expect("touch a todo file");
        let report = timed(&mut one_file_named, || {
            engine.consolidate_paths(std::slice::from_ref(&touched.path))
        })
        .expect("one named file");
        assert!(report.outputs_written);
        if transcripts != TranscriptSize::None {
            let appended =
                append_one_transcript_line(&claude, 1000 + run as u64).expect("append a line");
            let report = timed(&mut one_line_named, || {
                engine.consolidate_paths(std::slice::from_ref(&appended.path))
            })
            .expect("one named transcript");
            assert!(report.outputs_written);
        }
        // What a running daemon answers `chittysync consolidate` with
        // (crates/daemon/src/control.rs): a consolidation of no path.
        let report = timed(&mut asked, || engine.consolidate_paths(&[])).expect("asked");
        assert_eq!(report.summary.files_scanned, 0);
    }
    let mut naive_runs = Vec::new();
    for _ in 0..runs.min(3) {
        timed(&mut naive_runs, || naive(&claude));
    }

    let transcript_list = transcript_files(&claude).expect("list transcripts");
    let mut floor = Vec::new();
    let mut transcript_bytes = 0;
    if !transcript_list.is_empty() {
        for _ in 0..runs.min(3) {
            let t = Instant::now();
            transcript_bytes = read_transcripts(&transcript_list);
            floor.push(t.elapsed());
        }
    }

    let s = summary.expect("at least one run");
    println!(
        "corpus: {sessions} sessions, transcripts {transcripts_arg}: {} files, {} observations, {} unique todos, {} projects, {} conflicts",
        s.files_scanned, s.observations, s.unique_todos, s.projects, s.conflicts
    );
    println!("| case | median wall of {runs} | median CPU |");
    println!("|---|---|---|");
    println!("| cold consolidate (new engine) | {} |", report(&cold));
    println!(
        "| re-run, nothing changed (new engine) | {} |",
        report(&unchanged)
    );
    println!(
        "| one changed todo file (new engine) | {} |",
        report(&one_file)
    );
    if !one_line.is_empty() {
        println!(
            "| one line appended to one transcript (new engine) | {} |",
            report(&one_line)
        );
    }
    println!(
        "| one changed todo file, named by the watcher (daemon) | {} |",
        report(&one_file_named)
    );
    if !one_line_named.is_empty() {
        println!(
            "| one line appended to one transcript, named by the watcher (daemon) | {} |",
            report(&one_line_named)
        );
    }
    println!(
        "| nothing changed, asked of a running daemon (no file stat'ed) | {} |",
        report(&asked)
    );
    println!(
        "| naive: parse every todo file, fold in memory | {} |",
        report(&naive_runs)
    );
    // Issue 13's figures: each case's CPU as a ratio to the naive reader's.
    let naive_cpu = median(naive_runs.iter().map(|s| s.1).collect()).as_secs_f64();
    let cpu_ratio = |samples: &[(Duration, Duration)]| {
        median(samples.iter().map(|s| s.1).collect()).as_secs_f64() / naive_cpu
    };
    println!(
        "| ratio to the naive reader (CPU): cold {:.3}×, nothing changed {:.3}×, one changed file {:.3}× |",
        cpu_ratio(&cold),
        cpu_ratio(&unchanged),
        cpu_ratio(&one_file)
    );
    let cat_wall = median(cat_runs.iter().map(|s| s.0).collect());
    let ratio = |samples: &[(Duration, Duration)], to: Duration| {
        median(samples.iter().map(|s| s.0).collect()).as_secs_f64() / to.as_secs_f64()
    };
    println!(
        "| `cat` of every file a cold run reads ({} files, {} MB), before each cold run | {} (wall) |",
        every.len(),
        every_bytes / 1_000_000,
        ms(cat_wall)
    );
    println!(
        "| cold consolidate ÷ `cat` (wall, medians) | {:.1}× |",
        ratio(&cold, cat_wall)
    );
    if !one_line.is_empty() {
        let cold_wall = median(cold.iter().map(|s| s.0).collect());
        println!(
            "| one appended line ÷ cold consolidate (wall, medians) | {:.3} |",
            ratio(&one_line, cold_wall)
        );
    }
    if !floor.is_empty() {
        let floor = median(floor);
        println!(
            "| floor: read every transcript ({} MB, like `cat`) | {} ({}) |",
            transcript_bytes / 1_000_000,
            ms(floor),
            mb_per_s(transcript_bytes, floor)
        );
        let t = Instant::now();
        parse_every_line(&transcript_list);
        let full = t.elapsed();
        println!(
            "| a full JSON parse of every transcript line (one run) | {} ({}) |",
            ms(full),
            mb_per_s(transcript_bytes, full)
        );
    }
}
