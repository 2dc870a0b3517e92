//! `hooks install|uninstall` on real settings files, from the real binary:
//! every byte kept, links written through, read-only files refused, backups
//! never overwritten, entries known by their marker, the plan tools turned on
//! and reported by `status`.

mod common;

use common::Sandbox;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const VAR: &str = "CLAUDE_CODE_ENABLE_TODO_TOOLS";

fn run(sandbox: &Sandbox, args: &[&str], settings: &Path) -> Output {
    let mut cmd = sandbox.command();
    cmd.args(args)
        .arg("--settings")
        .arg(settings)
        .env_remove(VAR);
    cmd.output().unwrap()
}

fn ok(sandbox: &Sandbox, args: &[&str], settings: &Path) -> String {
    let out = run(sandbox, args, settings);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn backup(path: &Path, n: usize) -> PathBuf {
    let name = path.file_name().unwrap().to_str().unwrap();
    let suffix = if n == 0 {
        String::new()
    } else {
        format!(".{n}")
    };
    path.with_file_name(format!("{name}.chittysync-backup{suffix}"))
}

/// The three entries and the plan tools are in place, each entry once.
fn assert_installed(path: &Path) {
    let settings = read_json(path);
    for event in ["SessionStart", "PostToolUse", "SessionEnd"] {
        let ours: Vec<&Value> = settings["hooks"][event]
            .as_array()
            .unwrap_or_else(|| panic!("no {event} in {settings}"))
            .iter()
            .flat_map(|g| g["hooks"].as_array().unwrap())
            .filter(|h| {
                h["command"]
                    .as_str()
                    .unwrap()
                    .ends_with(" # chittysync-hook")
            })
            .collect();
        assert_eq!(ours.len(), 1, "{event}: {settings}");
    }
    assert_eq!(settings["env"][VAR], "1", "{settings}");
}

/// Whether `after` is `before` with text inserted and nothing changed or
/// removed (`before` is a subsequence of `after`).
fn only_inserted(before: &str, after: &str) -> bool {
    let mut rest = after.chars();
    before.chars().all(|c| rest.any(|d| d == c))
}

#[test]
fn uninstall_after_install_gives_back_every_byte() {
    let sandbox = Sandbox::new();
    let shapes: &[(&str, &str)] = &[
        ("compact", "{\"model\":\"opus\",\"cleanupPeriodDays\":1e3}"),
        (
            "four-spaces",
            "{\n    \"model\": \"opus\",\n    \"cleanupPeriodDays\": 1e3\n}\n",
        ),
        (
            "tabs",
            "{\n\t\"permissions\": {\n\t\t\"allow\": [\"Bash(ls:*)\"]\n\t},\n\t\"n\": 1.50\n}",
        ),
        (
            "escapes",
            "{\n  \"statusLine\": \"caf\\u00e9 \\/ \\ud83d\\ude00\",\n  \"z\": 0,\n  \"a\": -0.0E+2\n}\n",
        ),
        (
            "other-hooks",
            "{\n  \"hooks\": {\n    \"PostToolUse\": [\n      {\n        \"matcher\": \"Bash\",\n        \"hooks\": [{\"type\": \"command\", \"command\": \"echo mine\"}]\n      }\n    ],\n    \"Stop\": [{\"hooks\": [{\"type\": \"command\", \"command\": \"notify-send done\"}]}]\n  },\n  \"env\": {\"OTHER\": \"x\"}\n}\n",
        ),
        ("crlf", "{\r\n  \"model\": \"opus\"\r\n}\r\n"),
        ("empty-object", "{}"),
        ("empty-object-newline", "{}\n"),
    ];
    for (name, original) in shapes {
        let path = sandbox.dir.path().join(format!("{name}.json"));
        std::fs::write(&path, original).unwrap();
        let out = ok(&sandbox, &["hooks", "install"], &path);
        assert!(out.contains("installed"), "{name}: {out}");
        let installed = std::fs::read_to_string(&path).unwrap();
        assert_installed(&path);
        // Install only inserted: every byte of the original is there, in order.
        assert!(
            only_inserted(original, &installed),
            "{name}: install changed bytes of {original:?}: {installed}"
        );
        assert_eq!(
            installed.ends_with('\n'),
            original.ends_with('\n'),
            "{name}: the end of the file changed"
        );
        assert!(
            ok(&sandbox, &["hooks", "install"], &path).contains("unchanged"),
            "{name}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), installed);

        let out = ok(&sandbox, &["hooks", "uninstall"], &path);
        assert!(out.contains("removed"), "{name}: {out}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            *original,
            "{name}: uninstall did not give back the original"
        );
    }
}

#[test]
fn a_compact_file_stays_on_one_line_and_keeps_its_spelling() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("settings.json");
    let original = "{\"model\":\"opus\",\"n\":1e3,\"s\":\"\\u00e9\"}";
    std::fs::write(&path, original).unwrap();
    ok(&sandbox, &["hooks", "install"], &path);
    let installed = std::fs::read_to_string(&path).unwrap();
    assert!(
        installed.starts_with(original.trim_end_matches('}')),
        "{installed}"
    );
    assert!(!installed.contains('\n'), "{installed}");
}

#[test]
fn a_missing_file_is_created_private_and_removed_again() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("new").join("settings.json");
    ok(&sandbox, &["hooks", "install"], &path);
    assert_installed(&path);
    assert_eq!(mode(&path), 0o600);
    ok(&sandbox, &["hooks", "uninstall"], &path);
    assert!(!path.exists(), "uninstall left the file install created");
    assert!(!backup(&path, 0).exists());
}

