//! One module per command; `run` dispatches.

mod collisions;
mod consolidate;
mod daemon;
mod git;
mod history;
mod hook;
mod hooks;
mod hub;
mod key;
pub(crate) mod mcp;
mod merge_driver;
mod notify;
mod orchestrate;
mod report;
mod rollback;
mod service;
mod spawn;
mod status;
mod sync;
mod todos;
mod topics;
mod ui;
mod views;

use crate::cli::{Cli, Command};
use crate::context::Context;
use anyhow::Result;
use std::process::ExitCode;

pub fn run(cli: Cli) -> Result<ExitCode> {
    // A hook must exit 0 whatever happens, even with a broken config.
    if let Command::Hook { event } = cli.command {
        return Ok(hook::run(&cli.global, event));
    }
    let ctx = Context::load(&cli.global)?;
    if let Some(notice) = &ctx.home_tightened {
        crate::output::print_warning(notice);
    }
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
        Command::Collisions { project, json } => {
            collisions::run(&ctx, project.as_deref(), json.json)
        }
        Command::Notify { test, json } => notify::run(&ctx, test, json.json),
        Command::Topics { project, json } => topics::run(&ctx, project.as_deref(), json.json),
        Command::Orchestrate { project, json } => {
            orchestrate::run(&ctx, project.as_deref(), json.json)
        }
        Command::Spawn {
            dry_run,
            project,
            json,
        } => spawn::run(&ctx, dry_run, project.as_deref(), json.json),
        Command::History { query, json } => history::run(&ctx, &query, json.json),
        Command::Status { json } => status::run(&ctx, json.json),
        Command::Serve {
            listen,
            database,
            max_body_bytes,
            tls_cert,
            tls_key,
        } => hub::serve(
            &ctx,
            listen,
            database,
            max_body_bytes,
            tls_cert.zip(tls_key),
        ),
        Command::Ui {
            listen,
            token,
            open,
        } => ui::run(&ctx, listen, token, open),
        Command::Hub { command } => hub::run(&ctx, command),
        Command::Daemon => daemon::run(&ctx),
        Command::Service {
            action,
            dry_run,
            manager,
        } => service::run(&ctx, &cli.global, action, dry_run, manager),
        Command::Hooks {
            action,
            settings,
            no_plan_tools,
        } => hooks::run(
            &ctx,
            &cli.global,
            action,
            settings.as_deref(),
            !no_plan_tools,
        ),
        Command::Mcp { action } => mcp::run(&ctx, &cli.global, action),
        Command::Hook { .. } => unreachable!("handled above"),
        Command::Git { command } => git::run(&ctx, command),
        Command::Key { command } => key::run(&ctx, command),
        Command::Sync {
            no_consolidate,
            adopt,
            insecure,
            json,
        } => sync::run(&ctx, !no_consolidate, adopt, insecure, json.json),
        Command::Rollback(args) => rollback::run(&ctx, &args),
        Command::MergeDriver {
            base,
            ours,
            theirs,
            path,
        } => merge_driver::run(&ctx, &base, &ours, &theirs, path.as_deref()),
        Command::Report {
            since,
            project,
            json,
        } => report::run(&ctx, since.as_deref(), project.as_deref(), json.json),
    }
    .map(|()| ExitCode::SUCCESS)
}
