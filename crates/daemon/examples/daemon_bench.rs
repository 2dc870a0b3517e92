//! Latency of the hooks and of the daemon, on a large Claude folder.
//!
//! ```text
//! cargo build --release -p chittysync -p chittysync-corpus
//! target/release/chittysync-corpus --sessions 20000 --out /tmp/claude20k
//! cargo run --release -p chittysync-daemon --example daemon_bench -- \
//!     target/release/chittysync /tmp/claude20k [samples]
//! ```
//!
//! It consolidates the folder into a fresh home (the store then holds every
//! session), then measures, as Claude Code sees them, whole `hook` processes
//! (spawn, store, exit) and, with the daemon running, the time from a todo
//! file renamed into `todos/` to `todos.json` listing it. Writes only inside
//! the Claude folder's `todos/` (files named `bench-*`, removed at the end)
//! and a temporary home.

use notify::{RecursiveMode, Watcher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: daemon_bench <chittysync binary> <claude dir> [samples]");
        std::process::exit(2);
    }
    let bench = Bench {
        bin: PathBuf::from(&args[1]),
        claude: PathBuf::from(&args[2]),
        home: tempfile::tempdir().expect("temp home"),
    };
    let samples: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);

    let started = Instant::now();
    bench.run(&["consolidate"]);
    let sessions = bench.sessions();
    println!(
        "store filled: {sessions} sessions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let cwd = bench.busiest_cwd();

    bench.hooks("no daemon running", &cwd, samples);
    let _daemon = bench.start_daemon();
    bench.hooks("daemon running", &cwd, samples);
    let end_to_end = bench.end_to_end(samples.min(50));
    report(
        "todo file renamed → todos.json lists it",
        end_to_end,
        &[50, 99],
    );
    report(
        "of which the daemon's consolidation (elapsed_ms in its log)",
        bench.logged_consolidations(),
        &[50, 99],
    );
}

struct Bench {
    bin: PathBuf,
    claude: PathBuf,
    home: tempfile::TempDir,
}

