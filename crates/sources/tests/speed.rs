//! Throughput checks, ignored by default (they write a large file). Run with
//! `cargo test --release -p chittysync-sources --test speed -- --ignored --nocapture`.

mod common;

use chittysync_sources::{discover, read_transcript, ReadPosition};
use common::*;
use serde_json::json;
use std::fs;
use std::io::{BufWriter, Write};
use std::time::Instant;

/// A realistic mix: most bytes are large tool results (file contents, escaped
/// twice: in the message and in `toolUseResult`), some assistant text and
/// calls, and now and then a plan. `SPEED_MB` sets the size (default 1024),
/// `SPEED_CODE_LINES` the size of a tool result (default 400 lines, ~40 KB a line).
#[test]
#[ignore]
fn transcript_throughput() {
    let target: usize = std::env::var("SPEED_MB").map_or(1024, |v| v.parse().unwrap()) << 20;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.jsonl");
    let code_lines: usize = std::env::var("SPEED_CODE_LINES").map_or(400, |v| v.parse().unwrap());
    let code: String = (0..code_lines)
        .map(|i| format!("    {i:>4}→    let x = \"value\\{i}\"; // a \"quoted\" comment\t\n"))
        .collect();
    let mut out = BufWriter::new(fs::File::create(&path).unwrap());
    let (mut written, mut second, mut plans) = (0, 0u32, 0);
    while written < target {
        second = (second + 1) % 60;
        let line = match second % 20 {
            0 => {
                plans += 1;
                todo_write(
                    second,
                    json!([{"content": "step", "status": "in_progress", "activeForm": "Stepping"}]),
                )
            }
            1..=4 => assistant_calls(
                second,
                &[("toolu_r", "Read", json!({"file_path": "/src/lib.rs"}))],
            ),
            _ => tool_result(
                second,
                "toolu_r",
                &code,
                json!({"type": "text", "file": {"filePath": "/src/lib.rs", "content": code, "numLines": code_lines}}),
            ),
        };
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
        written += line.len() + 1;
    }
    out.into_inner().unwrap().sync_all().unwrap();

    read_transcript(&path, &ReadPosition::default(), 16 << 20).unwrap(); // warm the page cache
    let start = Instant::now();
    let chunk = read_transcript(&path, &ReadPosition::default(), 16 << 20).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(chunk.events.len(), plans);
    let mb = written as f64 / (1 << 20) as f64;
    println!(
        "{mb:.0} MiB, {} lines, {plans} plans: {elapsed:?} ({:.0} MiB/s)",
        chunk.end.line,
        mb / elapsed.as_secs_f64()
    );
}

#[test]
#[ignore]
fn discovery_of_40k_files() {
    let tmp = tempfile::tempdir().unwrap();
    let claude = tmp.path();
    fs::create_dir_all(claude.join("todos")).unwrap();
    for i in 0..20_000 {
        fs::write(claude.join(format!("todos/s{i}-agent-s{i}.json")), b"[]").unwrap();
    }
    for folder in 0..100 {
        let dir = claude.join(format!("projects/-home-me-p{folder}"));
        fs::create_dir_all(&dir).unwrap();
        for i in 0..200 {
            fs::write(dir.join(format!("s{i}.jsonl")), b"{}\n").unwrap();
        }
    }
    discover(claude);
    let start = Instant::now();
    let found = discover(claude);
    let elapsed = start.elapsed();
    assert_eq!(found.files.len(), 40_000);
    println!("discovered 40,000 files in {elapsed:?}");
}
