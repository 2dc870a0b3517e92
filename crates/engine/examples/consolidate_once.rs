//! Runs one consolidation: `cargo run --release -p chittysync-engine --example
//! consolidate_once -- CLAUDE_DIR HOME` — for profiling a single run (`perf`).

use chittysync_config::{Config, Locations};
use chittysync_engine::Engine;
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let (Some(claude_dir), Some(home)) = (args.next(), args.next()) else {
        eprintln!("usage: consolidate_once CLAUDE_DIR HOME");
        std::process::exit(2);
    };
    let locations = Locations {
        claude_dir,
        agents_home: None,
        home,
        config: None,
    };
    let mut engine = Engine::open(&locations, &Config::default()).expect("open");
    engine.runs_once();
    let report = engine.consolidate(false).expect("consolidate");
    println!(
        "{}",
        serde_json::to_string(&report.summary).expect("summary")
    );
}
