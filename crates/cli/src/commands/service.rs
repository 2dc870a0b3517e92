//! `chittysync service install|uninstall|status [--dry-run]`: the daemon as a
//! systemd user unit or a LaunchAgent (the files are made by
//! `chittysync_daemon::service`; this writes them and asks the manager).

use crate::cli::{GlobalArgs, ServiceAction, ServiceManager};
use crate::context::{create_private_dir, Context};
use crate::output::{print_warning, BOLD};
use anyhow::{Context as _, Result};
use chittysync_daemon::service::{self, ServiceKind, ServicePlan, ServiceSpec};
use chittysync_daemon::DaemonStatus;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn run(
    ctx: &Context,
    global: &GlobalArgs,
    action: ServiceAction,
    dry_run: bool,
    manager: Option<ServiceManager>,
) -> Result<()> {
    let kind = match manager {
        Some(ServiceManager::Systemd) => ServiceKind::Systemd,
        Some(ServiceManager::Launchd) => ServiceKind::Launchd,
        None => ServiceKind::native(),
    };
    let spec = ServiceSpec {
        exe: current_exe()?,
        global_args: global_args(ctx, global, true)?,
        logs_dir: absolute(&ctx.locations.logs_dir())?,
    };
    let user_home = user_home().context("cannot tell the user's home folder ($HOME)")?;
    #[allow(unsafe_code)]
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let plan = service::plan(kind, &spec, &user_home, uid);
    match (action, dry_run) {
        (ServiceAction::Install, true) => {
            anstream::println!("{BOLD}would write{BOLD:#} {}:\n", plan.path.display());
            print!("{}", plan.contents);
            println!();
            print_commands("would run", &plan.install);
        }
        (ServiceAction::Install, false) => install(&plan, &spec)?,
        (ServiceAction::Uninstall, true) => {
            print_commands("would run", &plan.stop);
            anstream::println!("{BOLD}would remove{BOLD:#} {}", plan.path.display());
            print_commands("would run", &plan.after_removal);
        }
        (ServiceAction::Uninstall, false) => uninstall(&plan)?,
        (ServiceAction::Status, true) => {
            print_commands("would run", std::slice::from_ref(&plan.status))
        }
        (ServiceAction::Status, false) => status(ctx, &plan)?,
    }
    Ok(())
}

fn install(plan: &ServicePlan, spec: &ServiceSpec) -> Result<()> {
    // The manager appends to the log files but may not make their folder,
    // and would make the files with its own umask: both are made here,
    // private to the user (docs/DAEMON.md, "Files and their modes").
    create_private_dir(&spec.logs_dir)
        .with_context(|| format!("cannot create {}", spec.logs_dir.display()))?;
    for log in [spec.stdout(), spec.stderr()] {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
    }
    chittysync_engine::write_atomically(&plan.path, plan.contents.as_bytes())?;
    println!("wrote {}", plan.path.display());
    run_all(&plan.install);
    Ok(())
}

fn uninstall(plan: &ServicePlan) -> Result<()> {
    if !plan.path.exists() {
        println!(
            "no service installed ({} does not exist)",
            plan.path.display()
        );
        return Ok(());
    }
    run_all(&plan.stop);
    std::fs::remove_file(&plan.path)
        .with_context(|| format!("cannot remove {}", plan.path.display()))?;
    println!("removed {}", plan.path.display());
    run_all(&plan.after_removal);
    Ok(())
}

fn status(ctx: &Context, plan: &ServicePlan) -> Result<()> {
    if plan.path.exists() {
        anstream::println!("{BOLD}service{BOLD:#}  installed: {}", plan.path.display());
        match Command::new(&plan.status[0])
            .args(&plan.status[1..])
            .output()
        {
            Ok(out) => {
                let answer = String::from_utf8_lossy(&out.stdout);
                let first = answer.lines().next().unwrap_or("").trim();
                anstream::println!(
                    "{BOLD}manager{BOLD:#}  `{}`: {}",
                    plan.status.join(" "),
                    if first.is_empty() {
                        "(no answer)"
                    } else {
                        first
                    }
                );
            }
            Err(_) => anstream::println!(
                "{BOLD}manager{BOLD:#}  `{}` is not available here",
                plan.status[0]
            ),
        }
    } else {
        anstream::println!(
            "{BOLD}service{BOLD:#}  not installed (`chittysync service install` writes {})",
            plan.path.display()
        );
    }
    let daemon = DaemonStatus::of(&ctx.locations.home)?;
    anstream::println!(
        "{BOLD}daemon{BOLD:#}   {}",
        match (daemon.alive, daemon.pid) {
            (true, Some(pid)) => format!("running (pid {pid})"),
            (true, None) => "running".to_string(),
            (false, _) => "not running".to_string(),
        }
    );
    Ok(())
}

fn print_commands(verb: &str, commands: &[Vec<String>]) {
    for command in commands {
        anstream::println!("{BOLD}{verb}{BOLD:#}: {}", shell_words(command));
    }
}

/// Runs the manager's commands; where the manager is missing or refuses
/// (a container without a user session…), says what to run instead.
fn run_all(commands: &[Vec<String>]) {
    for (i, command) in commands.iter().enumerate() {
        match Command::new(&command[0]).args(&command[1..]).output() {
            Ok(out) if out.status.success() => println!("ran: {}", shell_words(command)),
            Ok(out) => {
                print_warning(&format!(
                    "`{}` failed: {}",
                    shell_words(command),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
                return print_remaining(&commands[i..]);
            }
            Err(e) => {
                print_warning(&format!("cannot run `{}`: {e}", command[0]));
                return print_remaining(&commands[i..]);
            }
        }
    }
}

fn print_remaining(commands: &[Vec<String>]) {
    println!("run it yourself where the service manager is available:");
    for command in commands {
        println!("  {}", shell_words(command));
    }
}

/// The absolute path of this binary, which the service and the hooks run.
fn current_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot tell where this binary is")?;
    Ok(exe.canonicalize().unwrap_or(exe))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot make {} absolute", path.display()))
}

fn user_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The options a process started elsewhere (by the service manager, by Claude
/// Code) needs to use this same home: those given here, as absolute paths.
pub(super) fn global_args(
    ctx: &Context,
    global: &GlobalArgs,
    with_claude_dir: bool,
) -> Result<Vec<String>> {
    let mut args = Vec::new();
    if global.home.is_some() {
        args.push("--home".to_string());
        args.push(absolute(&ctx.locations.home)?.display().to_string());
    }
    if with_claude_dir && global.claude_dir.is_some() {
        args.push("--claude-dir".to_string());
        args.push(absolute(&ctx.locations.claude_dir)?.display().to_string());
    }
    if let (Some(_), Some(config)) = (&global.config, &ctx.locations.config) {
        args.push("--config".to_string());
        args.push(absolute(config)?.display().to_string());
    }
    Ok(args)
}

/// `<exe> [--home H] [--config C]`, quoted for a shell: how a hook command
/// starts. Claude Code gives hooks its own `CLAUDE_CONFIG_DIR`, so the
/// Claude folder is not passed.
pub(super) fn command_prefix(ctx: &Context, global: &GlobalArgs) -> Result<String> {
    let mut words = vec![current_exe()?.display().to_string()];
    words.extend(global_args(ctx, global, false)?);
    Ok(shell_words(&words))
}

/// Words joined for a POSIX shell, single-quoted where needed.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
