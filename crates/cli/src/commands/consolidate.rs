//! `chittysync consolidate`

use crate::context::Context;
use crate::output::{print_json, print_warning, BOLD};
use anyhow::{Context as _, Result};
use chittysync_engine::Engine;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// How many warnings to show without `--verbose`.
const WARNINGS_SHOWN: usize = 20;

pub fn run(ctx: &Context, full: bool, json: bool) -> Result<()> {
    // A running daemon watches every file already: asked, it answers
    // without a scan. `--full` reads everything again, so it never asks.
    if !full {
        if let Some(answer) = chittysync_daemon::control::ask(&ctx.locations.home) {
            return print_answer(ctx, &answer, json);
        }
    }
    let mut engine = ctx.engine()?;
    engine.runs_once();
    let bar = progress_bar(&mut engine);
    let report = engine.consolidate(full);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report.with_context(|| {
        format!(
            "cannot consolidate into chittysync's home {}",
            ctx.locations.home.display()
        )
    })?;
    let shown = if ctx.verbose {
        report.warnings.len()
    } else {
        WARNINGS_SHOWN
    };
    for warning in report.warnings.iter().take(shown) {
        print_warning(&warning.to_string());
    }
    if report.warnings.len() > shown {
        print_warning(&format!(
            "… and {} more (--verbose shows all)",
            report.warnings.len() - shown
        ));
    }
    if json {
        return print_json(&report.summary);
    }
    let s = &report.summary;
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "{BOLD}{}{BOLD:#} todos in {} projects from {} sessions, {} conflicts",
        s.unique_todos, s.projects, s.sessions, s.conflicts
    )?;
    writeln!(
        out,
        "files: {} scanned, {} changed, {} skipped · {} new observations · {} ms",
        s.files_scanned, s.files_changed, s.files_skipped, s.observations, s.elapsed_ms
    )?;
    if report.outputs_written {
        writeln!(out, "wrote {}", engine.outputs().todos.display())?;
    }
    Ok(())
}

/// Prints the daemon's answer as a run of our own is printed.
fn print_answer(ctx: &Context, answer: &serde_json::Value, json: bool) -> Result<()> {
    let warnings = answer["warnings"].as_array().cloned().unwrap_or_default();
    let shown = if ctx.verbose {
        warnings.len()
    } else {
        WARNINGS_SHOWN
    };
    for warning in warnings.iter().take(shown) {
        print_warning(warning.as_str().unwrap_or_default());
    }
    let s = &answer["summary"];
    if json {
        return print_json(s);
    }
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "{BOLD}{}{BOLD:#} todos in {} projects from {} sessions, {} conflicts",
        s["unique_todos"], s["projects"], s["sessions"], s["conflicts"]
    )?;
    writeln!(
        out,
        "answered by the running daemon, which watches the files · {} new observations · {} ms",
        s["observations"], s["elapsed_ms"]
    )?;
    if answer["outputs_written"] == true {
        writeln!(
            out,
            "wrote {}",
            ctx.locations.home.join("todos.json").display()
        )?;
    }
    Ok(())
}

/// A progress bar on stderr for a long run — one that reads its changed
/// files in more than one step (docs/ARCHITECTURE.md, "How a cold run is
/// stored") — and nothing at all when stderr is not a terminal.
fn progress_bar(engine: &mut Engine) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos}/{len} files [{elapsed}]")
            .expect("a valid template"),
    );
    let feed = bar.clone();
    engine.on_progress(move |done, total| {
        if feed.length().is_none() {
            if done == total {
                return; // Read in one step: not a long run.
            }
            feed.set_length(total);
            feed.set_message("reading");
            feed.enable_steady_tick(Duration::from_millis(120));
        }
        feed.set_position(done);
        if done == total {
            feed.set_message("folding and storing");
        }
    });
    Some(bar)
}
