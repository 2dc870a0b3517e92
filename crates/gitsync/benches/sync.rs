//! Git sync timings on a remote on this machine (issue 4's budgets):
//! a sync with nothing new (< 50 ms, and no commit) and a sync committing and
//! pushing 1,000 new observations (< 300 ms).
//!
//! `cargo bench -p chittysync-gitsync --bench sync`
//!
//! Besides wall time it reports the process's CPU time (user + system) per
//! sync, which a busy machine inflates far less.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{bare_remote, Device};
use std::time::{Duration, Instant};

/// Observations the device has synced before the measurements start.
const HISTORY: usize = 20_000;
const EMPTY_RUNS: usize = 50;
const THOUSAND_RUNS: usize = 20;

/// This process's CPU time so far.
#[allow(unsafe_code)]
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Runs `sync` and returns its wall and CPU time.
fn measure(mut sync: impl FnMut()) -> (Duration, Duration) {
    let (wall, cpu) = (Instant::now(), cpu_time());
    sync();
    (wall.elapsed(), cpu_time() - cpu)
}

fn summary(name: &str, samples: Vec<(Duration, Duration)>, budget: Duration) {
    let (mut wall, mut cpu): (Vec<Duration>, Vec<Duration>) = samples.into_iter().unzip();
    cpu.sort();
    let cpu_median = cpu[cpu.len() / 2].as_secs_f64() * 1000.0;
    let mut samples = std::mem::take(&mut wall);
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} median {:>7.2} ms  p90 {:>7.2} ms  min {:>7.2} ms  max {:>7.2} ms  cpu median {cpu_median:>7.2} ms  (n={}, budget {} ms: {})",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len(),
        budget.as_millis(),
        if at(0.5) < budget { "ok" } else { "OVER" }
    );
}

fn main() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let mut device = Device::new(root.path(), "laptop", &remote);
    for _ in 0..HISTORY / 5_000 {
        device.observe("api", 2_500);
        device.observe("web", 2_500);
        device.sync.sync_once(&mut device.engine).unwrap();
    }
    println!(
        "history: {} observations synced, {} todos",
        device.observations(),
        device.engine.reader().fold_counts().unwrap().todos
    );

    let empty: Vec<(Duration, Duration)> = (0..EMPTY_RUNS)
        .map(|_| {
            measure(|| {
                let report = device.sync.sync_once(&mut device.engine).unwrap();
                assert!(report.commit.is_none() && !report.pushed, "{report:?}");
            })
        })
        .collect();
    summary(
        "sync, nothing new (fetch, no commit)",
        empty,
        Duration::from_millis(50),
    );

    let thousand: Vec<(Duration, Duration)> = (0..THOUSAND_RUNS)
        .map(|_| {
            device.observe("api", 1_000);
            measure(|| {
                let report = device.sync.sync_once(&mut device.engine).unwrap();
                assert!(report.exported == 1_000 && report.pushed, "{report:?}");
            })
        })
        .collect();
    summary(
        "sync, 1,000 new observations (commit + push)",
        thousand,
        Duration::from_millis(300),
    );
}
