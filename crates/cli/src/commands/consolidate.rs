//! `chittysync consolidate`

use crate::context::Context;
use crate::output::{print_json, print_warning, BOLD};
use anyhow::Result;
use std::io::Write;

/// How many warnings to show without `--verbose`.
const WARNINGS_SHOWN: usize = 20;

pub fn run(ctx: &Context, full: bool, json: bool) -> Result<()> {
    let mut engine = ctx.engine()?;
    let report = engine.consolidate(full)?;
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
