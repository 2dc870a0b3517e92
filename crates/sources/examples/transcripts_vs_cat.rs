//! The transcript reader against `cat` of the same bytes, in one run
//! (docs/BENCHMARKS.md, "Transcripts (issue 13)").
//!
//! usage: `transcripts_vs_cat <claude dir> [runs]`
//!
//! Lists every `*.jsonl` under `<claude dir>/projects` (sessions and
//! sub-agents), then, `runs` times each, alternating so a change of load hits
//! all alike: `cat` of every file to `/dev/null` (the real program, the files
//! as its arguments, 512 at a time), the same bytes read in this process
//! (`std::fs::read`, one thread), and [`read_transcript`] of every file from
//! its start, on one thread and on every core (one file at a time per thread,
//! as a cold consolidation reads them). Prints the medians and each as a ratio
//! to `cat`. Uses nothing but `read_transcript` of the crate, so the same file
//! builds against older versions of it (to bisect).

use chittysync_sources::{read_transcript, ReadPosition};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest line read (the engine's default `max_file_bytes`).
const MAX_LINE: u64 = 256 << 20;

fn transcripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => transcripts(&path, out),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "jsonl") => {
                out.push(path)
            }
            _ => {}
        }
    }
}

fn cat(files: &[PathBuf]) {
    for batch in files.chunks(512) {
        let status = Command::new("cat")
            .args(batch)
            .stdout(Stdio::null())
            .status()
            .expect("run cat");
        assert!(status.success(), "cat failed");
    }
}

fn read_bytes(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .map(|f| std::fs::read(f).expect("read").len() as u64)
        .sum()
}

/// Plan events found; every file read from its start.
fn scan(files: &[PathBuf], threads: usize) -> usize {
    let next = AtomicUsize::new(0);
    let events = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let chunk =
                    read_transcript(file, &ReadPosition::default(), MAX_LINE).expect("read");
                events.fetch_add(chunk.events.len(), Ordering::Relaxed);
            });
        }
    });
    events.into_inner()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: transcripts_vs_cat <claude dir> [runs]"),
    );
    let runs: usize = args.next().map_or(5, |r| r.parse().expect("runs"));
    let mut files = Vec::new();
    transcripts(&dir.join("projects"), &mut files);
    files.sort();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Warm the page cache: every figure is of cached bytes, as `cat`'s is.
    let bytes = read_bytes(&files);
    let (mut c, mut r, mut one, mut all) = (vec![], vec![], vec![], vec![]);
    let mut events = 0;
    for _ in 0..runs {
        let t = Instant::now();
        cat(&files);
        c.push(t.elapsed());
        let t = Instant::now();
        read_bytes(&files);
        r.push(t.elapsed());
        let t = Instant::now();
        events = scan(&files, 1);
        one.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(scan(&files, cores), events);
        all.push(t.elapsed());
    }
    let c = median(c);
    let show = |what: &str, d: Duration| {
        println!(
            "| {what} | {:.1} ms | {:.0} MB/s | {:.2}× |",
            d.as_secs_f64() * 1e3,
            bytes as f64 / 1e6 / d.as_secs_f64(),
            d.as_secs_f64() / c.as_secs_f64()
        );
    };
    println!(
        "{} transcripts, {} MB, {events} plan events; medians of {runs} runs",
        files.len(),
        bytes / 1_000_000
    );
    println!("| what | wall | rate | to `cat` |");
    println!("|---|---|---|---|");
    show("`cat` of every transcript to /dev/null", c);
    show("the same bytes read in-process (one thread)", median(r));
    show("read_transcript of every file, one thread", median(one));
    show(
        &format!("read_transcript of every file, {cores} threads"),
        median(all),
    );
}
