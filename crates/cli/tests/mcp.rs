//! `chittysync mcp` (docs/MCP.md): the real binary spawned in a
//! project folder and spoken to through the official MCP Rust SDK's client
//! (`rmcp`), as an agent would; and `mcp install|uninstall` on real-looking
//! config files of every agent.

mod common;

use common::Sandbox;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A guard against a hung server: far longer than any call takes.
const GUARD: Duration = Duration::from_secs(120);

type Client = RunningService<RoleClient, ClientConfig>;

/// The project folder the agent starts the server in: a git work tree named `shop`.
fn project(sandbox: &Sandbox) -> PathBuf {
    let dir = sandbox.dir.path().join("work").join("shop");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    dir.canonicalize().unwrap()
}

/// Starts `chittysync mcp` in `cwd` as an agent named `client` would, with
/// `session` (if any) in `CLAUDE_CODE_SESSION_ID`.
async fn connect(sandbox: &Sandbox, cwd: &Path, client: &str, session: Option<&str>) -> Client {
    let std_cmd = sandbox.command();
    let mut cmd = tokio::process::Command::new(std_cmd.get_program());
    cmd.args(std_cmd.get_args()).arg("mcp").current_dir(cwd);
    for (key, value) in std_cmd.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd.env_remove("CLAUDE_CODE_SESSION_ID")
        .env_remove("CHITTYSYNC_SESSION");
    if let Some(session) = session {
        cmd.env("CLAUDE_CODE_SESSION_ID", session);
    }
    let transport = TokioChildProcess::new(cmd).expect("the binary starts");
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new(client, "1.0"),
    );
    tokio::time::timeout(GUARD, info.serve(transport))
        .await
        .expect("the server answers initialize in time")
        .expect("the MCP handshake succeeds")
}

async fn call_raw(
    client: &Client,
    tool: &str,
    args: Value,
) -> Result<CallToolResult, ServiceError> {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
    tokio::time::timeout(GUARD, client.call_tool(params))
        .await
        .unwrap_or_else(|_| panic!("{tool} did not answer within {GUARD:?}"))
}

/// Calls a tool that must succeed; its structured answer.
async fn call(client: &Client, tool: &str, args: Value) -> Value {
    let result = call_raw(client, tool, args)
        .await
        .expect("the call is answered");
    assert_ne!(result.is_error, Some(true), "{tool} failed: {result:?}");
    result.structured_content.expect("a structured answer")
}

/// Calls a tool that must fail as a tool error; its message.
async fn call_error(client: &Client, tool: &str, args: Value) -> String {
    let result = call_raw(client, tool, args)
        .await
        .expect("the call is answered");
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} should fail: {result:?}"
    );
    result.content[0].as_text().expect("a text").text.clone()
}

