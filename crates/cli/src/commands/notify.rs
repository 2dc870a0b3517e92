//! `chittysync notify [--test]`: sends what `[notify]` has to say now — the
//! collisions, completed plans, stale sessions and failing syncs not told
//! yet — or, with `--test`, a sample event to every
//! configured channel (docs/COLLISIONS.md). The daemon does the
//! same after every consolidation; this is for checking a setup, and for
//! machines that run no daemon (from cron, say).

use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, Result};
use chittysync_core::Timestamp;
use serde_json::json;

pub fn run(ctx: &Context, test: bool, json: bool) -> Result<()> {
    let config = &ctx.config.notify;
    let file = ctx
        .locations
        .config
        .as_ref()
        .map_or_else(|| "config.toml".to_string(), |p| p.display().to_string());
    let channels = chittysync_notify::channels(config)?;
    if channels.is_empty() {
        bail!("[notify] has no channel: set `command = [...]`, `webhook = \"https://…\"` and/or `desktop = true` in {file}");
    }
    let now = Timestamp::now();
    let device = ctx.config.device_name();
    if test {
        let results = chittysync_notify::send_test(config, &device, now)?;
        let failed = results.iter().filter(|(_, r)| r.is_err()).count();
        if json {
            let list: Vec<_> = results
                .iter()
                .map(|(channel, r)| {
                    json!({"channel": channel, "ok": r.is_ok(),
                    "error": r.as_ref().err().map(ToString::to_string)})
                })
                .collect();
            print_json(&json!({ "sent": list }))?;
        } else {
            for (channel, r) in &results {
                match r {
                    Ok(()) => println!("sent    {channel}"),
                    Err(e) => println!("FAILED  {channel}: {e}"),
                }
            }
        }
        if failed > 0 {
            bail!("{failed} of {} channels failed", results.len());
        }
        return Ok(());
    }
    if !config.enabled {
        bail!("[notify] is off: set `enabled = true` in {file} (`chittysync notify --test` works either way)");
    }
    let mut ledger = ctx.ledger_or_hint()?;
    let events = chittysync_notify::picture_events(ledger.reader(), &ctx.config, &device, now)?;
    let queued = chittysync_notify::queue_events(&mut ledger, config, &events, now)?;
    let delivery = chittysync_notify::deliver_due(&mut ledger, config, now)?;
    if json {
        return print_json(&json!({"events": events.len(), "new_events": queued,
            "sent": delivery.sent, "failed": delivery.failed, "rate_limited": delivery.waiting}));
    }
    println!(
        "{} events, {queued} new; sent {}, failed {}, held back by the rate limit {}",
        events.len(),
        delivery.sent,
        delivery.failed.len(),
        delivery.waiting
    );
    for f in &delivery.failed {
        println!("FAILED  {f} (tried again later, with backoff)");
    }
    Ok(())
}
