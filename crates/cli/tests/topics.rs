//! Topics, orchestrate and specialist agents (docs/TOPICS.md): the
//! real binary, the real daemon, and a real process standing in for the
//! agent — a script that writes a Claude Code transcript and todo file in its
//! folder, as a session would, and keeps the arguments it was given.

mod common;
mod live;

use common::{todo_write_line, Sandbox};
use live::{wait_for, Daemon};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const ROUTER: [&str; 3] = [
    "Fix the router timeouts",
    "Add retries to the ChittyRouter client",
    "Document the router config",
];

fn now_at(offset_ms: i64) -> String {
    let t = chrono::Utc::now() + chrono::Duration::milliseconds(offset_ms);
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The project folder `api` (it exists: the specialist starts in it).
fn project_dir(sandbox: &Sandbox) -> PathBuf {
    let dir = sandbox.dir.path().join("work").join("api");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

/// Two sessions of `api`: three router todos between them, and one other.
fn two_sessions(sandbox: &Sandbox, cwd: &Path) {
    let cwd = cwd.to_str().unwrap();
    let a = "aaaaaaaa-0000-4000-8000-000000000001";
    let b = "bbbbbbbb-0000-4000-8000-000000000002";
    sandbox.write(
        &format!("projects/-work-api/{a}.jsonl"),
        todo_write_line(
            a,
            cwd,
            &now_at(-5000),
            &[(ROUTER[0], "pending"), (ROUTER[1], "pending")],
        ),
    );
    sandbox.write(
        &format!("projects/-work-api/{b}.jsonl"),
        todo_write_line(
            b,
            cwd,
            &now_at(-4000),
            &[(ROUTER[2], "pending"), ("Write the README", "pending")],
        ),
    );
}

fn config(sandbox: &Sandbox, spawn: &str) {
    let text = format!(
        "[[topics.rules]]\nname = \"router\"\ncontains = [\"chittyrouter\", \"router\"]\n{spawn}"
    );
    std::fs::write(sandbox.home().join("config.toml"), text).unwrap();
}

/// The stand-in agent: keeps its arguments (NUL-separated) and its folder,
/// then writes a transcript with one in-progress todo, as a Claude Code
/// session started in that folder would.
fn agent_script(sandbox: &Sandbox) -> PathBuf {
    let path = sandbox.dir.path().join("agent.sh");
    let script = r#"#!/bin/sh
claude="$1"; shift
out="$(dirname "$claude")/agent-runs"
mkdir -p "$out"
n=$(ls "$out" | wc -l)
printf '%s\0' "$@" > "$out/args-$n"
pwd > "$out/cwd-$n"
sid=$(printf 'cccccccc-0000-4000-8000-%012d' "$$")
at=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
mkdir -p "$claude/projects/-spawned"
printf '{"type":"assistant","cwd":"%s","sessionId":"%s","timestamp":"%s","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_%s","name":"TodoWrite","input":{"todos":[{"content":"Triage the router backlog","status":"in_progress","activeForm":"Triaging"}]}}]}}\n' "$(pwd)" "$sid" "$at" "$$" > "$claude/projects/-spawned/$sid.jsonl.tmp"
mv "$claude/projects/-spawned/$sid.jsonl.tmp" "$claude/projects/-spawned/$sid.jsonl"
echo "specialist $sid done"
"#;
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn runs_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.dir.path().join("agent-runs")
}

fn topic<'a>(topics: &'a Value, project: &str, name: &str) -> &'a Value {
    topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["project"] == project && t["topic"] == name)
        .unwrap_or_else(|| panic!("no topic {project}/{name} in {topics:#}"))
}