fn cli_json(sandbox: &Sandbox, args: &[&str]) -> Value {
    let out = sandbox.command().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn todos_file(sandbox: &Sandbox) -> Vec<Value> {
    let text = std::fs::read_to_string(sandbox.home().join("todos.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["todos"].as_array().unwrap().clone()
}

fn find<'a>(todos: &'a [Value], content: &str) -> &'a Value {
    todos
        .iter()
        .find(|t| t["content"] == content)
        .unwrap_or_else(|| panic!("no todo `{content}` in {todos:?}"))
}

#[tokio::test]
async fn every_tool_is_listed_and_answers_what_the_cli_says() {
    let sandbox = Sandbox::new();
    let cwd = project(&sandbox);
    let client = connect(&sandbox, &cwd, "claude-code", Some("sess-one")).await;

    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "conflicts",
            "history",
            "plan_list",
            "plan_update",
            "plan_write",
            "sessions"
        ]
    );
    for tool in &tools {
        assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
        assert!(
            tool.description.as_ref().unwrap().len() > 40,
            "{}",
            tool.name
        );
    }

    let written = call(
        &client,
        "plan_write",
        json!({"todos": [
            {"content": "Write the checkout tests", "status": "in_progress", "activeForm": "Writing the checkout tests"},
            {"content": "Ship the checkout", "status": "pending"}
        ]}),
    )
    .await;
    assert_eq!(written["project"], "shop");
    assert_eq!(written["caller"]["session"], "sess-one");
    assert_eq!(written["caller"]["identified_by"], "CLAUDE_CODE_SESSION_ID");
    assert_eq!(written["new_observations"], 2);

    // In todos.json at once: no consolidation, no daemon.
    let file = todos_file(&sandbox);
    assert_eq!(
        find(&file, "Write the checkout tests")["status"],
        "in_progress"
    );

    // The project is the server folder's by default, and the list is the CLI's.
    let listed = call(&client, "plan_list", json!({})).await;
    assert_eq!(listed["project"], "shop");
    let cli = cli_json(&sandbox, &["todos", "--project", "shop", "--json"]);
    assert_eq!(listed["todos"], cli);
    assert_eq!(listed["count"], 2);
    let open = call(&client, "plan_list", json!({"status": "in_progress"})).await;
    assert_eq!(open["todos"].as_array().unwrap().len(), 1);
    let elsewhere = call(&client, "plan_list", json!({"project": "other"})).await;
    assert_eq!(elsewhere["count"], 0);
    let all = call(&client, "plan_list", json!({"project": "*"})).await;
    assert_eq!(all["todos"], cli_json(&sandbox, &["todos", "--json"]));

    let sessions = call(&client, "sessions", json!({})).await;
    let list = sessions["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{sessions}");
    assert_eq!(list[0]["id"], "sess-one");
    assert_eq!(list[0]["agent"], "claude");
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["you"], true);
    assert_eq!(list[0]["working_on"], json!(["Write the checkout tests"]));

    let conflicts = call(&client, "conflicts", json!({})).await;
    assert_eq!(conflicts["count"], 0);
    assert_eq!(
        call(&client, "conflicts", json!({"project": "*"})).await["conflicts"],
        cli_json(&sandbox, &["conflicts", "--json"])
    );

    let history = call(&client, "history", json!({"query": "checkout tests"})).await;
    assert_eq!(
        history["histories"],
        cli_json(&sandbox, &["history", "checkout tests", "--json"])
    );
    let step = &history["histories"][0]["observations"][0];
    assert_eq!(step["source"], "mcp");
    assert_eq!(step["observer"], "sess-one");
    let missing = call_error(&client, "history", json!({"query": "no such thing"})).await;
    assert!(missing.contains("no todo"), "{missing}");

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn two_sessions_share_one_plan_and_disagreements_are_conflicts() {
    let sandbox = Sandbox::new();
    let cwd = project(&sandbox);
    let first = connect(&sandbox, &cwd, "claude-code", Some("sess-a")).await;
    let second = connect(&sandbox, &cwd, "claude-code", Some("sess-b")).await;

    call(
        &first,
        "plan_write",
        json!({"todos": [
            {"content": "Migrate the database", "status": "in_progress"},
            {"content": "Update the changelog", "status": "pending"}
        ]}),
    )
    .await;

    // The other session sees it at once.
    let seen = call(&second, "plan_list", json!({})).await;
    let todos = seen["todos"].as_array().unwrap();
    assert_eq!(
        find(todos, "Migrate the database")["sessions"],
        json!(["sess-a"])
    );
    let sessions = call(&second, "sessions", json!({})).await;
    let others: Vec<&Value> = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["you"] == false)
        .collect();
    assert_eq!(others.len(), 1);
    assert_eq!(others[0]["working_on"], json!(["Migrate the database"]));

    // Completing a todo by content reaches todos.json.
    let done = call(
        &second,
        "plan_update",
        json!({"content": "update the  CHANGELOG", "status": "completed"}),
    )
    .await;
    assert_eq!(done["added"], false);
    assert_eq!(done["todo"]["status"], "completed");
    assert_eq!(
        find(&todos_file(&sandbox), "Update the changelog")["status"],
        "completed"
    );

    // A session that disagrees on a todo by id: a conflict with both sides.
    let id = find(todos, "Migrate the database")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let update = call(
        &second,
        "plan_update",
        json!({"id": &id[..8], "status": "pending"}),
    )
    .await;
    assert_eq!(update["todo"]["status"], "in_progress");
    let conflict = &update["conflict"];
    assert_eq!(conflict["resolution"], "in_progress");
    let mut sides: Vec<(String, String)> = conflict["sides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["session"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    sides.sort();
    assert_eq!(
        sides,
        [
            ("sess-a".to_string(), "in_progress".to_string()),
            ("sess-b".to_string(), "pending".to_string())
        ]
    );
    // Both disagreements are listed: the changelog too (sess-a still says pending).
    let listed = call(&first, "conflicts", json!({})).await;
    assert_eq!(listed["count"], 2);
    assert!(listed["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str() && c["sides"].as_array().unwrap().len() == 2));

    // A todo not known yet is added by content, in the caller's project.
    let added = call(
        &second,
        "plan_update",
        json!({"content": "Tag the release", "status": "in_progress", "activeForm": "Tagging the release"}),
    )
    .await;
    assert_eq!(added["added"], true);
    assert_eq!(added["todo"]["project"], "shop");
    assert_eq!(added["todo"]["activeForm"], "Tagging the release");

    first.cancel().await.unwrap();
    second.cancel().await.unwrap();
}

#[tokio::test]
async fn a_session_nothing_names_is_the_client_and_folder_and_is_told_so() {
    let sandbox = Sandbox::new();
    let cwd = project(&sandbox);
    let client = connect(&sandbox, &cwd, "codex-mcp-client", None).await;
    let written = call(
        &client,
        "plan_write",
        json!({"todos": [{"content": "Profile the search", "status": "pending"}]}),
    )
    .await;
    let observer = format!("mcp:codex-mcp-client:{}", cwd.display());
    assert_eq!(written["caller"]["session"], observer);
    assert_eq!(written["caller"]["identified_by"], "none");
    assert!(written["caller"]["note"]
        .as_str()
        .unwrap()
        .contains("did not say which session"));
    let todo = find(written["todos"].as_array().unwrap(), "Profile the search");
    assert_eq!(todo["agents"], json!(["mcp"]));
    assert_eq!(todo["sessions"], json!([observer]));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_requests_are_errors_and_the_server_lives_on() {
    let sandbox = Sandbox::new();
    let cwd = project(&sandbox);
    let client = connect(&sandbox, &cwd, "claude-code", Some("sess-x")).await;

    match call_raw(&client, "plan_delete_everything", json!({})).await {
        Err(ServiceError::McpError(e)) => {
            assert!(e.message.contains("unknown tool"), "{e:?}")
        }
        other => panic!("an unknown tool is a protocol error, got {other:?}"),
    }
    for (args, names) in [
        (json!({"todos": "all of them"}), "`todos`: must be an array"),
        (json!({}), "`todos`: missing"),
        (
            json!({"todos": [{"content": 3, "status": "pending"}]}),
            "`todos[0].content`: must be a string",
        ),
        (
            json!({"todos": [{"content": "a", "status": "done"}]}),
            "`todos[0].status`: unknown status `done`",
        ),
        (
            json!({"todos": [{"content": "a", "status": "pending", "owner": "me"}]}),
            "`todos[0].owner`",
        ),
        (
            json!({"todos": [], "force": true}),
            "`force`: not an argument of plan_write",
        ),
    ] {
        let message = call_error(&client, "plan_write", args.clone()).await;
        assert!(message.contains(names), "{args}: {message}");
    }
    let message = call_error(&client, "plan_update", json!({"status": "completed"})).await;
    assert!(message.contains("`id`"), "{message}");
    let message = call_error(
        &client,
        "plan_update",
        json!({"id": "ffffffff", "status": "completed"}),
    )
    .await;
    assert!(message.contains("no todo has the id"), "{message}");
    let message = call_error(&client, "plan_list", json!({"status": 7})).await;
    assert!(
        message.contains("`status`: must be a string, not a number"),
        "{message}"
    );

    // A 10 MB argument: refused with its size, nothing stored.
    let huge = "x".repeat(10 << 20);
    let message = call_error(
        &client,
        "plan_write",
        json!({"todos": [{"content": huge, "status": "pending"}]}),
    )
    .await;
    assert!(
        message.contains("`todos[0].content`: 10485760 bytes long"),
        "{message}"
    );

    // Still serving, and nothing half-written.
    let listed = call(
        &client,
        "plan_list",
        json!({"project": "*", "status": "deleted"}),
    )
    .await;
    assert_eq!(listed["count"], 0);
    let listed = call(&client, "plan_list", json!({"project": "*"})).await;
    assert_eq!(listed["count"], 0);
    client.cancel().await.unwrap();
}

#[test]
fn a_client_that_goes_away_mid_call_leaves_the_server_and_store_sound() {
    use std::io::Write;
    let sandbox = Sandbox::new();
    let cwd = project(&sandbox);
    let mut child = sandbox
        .command()
        .arg("mcp")
        .current_dir(&cwd)
        .env("CLAUDE_CODE_SESSION_ID", "sess-gone")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for message in [
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "leaver", "version": "1"}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "plan_write", "arguments": {"todos": [
                    {"content": "Left behind", "status": "in_progress"}]}}}),
        ] {
            writeln!(stdin, "{message}").unwrap();
        }
        // Dropped here: stdin closes while the call may still be running,
        // and nobody reads the answer (stdout goes nowhere).
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = tx.send(out);
    });
    let out = rx
        .recv_timeout(GUARD)
        .expect("the server exits once its client is gone")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The store is whole: the CLI reads it, and the write either happened or not.
    let listed = cli_json(&sandbox, &["todos", "--json"]);
    assert!(listed.as_array().unwrap().len() <= 1, "{listed}");
}

