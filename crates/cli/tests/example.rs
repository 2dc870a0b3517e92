//! The bundled example (`examples/claude-home`) folds to what its README says.

mod common;

use common::Sandbox;
use serde_json::Value;
use std::path::Path;

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/claude-home")
        .to_string_lossy()
        .into_owned()
}

fn run_on_example(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chittysync"));
    cmd.arg("--claude-dir")
        .arg(example())
        .arg("--home")
        .arg(sb.home())
        .args(args);
    cmd.output().unwrap()
}

fn json_on_example(sb: &Sandbox, args: &[&str]) -> Value {
    let out = run_on_example(sb, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_example_folds_as_documented() {
    let sb = Sandbox::new();
    let out = run_on_example(&sb, &["consolidate", "--json"]);
    assert!(out.status.success());
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(summary["unique_todos"], 50, "{stderr}");
    assert_eq!(summary["projects"], 6);
    assert_eq!(summary["conflicts"], 9);
    for named in [
        "coordination.json: not a list of todos",
        "notes.md:",
        "19188b16-d81d-43e4-8b35-89e230aa617c.json: invalid JSON",
        "6369855f-f04f-4bb9-b384-8885883980a9.json: 1 unknown status",
        "6369855f-f04f-4bb9-b384-8885883980a9.json: 1 entry without",
        "42281ae4-1379-47f6-84bc-0849fd605db0.jsonl:9:",
    ] {
        assert!(stderr.contains(named), "missing warning {named}: {stderr}");
    }
    assert_eq!(stderr.lines().count(), 6, "{stderr}");

    let todos = json_on_example(&sb, &["todos", "--json"]);
    let status = |content: &str| -> String {
        todos
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["content"] == content)
            .unwrap_or_else(|| panic!("{content} missing"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Finished lists whose todo files are `[]`: known from the transcripts.
    for done in [
        "Add Redis-backed token bucket",
        "Reproduce the login redirect bug",
        "Add keyboard shortcuts to the command palette",
        "Bump Terraform AWS provider to 6.x",
        "Add search to the docs navbar",
        "Export invoices as CSV",
        "Cut the release/2.4 branch",
    ] {
        assert_eq!(status(done), "completed", "{done}");
    }
    assert_eq!(status("Run the full regression suite"), "in_progress");
    assert_eq!(status("Tag v2.4.0 and publish images"), "pending");
    let release: Vec<&Value> = todos
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["content"] == "Cut the release/2.4 branch")
        .collect();
    assert_eq!(release.len(), 1);
    assert_eq!(
        release[0]["project"], "api",
        "the shared list's sessions are api sessions"
    );

    let deleted = json_on_example(&sb, &["todos", "--status", "deleted", "--json"]);
    assert_eq!(deleted.as_array().unwrap().len(), 1);
    assert_eq!(deleted[0]["content"], "Drop the legacy /v1/export endpoint");

    let conflicts = json_on_example(&sb, &["conflicts", "--json"]);
    let snapshot = conflicts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["content"] == "Update snapshot tests")
        .unwrap();
    assert_eq!(snapshot["resolution"], "in_progress");
    assert_eq!(snapshot["sides"].as_array().unwrap().len(), 3);
}
