//! kill -9 at any moment of `consolidate` leaves a store that opens and
//! loses nothing an earlier run stored (finished, or killed after a commit); after one clean run the home equals a clean
//! run's on a fresh home (issue 13; docs/ARCHITECTURE.md, "What is durable
//! when").
//!
//! The real binary runs on a generated Claude Code folder (`crates/corpus`)
//! and is killed with SIGKILL after a delay drawn from a seeded stream: first
//! during cold runs, then during incremental runs after files changed. The
//! test is bounded by counting kills and runs, never by the clock.

mod common;

use chittysync_corpus::rng::RngExt as _;
use chittysync_corpus::{append_one_transcript_line, generate, touch_one_todo_file, CorpusSpec};
use chittysync_store::{Store, Via};
use common::{todo_list, Sandbox};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills wanted in each phase (cold, incremental): at least 50 in all.
const KILLS_PER_PHASE: usize = 26;
/// Kills while todo files are rewritten in place (checked for losses only).
const REWRITE_KILLS: usize = 10;
/// A guard against a run that the kills never reach: the test fails rather
/// than loops when this many runs did not give the kills wanted.
const MAX_RUNS_PER_PHASE: usize = 200;

/// Held by each test for its whole run: kill points are drawn from how long
/// a clean run took when the test began, which another test's runs beside it
/// would skew (a calibration slowed by them makes most kills come too late).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn consolidate(sb: &Sandbox, home: &Path) -> Command {
    let mut cmd = Sandbox::bare_command();
    cmd.arg("--claude-dir")
        .arg(sb.claude())
        .arg("--agents-home")
        .arg(sb.dir.path())
        .arg("--home")
        .arg(home)
        .args(["consolidate", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// One clean run to its end; returns how long it took (to pick kill points).
fn run_clean(sb: &Sandbox, home: &Path) -> Duration {
    let started = Instant::now();
    let out = consolidate(sb, home).output().expect("run consolidate");
    assert!(
        out.status.success(),
        "consolidate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

/// Every observation id the store in `home` holds. Opening it is the first
/// check: a store that does not open after a kill fails here.
fn observation_ids(home: &Path) -> BTreeSet<String> {
    let store = Store::open(&home.join("chittysync.db"))
        .unwrap_or_else(|e| panic!("the store does not open after a kill: {e}"));
    let logged = store
        .observations_after(0, Via::Local, usize::MAX >> 1)
        .expect("read the log");
    assert_eq!(
        logged.len() as u64,
        store.observation_count().expect("count"),
        "every observation here was read on this device"
    );
    logged.into_iter().map(|l| l.observation.id).collect()
}

/// The store's observations after a run killed after `delay` (or ended),
/// which must hold every one in `finished`.
fn kept(home: &Path, finished: &BTreeSet<String>, delay: Duration) -> BTreeSet<String> {
    let held = observation_ids(home);
    assert!(
        held.is_superset(finished),
        "a kill after {delay:?} lost {} observations an earlier run had stored",
        finished.difference(&held).count()
    );
    held
}

/// An output without the time it was written at (the one field two clean
/// runs may differ in).
fn output(home: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(home.join(name))
        .unwrap_or_else(|e| panic!("{name} after the final run: {e}"));
    let mut value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} is not JSON after the final run: {e}"));
    let object = value.as_object_mut().expect("an object");
    for stamp in ["generated_at", "last_updated", "timestamp"] {
        object.remove(stamp);
    }
    value
}

/// Starts a run, kills it after `delay` unless it ended before; returns
/// whether it was killed (else it finished, successfully).
fn run_and_kill(sb: &Sandbox, home: &Path, delay: Duration) -> bool {
    let mut child = consolidate(sb, home).spawn().expect("spawn consolidate");
    std::thread::sleep(delay);
    if let Some(status) = child.try_wait().expect("poll the run") {
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert!(status.success(), "consolidate failed: {stderr}");
        return false;
    }
    child.kill().expect("SIGKILL the run");
    let status = child.wait().expect("reap the run");
    // It may have ended between the poll and the kill.
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(libc::SIGKILL) => true,
        _ => {
            assert!(status.success(), "consolidate failed: {status}");
            false
        }
    }
}

fn fresh_home(path: &Path) {
    if path.exists() {
        std::fs::remove_dir_all(path).unwrap();
    }
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
}

#[test]
fn kill_9_at_random_points_loses_nothing_and_ends_equal_to_a_clean_run() {
    let _alone = one_at_a_time();
    let sb = Sandbox::new();
    std::fs::remove_dir_all(sb.claude()).unwrap();
    generate(&sb.claude(), &CorpusSpec::new(60, 13)).expect("generate a Claude folder");
    let home = sb.home();
    let mut rng = chittysync_corpus::rng::stream(13, 0xC4A5, 0);

    // How long a cold run takes here, to draw kill points across it.
    let calibration = sb.dir.path().join("calibration");
    fresh_home(&calibration);
    let cold = run_clean(&sb, &calibration);
    let delay_within = |rng: &mut chittysync_corpus::rng::Rng, span: Duration| {
        Duration::from_micros(rng.below(span.as_micros() as u64 * 6 / 5 + 1))
    };

    // Cold runs: a kill at any point; when a run finishes, start over cold
    // (what a killed run committed must survive the runs after it).
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let (mut kills, mut runs) = (0, 0);
    while kills < KILLS_PER_PHASE {
        runs += 1;
        assert!(
            runs <= MAX_RUNS_PER_PHASE,
            "only {kills} kills in {runs} cold runs"
        );
        let delay = delay_within(&mut rng, cold);
        let killed = run_and_kill(&sb, &home, delay);
        finished = kept(&home, &finished, delay);
        if killed {
            kills += 1;
        } else {
            assert!(
                !finished.is_empty(),
                "a finished cold run stored the corpus"
            );
            fresh_home(&home);
            finished.clear();
        }
    }

    eprintln!("cold: {kills} kills in {runs} runs (a clean cold run took {cold:?})");

    // Incremental runs: files change between runs, a kill at any point.
    run_clean(&sb, &home);
    let mut finished = observation_ids(&home);
    let (mut kills, mut runs) = (0, 0);
    let mut incremental = cold;
    let mut change = 0u64;
    while kills < KILLS_PER_PHASE {
        runs += 1;
        assert!(
            runs <= MAX_RUNS_PER_PHASE,
            "only {kills} kills in {runs} incremental runs"
        );
        // Changes that keep every fact on disk (lines appended, files
        // added), so a fresh home can end equal to this one; a todo file
        // rewritten in place is checked for losses only (below).
        for _ in 0..4 {
            change += 1;
            append_one_transcript_line(&sb.claude(), change).expect("append a plan write");
            sb.write(
                &format!("todos/crash-{change}-agent-crash-{change}.json"),
                todo_list(&[
                    (&format!("Crash step {change}"), "in_progress"),
                    ("Write the parser", "completed"),
                ]),
            );
        }
        let delay = delay_within(&mut rng, incremental);
        let started = Instant::now();
        let killed = run_and_kill(&sb, &home, delay);
        finished = kept(&home, &finished, delay);
        if killed {
            kills += 1;
        } else {
            incremental = started.elapsed();
        }
    }

    eprintln!("incremental: {kills} kills in {runs} runs");

    // One clean run ends where a clean run on a fresh home does.
    run_clean(&sb, &home);
    let clean = sb.dir.path().join("clean");
    fresh_home(&clean);
    run_clean(&sb, &clean);
    let (ours, theirs) = (observation_ids(&home), observation_ids(&clean));
    assert!(ours.is_superset(&finished));
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{} observations only after the kills, {} only in the clean run",
        ours.difference(&theirs).count(),
        theirs.difference(&ours).count()
    );
    assert_eq!(ours, theirs);
    for name in ["todos.json", "project-coordination.json", "conflicts.json"] {
        assert_eq!(output(&home, name), output(&clean, name), "{name}");
    }

    // Todo files rewritten in place, as Claude Code writes them: what a run
    // stored of a state the file no longer holds must survive the kills.
    let mut finished = observation_ids(&home);
    let mut kills = 0;
    for run in 1..=MAX_RUNS_PER_PHASE {
        if kills == REWRITE_KILLS {
            break;
        }
        assert!(
            run < MAX_RUNS_PER_PHASE,
            "only {kills} kills in {run} runs over rewritten files"
        );
        for _ in 0..4 {
            change += 1;
            touch_one_todo_file(&sb.claude(), change).expect("rewrite a todo file");
        }
        let delay = delay_within(&mut rng, incremental);
        kills += usize::from(run_and_kill(&sb, &home, delay));
        finished = kept(&home, &finished, delay);
    }
    run_clean(&sb, &home);
    assert!(observation_ids(&home).is_superset(&finished));
}

/// A cold run over more files than one reading step into an empty store
/// loads it with a rollback journal instead of the WAL (docs/ARCHITECTURE.md,
/// "How a cold run is stored"). Killed at any point of it, the store opens
/// (a hot journal is rolled back), is in WAL mode again, and the next run
/// ends equal to a clean run on a fresh home.
#[test]
fn kill_9_during_a_cold_bulk_load_leaves_a_store_that_opens_in_wal() {
    // Todo and task files: the load's observations come in one batch at
    // its end, folded from memory.
    kill_9_during_cold_bulk_loads(
        CorpusSpec::new(1_300, 29).with_transcripts(chittysync_corpus::TranscriptSize::None),
        29,
    );
}

#[test]
fn kill_9_during_a_cold_bulk_load_with_transcripts_leaves_a_store_that_opens_in_wal() {
    // With transcripts the load stores as it reads, each next step read on
    // a thread beside the run, and folds the whole log back on another
    // while the run writes the rows (docs/ARCHITECTURE.md, "How a cold run
    // is stored").
    kill_9_during_cold_bulk_loads(CorpusSpec::new(800, 31), 31);
}

/// Kills the real binary at random points of cold runs that are bulk loads
/// of the home `spec` makes: after each kill the store opens, in WAL mode,
/// with no journal left; a clean run at the end equals a clean run on a
/// fresh home.
fn kill_9_during_cold_bulk_loads(spec: CorpusSpec, seed: u64) {
    const KILLS: usize = 12;
    let _alone = one_at_a_time();
    let sb = Sandbox::new();
    std::fs::remove_dir_all(sb.claude()).unwrap();
    let written = generate(&sb.claude(), &spec).expect("generate a Claude folder");
    let files = written.todo_files + written.task_files + written.transcripts;
    assert!(files > 2_048, "{files} files: not a bulk load");
    let home = sb.home();
    let mut rng = chittysync_corpus::rng::stream(seed, 0xB01C, 0);

    let calibration = sb.dir.path().join("calibration");
    fresh_home(&calibration);
    let cold = run_clean(&sb, &calibration);
    let (mut kills, mut runs, mut hot_journals) = (0, 0, 0);
    while kills < KILLS {
        runs += 1;
        assert!(
            runs <= MAX_RUNS_PER_PHASE,
            "only {kills} kills in {runs} runs"
        );
        let delay = Duration::from_micros(rng.below(cold.as_micros() as u64 + 1));
        let killed = run_and_kill(&sb, &home, delay);
        // Killed mid-load: the journal of the load is left for the next open.
        hot_journals += usize::from(home.join("chittysync.db-journal").exists());
        let held = observation_ids(&home);
        assert!(!home.join("chittysync.db-journal").exists());
        let conn = rusqlite::Connection::open(home.join("chittysync.db")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "after a kill at {delay:?}");
        if killed {
            kills += 1;
        } else {
            assert!(!held.is_empty(), "a finished cold run stored the corpus");
            fresh_home(&home);
        }
    }
    eprintln!(
        "cold bulk load: {kills} kills in {runs} runs, {hot_journals} mid-load (a clean run took {cold:?})"
    );
    assert!(hot_journals > 0, "no kill fell within a load");

    run_clean(&sb, &home);
    assert_eq!(observation_ids(&home), observation_ids(&calibration));
    for name in ["todos.json", "project-coordination.json", "conflicts.json"] {
        assert_eq!(output(&home, name), output(&calibration, name), "{name}");
    }
}
