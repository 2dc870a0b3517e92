//! One module per command; `run` dispatches.

mod consolidate;
mod history;
mod status;
mod todos;
mod views;

use crate::cli::{Cli, Command};
use crate::context::Context;
use anyhow::Result;
use std::process::ExitCode;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Context::load(&cli.global)?;
    match cli.command {
        Command::Consolidate { full, json } => consolidate::run(&ctx, full, json.json),
        Command::Todos(args) => todos::run(&ctx, &args),
        Command::Projects { json } => views::projects(&ctx, json.json),
        Command::Sessions {
            active,
            stale,
            json,
        } => views::sessions(&ctx, active, stale, json.json),
        Command::Conflicts { json } => views::conflicts(&ctx, json.json),
        Command::History { query, json } => history::run(&ctx, &query, json.json),
        Command::Status { json } => status::run(&ctx, json.json),
    }
    .map(|()| ExitCode::SUCCESS)
}