#[test]
fn a_file_created_in_a_linked_folder_is_removed_again() {
    let sandbox = Sandbox::new();
    let real = sandbox.dir.path().join("dotfiles-claude");
    std::fs::create_dir_all(&real).unwrap();
    let linked = sandbox.dir.path().join("linked-claude");
    std::os::unix::fs::symlink(&real, &linked).unwrap();
    let path = linked.join("settings.json");
    ok(&sandbox, &["hooks", "install"], &path);
    assert_installed(&real.join("settings.json"));
    let out = ok(&sandbox, &["hooks", "uninstall"], &path);
    assert!(out.contains("plan tools: removed"), "{out}");
    assert!(!real.join("settings.json").exists(), "{out}");
}

#[test]
fn a_linked_settings_file_is_written_through_its_link() {
    let sandbox = Sandbox::new();
    let dotfiles = sandbox.dir.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let real = dotfiles.join("claude-settings.json");
    let original = "{\n  \"model\": \"opus\"\n}\n";
    std::fs::write(&real, original).unwrap();
    let link = sandbox.claude().join("settings.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let out = sandbox.ok(&["hooks", "install"]);
    assert!(
        out.contains("claude-settings.json"),
        "names the real file: {out}"
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), real);
    assert_installed(&real);
    assert!(
        std::fs::read_dir(&dotfiles).unwrap().count() == 1,
        "a temporary file was left beside the target"
    );
    sandbox.ok(&["hooks", "uninstall"]);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), original);
}

#[test]
fn a_read_only_file_is_refused_and_left_alone() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("settings.json");
    std::fs::write(&path, "{\"model\": \"opus\"}\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = run(&sandbox, &["hooks", "install"], &path);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("read-only") && stderr.contains(path.to_str().unwrap()),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"model\": \"opus\"}\n"
    );
    assert_eq!(mode(&path), 0o444);
    assert!(!backup(&path, 0).exists());
}