// ---- mcp install | uninstall ----

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.command().arg("mcp").args(args).output().unwrap()
}

/// Each agent's config as the sandbox's `--agents-home` and `--claude-dir` place it.
fn config_of(sandbox: &Sandbox, agent: &str) -> PathBuf {
    let home = sandbox.dir.path();
    match agent {
        "claude" => sandbox.claude().join(".claude.json"),
        "codex" => home.join(".codex/config.toml"),
        "gemini" => home.join(".gemini/settings.json"),
        "qwen" => home.join(".qwen/settings.json"),
        "opencode" => home.join(".config/opencode/opencode.json"),
        _ => unreachable!(),
    }
}

const CLAUDE_JSON: &str = r#"{
  "numStartups": 42,
  "projects": {
    "/home/me/shop": {"allowedTools": [], "mcpServers": {}}
  },
  "mcpServers": {
    "github": {"type": "stdio", "command": "gh-mcp", "args": [], "env": {"TOKEN": "x"}}
  },
  "tipsHistory": {"new-user-warmup": 1e3}
}
"#;

const CODEX_TOML: &str = r#"# my Codex setup
model = "gpt-5-codex"   # the default model

[mcp_servers.docs]
command = "docs-mcp"
args = ["--stdio"]

# projects I trust
[projects."/home/me/shop"]
trust_level = "trusted"
"#;