impl Bench {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--claude-dir")
            .arg(&self.claude)
            .arg("--home")
            .arg(self.home.path())
            .env_remove("CHITTYSYNC_CONFIG");
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run chittysync");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn sessions(&self) -> usize {
        let status: serde_json::Value =
            serde_json::from_str(&self.run(&["status", "--json"])).unwrap();
        status["store"]["sessions"].as_u64().unwrap() as usize
    }

    /// The cwd of the project with the most sessions: the largest context to tell.
    fn busiest_cwd(&self) -> String {
        let sessions: serde_json::Value =
            serde_json::from_str(&self.run(&["sessions", "--json"])).unwrap();
        let mut by_cwd = std::collections::HashMap::<String, usize>::new();
        for s in sessions.as_array().unwrap() {
            if let Some(cwd) = s["cwd"].as_str() {
                *by_cwd.entry(cwd.to_string()).or_default() += 1;
            }
        }
        by_cwd
            .into_iter()
            .max_by_key(|(cwd, n)| (*n, cwd.clone()))
            .map(|(cwd, _)| cwd)
            .unwrap_or_else(|| "/tmp".to_string())
    }

    /// `samples` post-tool-use and session-start hooks in the busiest project.
    fn hooks(&self, label: &str, cwd: &str, samples: usize) {
        let post: Vec<(Duration, Duration)> = (0..samples)
            .map(|i| {
                let payload = serde_json::json!({
                    "session_id": format!("bench-hook-{label}-{}", i % 20), "cwd": cwd,
                    "hook_event_name": "PostToolUse", "tool_name": "TodoWrite",
                    "tool_input": {"todos": [
                        {"content": format!("Bench hook todo {label} {i}"), "status": "in_progress", "activeForm": "Benching"},
                        {"content": "Bench hook shared todo", "status": "pending", "activeForm": "Benching"}]},
                    "tool_response": {}});
                self.hook("post-tool-use", &payload.to_string())
            })
            .collect();
        // Four sessions on each todo in turn: every write but the first of
        // each todo collides, and is warned (docs/COLLISIONS.md).
        let colliding: Vec<(Duration, Duration)> = (0..samples)
            .map(|i| {
                let payload = serde_json::json!({
                    "session_id": format!("bench-collide-{label}-{}", i % 4), "cwd": cwd,
                    "hook_event_name": "PostToolUse", "tool_name": "TodoWrite",
                    "tool_input": {"todos": [
                        {"content": format!("Bench collision {label} {}", i / 4), "status": "in_progress", "activeForm": "Benching"}]},
                    "tool_response": {}});
                self.hook("post-tool-use", &payload.to_string())
            })
            .collect();
        let start: Vec<(Duration, Duration)> = (0..samples)
            .map(|i| {
                let payload = serde_json::json!({
                    "session_id": format!("bench-start-{label}-{i}"), "cwd": cwd,
                    "hook_event_name": "SessionStart", "source": "startup"});
                self.hook("session-start", &payload.to_string())
            })
            .collect();
        for (what, runs) in [
            ("hook post-tool-use (TodoWrite)", post),
            ("hook post-tool-use (TodoWrite, colliding)", colliding),
            ("hook session-start (with context)", start),
        ] {
            let (wall, cpu): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
            report(&format!("{what}, {label}, wall"), wall, &[50, 95]);
            report(&format!("{what}, {label}, CPU"), cpu, &[50, 95]);
        }
    }

    /// How many consolidations the daemon's heartbeat counts.
    fn runs(&self) -> u64 {
        std::fs::read_to_string(self.home.path().join("daemon.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|h| h["counters"]["runs"].as_u64())
            .unwrap_or(0)
    }

    /// The `elapsed_ms` of every consolidation the daemon logged after its start.
    fn logged_consolidations(&self) -> Vec<Duration> {
        let logs = self.home.path().join("logs");
        let mut times = Vec::new();
        for entry in std::fs::read_dir(logs).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            for line in text.lines().filter(|l| l.contains("why=\"change\"")) {
                if let Some(ms) = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("elapsed_ms="))
                    .and_then(|v| v.parse().ok())
                {
                    times.push(Duration::from_millis(ms));
                }
            }
        }
        times
    }

    /// Starts the daemon and waits for its catch-up to end.
    fn start_daemon(&self) -> DaemonGuard {
        let daemon = DaemonGuard(
            self.command()
                .arg("daemon")
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn the daemon"),
        );
        let beat = self.home.path().join("daemon.json");
        wait(|| beat.exists(), "the daemon's first heartbeat");
        daemon
    }

    /// One whole hook process, as Claude Code waits for it: its wall time
    /// and its CPU time (user + sys), which a loaded machine does not inflate.
    fn hook(&self, event: &str, payload: &str) -> (Duration, Duration) {
        let cpu_before = children_cpu();
        let began = Instant::now();
        let mut child = self
            .command()
            .args(["hook", event])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn hook");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(payload.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        (began.elapsed(), children_cpu() - cpu_before)
    }

    /// With the daemon running, times writes until `todos.json` shows each.
    fn end_to_end(&self, samples: usize) -> Vec<Duration> {
        let (tx, rx) = channel();
        let mut watcher = notify::recommended_watcher(tx).unwrap();
        watcher
            .watch(self.home.path(), RecursiveMode::NonRecursive)
            .unwrap();
        let outputs = self.home.path().join("todos.json");
        let todos_dir = self.claude.join("todos");
        let mut times = Vec::with_capacity(samples);
        for i in 0..samples {
            let marker = format!("Bench e2e {}-{i}", std::process::id());
            let file = todos_dir.join(format!("bench-{i}.json"));
            let body =
                serde_json::json!([{"content": marker, "status": "pending", "activeForm": "x"}]);
            while rx.try_recv().is_ok() {}
            let runs_before = self.runs();
            let began = Instant::now();
            write_by_rename(&file, &body.to_string());
            let seen = loop {
                let event = rx
                    .recv_timeout(Duration::from_secs(30))
                    .expect("todos.json never showed the write");
                // Timed at the event (the new file renamed into place), not
                // after reading tens of MB to check it.
                let at = began.elapsed();
                let touches = event.is_ok_and(|e| e.paths.iter().any(|p| p == &outputs));
                if touches && contains(&outputs, &marker) {
                    break at;
                }
            };
            times.push(seen);
            // Let the run finish (the other outputs, the heartbeat) and the
            // burst settle, so each sample is its own.
            wait(|| self.runs() > runs_before, "the end of the daemon's run");
            std::thread::sleep(Duration::from_millis(200));
        }
        for i in 0..samples {
            let _ = std::fs::remove_file(todos_dir.join(format!("bench-{i}.json")));
        }
        times
    }
}

struct DaemonGuard(Child);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_by_rename(path: &Path, content: &str) {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn contains(path: &Path, needle: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle))
}

fn wait(check: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn report(what: &str, mut times: Vec<Duration>, percentiles: &[usize]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let parts: Vec<String> = percentiles
        .iter()
        .map(|p| {
            let index = ((times.len() * p).div_ceil(100)).saturating_sub(1);
            format!("p{p} {:.1} ms", ms(times[index]))
        })
        .collect();
    println!(
        "{what}: {} (n={}, max {:.1} ms)",
        parts.join(", "),
        times.len(),
        ms(*times.last().unwrap())
    );
}

/// CPU time (user + sys) of every child process waited for so far.
#[allow(unsafe_code)]
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}
