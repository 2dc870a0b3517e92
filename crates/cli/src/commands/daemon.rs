//! `chittysync daemon`

use crate::context::Context;
use anyhow::{Context as _, Result};

pub fn run(ctx: &Context) -> Result<()> {
    chittysync_daemon::init_logging(&ctx.locations.logs_dir(), ctx.config.log.level.as_deref())?;
    chittysync_daemon::run(&ctx.locations, &ctx.config).context("the daemon cannot run")
}