const GEMINI_JSON: &str =
    "{\n    \"theme\": \"Dracula\",\n    \"selectedAuthType\": \"oauth-personal\"\n}";

const QWEN_JSON: &str =
    "{\"mcpServers\":{\"fs\":{\"command\":\"fs-mcp\"}},\"ui\":{\"theme\":\"Qwen Dark\"}}\n";

const OPENCODE_JSON: &str = r#"{
	"$schema": "https://opencode.ai/config.json",
	"mcp": {
		"jira": {"type": "remote", "url": "https://jira.example.org/mcp", "enabled": true}
	}
}
"#;

#[test]
fn install_and_uninstall_keep_every_other_byte_of_each_agents_config() {
    let sandbox = Sandbox::new();
    for (agent, original) in [
        ("claude", CLAUDE_JSON),
        ("codex", CODEX_TOML),
        ("gemini", GEMINI_JSON),
        ("qwen", QWEN_JSON),
        ("opencode", OPENCODE_JSON),
    ] {
        let path = config_of(&sandbox, agent);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, original).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640))
            .unwrap();

        let out = run(&sandbox, &["install", "--agent", agent]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{agent}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("registered"), "{agent}: {stdout}");
        let installed = std::fs::read_to_string(&path).unwrap();
        assert_ne!(installed, original, "{agent}");
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o640
        );
        let backup = path.with_file_name(format!(
            "{}.chittysync-backup",
            path.file_name().unwrap().to_string_lossy()
        ));
        assert_eq!(
            std::fs::read_to_string(&backup).unwrap(),
            original,
            "{agent}"
        );

        // The entry is there, in the agent's own shape, running `… mcp`.
        let command: Vec<String> = if agent == "codex" {
            let doc: toml_value::Doc = toml_value::parse(&installed);
            doc.command()
        } else {
            let doc: Value = serde_json::from_str(&installed).unwrap();
            let entry = if agent == "opencode" {
                &doc["mcp"]["chittysync"]
            } else {
                &doc["mcpServers"]["chittysync"]
            };
            match agent {
                "opencode" => {
                    assert_eq!(entry["type"], "local");
                    serde_json::from_value(entry["command"].clone()).unwrap()
                }
                _ => {
                    let mut words = vec![entry["command"].as_str().unwrap().to_string()];
                    words.extend(
                        serde_json::from_value::<Vec<String>>(entry["args"].clone()).unwrap(),
                    );
                    words
                }
            }
        };
        assert!(command[0].ends_with("chittysync"), "{agent}: {command:?}");
        assert_eq!(command.last().map(String::as_str), Some("mcp"), "{agent}");
        assert!(
            command.contains(&"--home".to_string()),
            "{agent}: {command:?}"
        );

        // Idempotent.
        let again = run(&sandbox, &["install", "--agent", agent]);
        assert!(again.status.success());
        assert!(String::from_utf8_lossy(&again.stdout).contains("unchanged"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            installed,
            "{agent}"
        );

        let out = run(&sandbox, &["uninstall", "--agent", agent]);
        assert!(
            out.status.success(),
            "{agent}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            original,
            "{agent}: bytes back"
        );
        let out = run(&sandbox, &["uninstall", "--agent", agent]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("unchanged"));
    }
}