#[test]
fn backups_keep_the_mode_and_are_never_overwritten() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("settings.json");
    let original = "{\n  \"env\": {\"API_KEY\": \"secret\"}\n}\n";
    std::fs::write(&path, original).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let out = ok(&sandbox, &["hooks", "install"], &path);
    assert!(out.contains(backup(&path, 0).to_str().unwrap()), "{out}");
    assert_eq!(std::fs::read_to_string(backup(&path, 0)).unwrap(), original);
    assert_eq!(mode(&backup(&path, 0)), 0o600);
    assert_eq!(mode(&path), 0o600, "the new file keeps the mode");
    let installed = std::fs::read_to_string(&path).unwrap();

    ok(&sandbox, &["hooks", "uninstall"], &path);
    assert_eq!(
        std::fs::read_to_string(backup(&path, 0)).unwrap(),
        original,
        "uninstall overwrote the first backup"
    );
    assert_eq!(
        std::fs::read_to_string(backup(&path, 1)).unwrap(),
        installed
    );
    assert_eq!(mode(&backup(&path, 1)), 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);

    // Bytes already kept in a backup are not copied again.
    ok(&sandbox, &["hooks", "install"], &path);
    ok(&sandbox, &["hooks", "uninstall"], &path);
    assert!(!backup(&path, 2).exists());
}