#[test]
fn topics_orchestrate_and_a_dry_run_from_the_binary() {
    let sandbox = Sandbox::new();
    let cwd = project_dir(&sandbox);
    two_sessions(&sandbox, &cwd);
    config(
        &sandbox,
        "[spawn]\ncommand = [\"/bin/echo\", \"{prompt}\"]\n",
    );
    sandbox.consolidate(&[]);

    let topics = sandbox.json(&["topics"]);
    let router = topic(&topics, "api", "router");
    assert_eq!(router["pending"].as_array().unwrap().len(), 3);
    assert_eq!(router["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(router["spawn"]["verdict"], "start");
    let rest = topic(&topics, "api", "api");
    assert_eq!(rest["pending"][0]["content"], "Write the README");
    let text = sandbox.ok(&["topics", "--project", "api"]);
    assert!(
        text.contains("api / router") && text.contains(ROUTER[1]),
        "{text}"
    );

    // Every pending todo given to one of the two active sessions, by load.
    let plan = sandbox.json(&["orchestrate"]);
    let given: usize = plan["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["todos"].as_array().unwrap().len())
        .sum();
    assert_eq!(given, 4, "{plan:#}");
    assert_eq!(plan, sandbox.json(&["orchestrate"]));

    // Off by default: the dry run says what would start; nothing starts.
    let dry = sandbox.json(&["spawn", "--dry-run"]);
    assert_eq!(dry["enabled"], false);
    let would = &dry["topics"][0];
    assert_eq!(
        (&would["topic"], &would["verdict"]),
        (&"router".into(), &"start".into())
    );
    assert_eq!(would["cwd"], cwd.to_str().unwrap());
    assert!(would["command"][1]
        .as_str()
        .unwrap()
        .starts_with("You are the router specialist of api."));
    let out = sandbox.run(&["spawn"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("enabled = true"));
    assert!(!sandbox.home().join("spawns").exists());
}

#[test]
fn the_daemon_starts_the_specialist_once_and_links_its_session() {
    let sandbox = Sandbox::new();
    let cwd = project_dir(&sandbox);
    let agent = agent_script(&sandbox);
    config(
        &sandbox,
        &format!(
            "[spawn]\nenabled = true\ncooldown = \"1h\"\nprompt = \"Be the {{topic}} expert; don't \\\"stop\\\"\"\n\
             command = [{:?}, {:?}, \"{{topic}}\", \"{{prompt}}\", \"--in={{cwd}}\", \"{{todos_file}}\"]\n",
            agent.to_str().unwrap(),
            sandbox.claude().to_str().unwrap(),
        ),
    );
    let _daemon = Daemon::start(&sandbox);
    // A burst of writes: the threshold is crossed, then crossed again.
    for _ in 0..3 {
        two_sessions(&sandbox, &cwd);
    }
    wait_for("the specialist's session linked", || {
        let topics = sandbox.json(&["topics", "--project", "api"]);
        // The daemon may not have taken the writes in yet.
        let Some(router) = topics
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["project"] == "api" && t["topic"] == "router")
        else {
            return false;
        };
        router["specialists"][0]["session"].is_string()
            && router["in_progress"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["content"] == "Triage the router backlog")
    });
    // More router work: the cooldown holds.
    two_sessions(&sandbox, &cwd);
    sandbox.consolidate(&[]);
    let topics = sandbox.json(&["topics", "--project", "api"]);
    let router = topic(&topics, "api", "router");
    let specialists = router["specialists"].as_array().unwrap();
    assert_eq!(specialists.len(), 1, "{router:#}");
    let s = &specialists[0];
    assert_eq!(s["exit_code"], 0);
    assert!(s["pid"].as_u64().is_some());
    assert!(router["spawn"]["why"]
        .as_str()
        .unwrap()
        .contains("cooldown"));
    let log = std::fs::read_to_string(s["log_file"].as_str().unwrap()).unwrap();
    assert!(log.contains("specialist") && log.contains("done"), "{log}");
    let runs: Vec<_> = std::fs::read_dir(runs_dir(&sandbox)).unwrap().collect();
    assert_eq!(runs.len(), 2, "one start: its args and cwd files");

    // Placeholders arrive as single arguments: spaces, quotes, `;`.
    let args = std::fs::read(runs_dir(&sandbox).join("args-0")).unwrap();
    let args: Vec<String> = args
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8(a.to_vec()).unwrap())
        .collect();
    assert_eq!(args.len(), 4, "{args:?}");
    assert_eq!(args[0], "router");
    assert_eq!(args[1], "Be the router expert; don't \"stop\"");
    assert_eq!(args[2], format!("--in={}", cwd.display()));
    let todos: Value = serde_json::from_str(&std::fs::read_to_string(&args[3]).unwrap()).unwrap();
    assert_eq!(todos["topic"], "router");
    assert_eq!(todos["todos"].as_array().unwrap().len(), 3);
    let ran_in = std::fs::read_to_string(runs_dir(&sandbox).join("cwd-0")).unwrap();
    assert_eq!(ran_in.trim(), cwd.to_str().unwrap());
    // `status` tells of it too.
    let status = sandbox.ok(&["status"]);
    assert!(status.contains("specialist"), "{status}");
}

#[test]
fn a_failing_command_is_backed_off() {
    let sandbox = Sandbox::new();
    let cwd = project_dir(&sandbox);
    two_sessions(&sandbox, &cwd);
    config(
        &sandbox,
        "[spawn]\nenabled = true\ncooldown = \"1m\"\ncommand = [\"/bin/sh\", \"-c\", \"exit 3\"]\n",
    );
    sandbox.consolidate(&[]);
    let started = sandbox.json(&["spawn"]);
    assert_eq!(started[0]["exit_code"], 3);
    // Started again at once: not due, backed off.
    let again = sandbox.json(&["spawn"]);
    assert_eq!(again, serde_json::json!([]));
    let dry = sandbox.json(&["spawn", "--dry-run"]);
    let why = dry["topics"][0]["why"].as_str().unwrap();
    assert!(
        why.contains("backed off") && why.contains("exit status 3"),
        "{why}"
    );
}

#[test]
fn the_hub_groups_topics_by_its_own_rules_as_the_cli_does() {
    // The hub's home holds its config: the router rule.
    let hub = Sandbox::new();
    config(&hub, "");
    let serve = common::hub::serve_on(&hub.home(), &[]);
    let port = serve.port;
    let token = hub.ok(&["hub", "token", "create", "--tenant", "me"]);
    let token = token.trim();
    let url = format!("http://127.0.0.1:{port}");

    // A device with the same rule pushes its two sessions.
    let device = Sandbox::new();
    let cwd = project_dir(&device);
    two_sessions(&device, &cwd);
    config(
        &device,
        &format!("[hub]\nurl = {url:?}\ntoken = {token:?}\n"),
    );
    device.ok(&["sync"]);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let topics = runtime
        .block_on(async {
            chittysync_hubclient::client::HubClient::new(&url, token)
                .unwrap()
                .topics()
                .await
        })
        .unwrap()
        .topics;
    let on_hub: Vec<(String, String, u64, u64)> = topics
        .iter()
        .map(|t| (t.project.clone(), t.topic.clone(), t.pending, t.in_progress))
        .collect();
    assert_eq!(
        on_hub,
        [
            ("api".to_string(), "api".to_string(), 1, 0),
            ("api".to_string(), "router".to_string(), 3, 0)
        ],
        "{topics:#?}"
    );
    // The same grouping as the CLI's, by the same rule.
    let local = device.json(&["topics"]);
    for (project, topic, pending, _) in &on_hub {
        let t = self::topic(&local, project, topic);
        assert_eq!(t["pending"].as_array().unwrap().len() as u64, *pending);
    }
}

/// A specialist that runs the real hook as its Claude Code session would:
/// `SessionStart` in a folder other than the one it was started in (so only
/// `CHITTYSYNC_SPAWN_ID`, not the folder, can tell which start it is).
fn hook_agent_script(sandbox: &Sandbox) -> PathBuf {
    let path = sandbox.dir.path().join("hook-agent.sh");
    let script = r#"#!/bin/sh
bin="$1"; shift
printf '{"session_id":"%s","cwd":"/nonexistent/elsewhere","hook_event_name":"SessionStart","source":"startup"}' "$SESSION" \
  | "$bin" "$@" hook session-start
"#;
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_spawned_session_is_known_by_its_hook_and_marked_in_sessions() {
    let sandbox = Sandbox::new();
    let cwd = project_dir(&sandbox);
    two_sessions(&sandbox, &cwd);
    let script = hook_agent_script(&sandbox);
    let arg = |p: PathBuf| format!("{:?}", p.to_str().unwrap());
    config(
        &sandbox,
        &format!(
            "[spawn]\nenabled = true\ncommand = [{}, {:?}, \"--claude-dir\", {}, \"--agents-home\", {}, \"--home\", {}]\n",
            arg(script),
            env!("CARGO_BIN_EXE_chittysync"),
            arg(sandbox.claude()),
            arg(sandbox.dir.path().to_path_buf()),
            arg(sandbox.home()),
        ),
    );
    sandbox.consolidate(&[]);
    let session = "eeeeeeee-0000-4000-8000-00000000000e";
    let out = sandbox
        .command()
        .args(["spawn", "--json"])
        .env("SESSION", session)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(started[0]["exit_code"], 0, "{started:#}");
    let id = started[0]["id"].as_i64().unwrap();

    // The start is linked to the session its hook named, at once.
    let topics = sandbox.json(&["topics", "--project", "api"]);
    let router = topic(&topics, "api", "router");
    assert_eq!(router["specialists"][0]["session"], session, "{router:#}");

    // `sessions` marks it, with the start it was; the others are not marked.
    let sessions = sandbox.json(&["sessions"]);
    let list = sessions.as_array().unwrap();
    let spawned = list.iter().find(|s| s["id"] == session).unwrap();
    assert_eq!(spawned["spawned"]["id"], id, "{spawned:#}");
    assert_eq!(spawned["spawned"]["topic"], "router");
    assert_eq!(spawned["spawned"]["exit_code"], 0);
    assert!(list
        .iter()
        .filter(|s| s["id"] != session)
        .all(|s| s["spawned"].is_null()));
    let table = sandbox.ok(&["sessions"]);
    let line = table.lines().find(|l| l.starts_with("eeeeeeee")).unwrap();
    assert!(line.contains(&format!("router #{id}")), "{table}");
}