#[test]
fn a_config_install_creates_is_removed_by_uninstall() {
    let sandbox = Sandbox::new();
    for agent in ["gemini", "codex"] {
        let path = config_of(&sandbox, agent);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let out = run(&sandbox, &["install", "--agent", agent]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(path.exists(), "{agent}");
        let out = run(&sandbox, &["uninstall", "--agent", agent]);
        assert!(out.status.success());
        assert!(
            !path.exists(),
            "{agent}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn broken_configs_are_refused_untouched_and_named() {
    let sandbox = Sandbox::new();
    for (agent, broken) in [
        ("claude", "{\"mcpServers\": {\"a\": 1,}}\n"),
        ("codex", "[mcp_servers\ncommand = 1\n"),
        ("gemini", "{\"mcpServers\": [\"not\", \"an object\"]}"),
        ("opencode", "{\n  // a comment\n  \"mcp\": {}\n}\n"),
    ] {
        let path = config_of(&sandbox, agent);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, broken).unwrap();
        let out = run(&sandbox, &["install", "--agent", agent]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{agent}: {stderr}");
        assert!(stderr.contains("refusing to change"), "{agent}: {stderr}");
        assert!(
            stderr.contains(&path.file_name().unwrap().to_string_lossy().to_string()),
            "{agent}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken, "{agent}");
    }
}

/// Reads chittysync's entry of a Codex config back (a tiny reader for the
/// test's own file: `command = "…"` and `args = [ … ]` under its table).
mod toml_value {
    pub struct Doc(String);

    pub fn parse(text: &str) -> Doc {
        Doc(text.to_string())
    }

    impl Doc {
        pub fn command(&self) -> Vec<String> {
            let section = self
                .0
                .split("[mcp_servers.chittysync]")
                .nth(1)
                .expect("the table is there");
            let value = |key: &str| {
                section
                    .lines()
                    .find_map(|l| l.trim().strip_prefix(key))
                    .map(|rest| rest.trim_start().trim_start_matches('=').trim().to_string())
                    .expect("the key is there")
            };
            let mut words = vec![serde_json::from_str::<String>(&value("command")).unwrap()];
            words.extend(serde_json::from_str::<Vec<String>>(&value("args")).unwrap());
            words
        }
    }
}

/// docs/COLLISIONS.md: a plan write that makes a todo collide answers with the hook's
/// warning, naming the other session (short id, agent, device, since when),
/// once per collision; the collision is the one `chittysync collisions` lists.
#[tokio::test]
async fn a_write_that_collides_is_warned_of_the_other_session_once() {
    let sandbox = Sandbox::new();
    let cwd = project(&sandbox);
    let a = "aaaaaaaa-1111-4111-8111-111111111111";
    let b = "bbbbbbbb-2222-4222-8222-222222222222";
    let first = connect(&sandbox, &cwd, "claude-code", Some(a)).await;
    let second = connect(&sandbox, &cwd, "claude-code", Some(b)).await;

    let alone = call(
        &first,
        "plan_write",
        json!({"todos": [{"content": "Migrate the database", "status": "in_progress"}]}),
    )
    .await;
    assert_eq!(alone["warning"], Value::Null, "{alone}");
    assert_eq!(alone["collisions"], json!([]));

    // The second session takes the same todo: told of the first.
    let taken = call(
        &second,
        "plan_update",
        json!({"content": "migrate the  database", "status": "in_progress"}),
    )
    .await;
    let warning = taken["warning"]
        .as_str()
        .unwrap_or_else(|| panic!("{taken}"));
    let collisions = taken["collisions"].as_array().unwrap();
    assert_eq!(collisions.len(), 1);
    let device = collisions[0]["sessions"][0]["device"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!device.is_empty());
    assert!(warning.starts_with("chittysync: collision"), "{warning}");
    assert!(
        warning.contains(&format!(
            "\"Migrate the database\" (project `shop`): session aaaaaaaa (claude on {device}, in progress since "
        )),
        "{warning}"
    );
    assert!(warning.ends_with(" ago)"), "{warning}");
    assert!(
        !warning.contains("bbbbbbbb"),
        "the writer is not named to itself: {warning}"
    );
    let holders: Vec<&str> = collisions[0]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["session"].as_str().unwrap())
        .collect();
    assert_eq!(holders, [a, b]);
    let listed = cli_json(&sandbox, &["collisions", "--json"]);
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "the CLI lists the same collision: {listed}"
    );
    assert_eq!(listed[0]["todo_id"], collisions[0]["todo_id"]);

    // Once per collision: writing it again tells nothing new.
    let again = call(
        &second,
        "plan_write",
        json!({"todos": [{"content": "Migrate the database", "status": "in_progress"}]}),
    )
    .await;
    assert_eq!(again["warning"], Value::Null, "{again}");

    // The first session, writing its plan again, is told of the second once.
    let told = call(
        &first,
        "plan_write",
        json!({"todos": [{"content": "Migrate the database", "status": "in_progress"}]}),
    )
    .await;
    let warning = told["warning"].as_str().unwrap_or_else(|| panic!("{told}"));
    assert!(
        warning.contains(&format!(
            "session bbbbbbbb (claude on {device}, in progress since "
        )),
        "{warning}"
    );
    let quiet = call(
        &first,
        "plan_update",
        json!({"content": "Migrate the database", "status": "in_progress"}),
    )
    .await;
    assert_eq!(quiet["warning"], Value::Null, "{quiet}");

    first.cancel().await.unwrap();
    second.cancel().await.unwrap();
}
