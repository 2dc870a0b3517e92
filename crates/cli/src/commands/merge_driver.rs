//! `chittysync merge-driver %O %A %B %P`: git's merge driver for todos.json.
//!
//! Writes the merged file over %A and exits 0, reporting every conflict it
//! resolved on stderr and in `<home>/conflicts.json` (`merge_conflicts`). A
//! side it cannot read makes it exit 1, so git reports a conflict and nothing
//! is silently lost.

use crate::context::Context;
use crate::output::print_warning;
use anyhow::{Context as _, Result};
use chittysync_core::{Conflict, Timestamp};
use chittysync_engine::write_atomically;
use chittysync_gitsync::merge_files;
use serde_json::Value;
use std::path::Path;

pub fn run(
    ctx: &Context,
    base: &Path,
    ours: &Path,
    theirs: &Path,
    path: Option<&str>,
) -> Result<()> {
    let name = path.unwrap_or("todos.json");
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let merged = merge_files(&read(base)?, &read(ours)?, &read(theirs)?)
        .with_context(|| format!("cannot merge {name}: left to git as a conflict"))?;
    write_atomically(ours, &merged.bytes)?;
    for conflict in &merged.conflicts {
        eprintln!("chittysync merge-driver: {name}: {}", describe(conflict));
    }
    if !merged.conflicts.is_empty() {
        let now = Timestamp::now();
        let records: Vec<Value> = merged
            .conflicts
            .iter()
            .map(|c| record(c, name, now))
            .collect();
        // The merge is done and valid; failing to note it must not undo it.
        if let Err(e) = ctx
            .engine()
            .and_then(|mut engine| Ok(engine.record_merge_conflicts(&records)?))
        {
            print_warning(&format!(
                "cannot record the merge conflicts in conflicts.json: {e:#}"
            ));
        }
    }
    Ok(())
}

/// `"Ship it" [api]: ours completed, theirs in_progress → completed (completed-wins)`
fn describe(c: &Conflict) -> String {
    let sides: Vec<String> = c
        .sides
        .iter()
        .map(|s| format!("{} {}", s.observer, s.status))
        .collect();
    let project = if c.project.is_empty() {
        String::new()
    } else {
        format!(" [{}]", c.project)
    };
    format!(
        "{:?}{project}: {} → {} ({})",
        c.content,
        sides.join(", "),
        c.resolution,
        c.rule
    )
}

fn record(c: &Conflict, file: &str, at: Timestamp) -> Value {
    let mut value = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("file".into(), Value::String(file.to_string()));
        map.insert("merged_at".into(), Value::String(at.to_rfc3339()));
    }
    value
}
