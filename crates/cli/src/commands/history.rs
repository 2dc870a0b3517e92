//! `chittysync history <id-or-text>`

use crate::context::Context;
use crate::output::{cell, print_json, short_id, status_style, visible, Table, BOLD, DIM};
use anyhow::{bail, Result};
use chittysync_engine::views::histories;

pub fn run(ctx: &Context, query: &str, json: bool) -> Result<()> {
    let store = ctx.store_or_hint()?;
    let histories = histories(store.reader(), query)?;
    if histories.is_empty() {
        bail!("no todo has an id or content matching `{query}`");
    }
    if json {
        return print_json(&histories);
    }
    for (i, h) in histories.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let t = &h.todo;
        anstream::println!(
            "{BOLD}{}{BOLD:#}  [{}] {} · id {}",
            visible(&t.content),
            visible(&t.project),
            t.status,
            t.id
        );
        let mut table = Table::new(vec![
            "TIME",
            "STATUS",
            "SESSION",
            "AGENT",
            "SUB-AGENT",
            "SOURCE",
            "DEVICE",
            "VIA",
        ]);
        for step in &h.observations {
            let o = &step.observation;
            let style = if step.change {
                status_style(o.status)
            } else {
                DIM
            };
            table.row(vec![
                cell(o.observed_at.to_rfc3339()),
                (o.status.to_string(), style),
                cell(o.session.as_deref().map_or("-", short_id).to_string()),
                cell(step.agent.to_string()),
                cell(step.sub_agent.as_deref().map_or("-", short_id).to_string()),
                cell(o.source.to_string()),
                cell(o.device.clone()),
                cell(step.via.clone()),
            ]);
        }
        table.print();
    }
    Ok(())
}
