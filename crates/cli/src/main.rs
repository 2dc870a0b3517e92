//! The `chittysync` binary: parses the command line and hands each command to
//! its module. Logic lives in the library crates; this wires them.

mod cli;
mod commands;
mod context;
mod install_record;
mod output;
mod settings;
mod time_arg;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    output::init_color(cli.global.color);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(1)
        }
    }
}