#[test]
fn a_renamed_binary_knows_its_entries() {
    let sandbox = Sandbox::new();
    let copy = sandbox.dir.path().join("bin").join("cs-renamed");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    // Copied by another process: a file this process wrote could still be
    // open in a child forked meanwhile by another test, and not executable.
    let copied = std::process::Command::new("cp")
        .arg(env!("CARGO_BIN_EXE_chittysync"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(copied.success());
    let renamed = |args: &[&str]| {
        let out = std::process::Command::new(&copy)
            .args(["--color", "never", "--home"])
            .arg(sandbox.home())
            .args(["--claude-dir"])
            .arg(sandbox.claude())
            .args(args)
            .env_remove("CHITTYSYNC_HOME")
            .env_remove("CHITTYSYNC_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let path = sandbox.claude().join("settings.json");
    std::fs::write(&path, "{}\n").unwrap();

    renamed(&["hooks", "install"]);
    assert!(renamed(&["hooks", "install"]).contains("unchanged"));
    assert_installed(&path);
    let command = read_json(&path)["hooks"]["SessionEnd"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(command.contains("cs-renamed"), "{command}");

    // The real binary takes the entries over in place, and the copy removes them.
    sandbox.ok(&["hooks", "install"]);
    assert_installed(&path);
    let out = renamed(&["hooks", "uninstall"]);
    assert!(!out.contains("unchanged"), "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
}

#[test]
fn entries_of_earlier_versions_are_upgraded_and_removed() {
    let sandbox = Sandbox::new();
    let path = sandbox.claude().join("settings.json");
    let old = "{\n  \"hooks\": {\n    \"SessionStart\": [\n      {\n        \"hooks\": [\n          {\n            \"type\": \"command\",\n            \"command\": \"/old/place/chittysync --home /h hook session-start\",\n            \"timeout\": 10\n          }\n        ]\n      }\n    ]\n  }\n}\n";
    std::fs::write(&path, old).unwrap();
    sandbox.ok(&["hooks", "install"]);
    assert_installed(&path);
    let start = read_json(&path)["hooks"]["SessionStart"].clone();
    assert_eq!(start.as_array().unwrap().len(), 1, "{start}");

    std::fs::write(&path, old).unwrap();
    sandbox.ok(&["hooks", "uninstall"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
}

#[test]
fn plan_tools_the_user_set_are_left_alone() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("settings.json");
    let original = "{\n  \"env\": {\n    \"CLAUDE_CODE_ENABLE_TODO_TOOLS\": \"0\"\n  }\n}\n";
    std::fs::write(&path, original).unwrap();
    let out = ok(&sandbox, &["hooks", "install"], &path);
    assert!(
        out.contains("left as you set them") && out.contains("\"0\""),
        "{out}"
    );
    assert_eq!(read_json(&path)["env"][VAR], "0");
    let out = ok(&sandbox, &["hooks", "uninstall"], &path);
    assert!(out.contains("left as you set them"), "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);

    // A value set by install and changed by the user since is the user's.
    let path = sandbox.dir.path().join("changed.json");
    std::fs::write(&path, "{\n  \"model\": \"opus\"\n}\n").unwrap();
    let out = ok(&sandbox, &["hooks", "install"], &path);
    assert!(out.contains("plan tools: turned on"), "{out}");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(": \"1\"", ": \"0\"")).unwrap();
    ok(&sandbox, &["hooks", "uninstall"], &path);
    assert_eq!(read_json(&path)["env"][VAR], "0");
}

#[test]
fn plan_tools_are_added_beside_other_variables_and_skipped_when_asked() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("settings.json");
    let original = "{\n  \"env\": {\n    \"OTHER\": \"x\"\n  }\n}\n";
    std::fs::write(&path, original).unwrap();
    ok(&sandbox, &["hooks", "install"], &path);
    let installed = read_json(&path);
    assert_eq!(installed["env"]["OTHER"], "x");
    assert_eq!(installed["env"][VAR], "1");
    ok(&sandbox, &["hooks", "uninstall"], &path);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);

    let out = ok(&sandbox, &["hooks", "install", "--no-plan-tools"], &path);
    assert!(out.contains("--no-plan-tools"), "{out}");
    assert!(read_json(&path)["env"].get(VAR).is_none());
    ok(&sandbox, &["hooks", "uninstall"], &path);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
}

#[test]
fn settings_of_the_wrong_shape_are_refused_and_untouched() {
    let sandbox = Sandbox::new();
    for (name, text, problem) in [
        ("hooks", "{\"hooks\": []}", "`hooks` is not an object"),
        ("env", "{\"env\": \"x=1\"}", "`env` is not an object"),
        ("root", "[1, 2]", "not a JSON object"),
        ("comma", "{\"a\": 1,}", "not valid JSON"),
        ("event", "{\"hooks\": {\"SessionStart\": {}}}", "not a list"),
    ] {
        let path = sandbox.dir.path().join(format!("{name}.json"));
        std::fs::write(&path, text).unwrap();
        let out = run(&sandbox, &["hooks", "install"], &path);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(problem) && stderr.contains(path.to_str().unwrap()),
            "{name}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert!(!backup(&path, 0).exists());
    }
}

mod status {
    use super::*;

    fn plan_tools(sandbox: &Sandbox, env: Option<&str>) -> (Value, String) {
        let status = |json: bool| {
            let mut cmd = sandbox.command();
            cmd.arg("status").env_remove(VAR);
            if json {
                cmd.arg("--json");
            }
            if let Some(value) = env {
                cmd.env(VAR, value);
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let report: Value = serde_json::from_str(&status(true)).unwrap();
        (report["plan_tools"].clone(), status(false))
    }

    #[test]
    fn status_says_whether_the_plan_tools_are_on_and_why() {
        let sandbox = Sandbox::new();
        let (plan, text) = plan_tools(&sandbox, None);
        assert_eq!(plan["on"], false, "{plan}");
        assert_eq!(plan["source"], "default");
        assert_eq!(plan["fix"], "chittysync hooks install");
        assert!(
            text.contains("plan tools") && text.contains("chittysync hooks install"),
            "{text}"
        );

        let (plan, _) = plan_tools(&sandbox, Some("0"));
        assert_eq!(plan["on"], false);
        assert_eq!(plan["source"], "environment");
        assert_eq!(plan["fix"], format!("export {VAR}=1"));

        let (plan, _) = plan_tools(&sandbox, Some("1"));
        assert_eq!(plan["on"], true);
        assert_eq!(plan["source"], "environment");
        assert!(plan["fix"].is_null());

        sandbox.ok(&["hooks", "install"]);
        let (plan, text) = plan_tools(&sandbox, None);
        assert_eq!(plan["on"], true, "{plan}");
        assert_eq!(plan["source"], "settings");
        assert_eq!(plan["settings_value"], "1");
        assert!(text.contains("settings.json"), "{text}");

        // The settings' env is what sessions get, over the shell's.
        let path = sandbox.claude().join("settings.json");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(": \"1\"", ": \"0\"")).unwrap();
        let (plan, _) = plan_tools(&sandbox, Some("1"));
        assert_eq!(plan["on"], false);
        assert_eq!(plan["source"], "settings");
        assert!(plan["fix"].as_str().unwrap().contains("settings.json"));
    }
}
