//! `chittysync report`

use super::todos::entries;
use crate::context::Context;
use crate::output::{cell, print_json, Table};
use crate::time_arg::parse_time;
use anyhow::Result;
use chittysync_core::Timestamp;
use chittysync_engine::daily_report;
use std::time::Duration;

fn duration(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "-".to_string(),
        |ms| humantime::format_duration(Duration::from_secs((ms.max(0) / 1000) as u64)).to_string(),
    )
}

pub fn run(ctx: &Context, since: Option<&str>, project: Option<&str>, json: bool) -> Result<()> {
    let since = since.map(|t| parse_time(t, Timestamp::now())).transpose()?;
    let rows = daily_report(&entries(ctx, None)?, since, project);
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!("Nothing to report.");
        return Ok(());
    }
    let mut table = Table::new(vec![
        "PROJECT",
        "DAY",
        "PLANNED",
        "STARTED",
        "COMPLETED",
        "STILL OPEN",
        "MEDIAN",
        "P90",
    ]);
    for r in &rows {
        table.row(vec![
            cell(r.project.clone()),
            cell(r.day.clone()),
            cell(r.planned.to_string()),
            cell(r.started.to_string()),
            cell(r.completed.to_string()),
            cell(r.still_open.to_string()),
            cell(duration(r.median_ms)),
            cell(duration(r.p90_ms)),
        ]);
    }
    table.print();
    Ok(())
}
