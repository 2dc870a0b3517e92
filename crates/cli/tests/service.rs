//! `service install|uninstall|status` under a temporary HOME, with no service
//! manager on the PATH (so nothing outside the sandbox is touched).

mod common;

use common::Sandbox;
use std::path::PathBuf;
use std::process::Output;

struct Env {
    sandbox: Sandbox,
    user_home: PathBuf,
    empty_path: PathBuf,
}

impl Env {
    fn new() -> Env {
        let sandbox = Sandbox::new();
        let user_home = sandbox.dir.path().join("user");
        let empty_path = sandbox.dir.path().join("no-bin");
        std::fs::create_dir_all(&user_home).unwrap();
        std::fs::create_dir_all(&empty_path).unwrap();
        Env {
            sandbox,
            user_home,
            empty_path,
        }
    }

    fn service(&self, args: &[&str]) -> Output {
        let out = self
            .sandbox
            .command()
            .arg("service")
            .args(args)
            .env("HOME", &self.user_home)
            .env_remove("XDG_CONFIG_HOME")
            .env("PATH", &self.empty_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8(self.service(args).stdout).unwrap()
    }
}

#[test]
fn systemd_unit_runs_this_binary_with_log_paths() {
    let env = Env::new();
    let unit = env
        .user_home
        .join(".config/systemd/user/chittysync.service");
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_chittysync")).unwrap();
    let home = env.sandbox.home();

    let dry = env.stdout(&["install", "--dry-run", "--manager", "systemd"]);
    assert!(!unit.exists(), "--dry-run wrote the unit");
    assert!(dry.contains("Restart=on-failure"), "{dry}");
    assert!(
        dry.contains("systemctl --user enable --now chittysync.service"),
        "{dry}"
    );

    let out = env.service(&["install", "--manager", "systemd"]);
    let text = std::fs::read_to_string(&unit).unwrap();
    let exec = text.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert_eq!(
        exec,
        format!(
            "ExecStart=\"{}\" \"--home\" \"{}\" \"--claude-dir\" \"{}\" \"daemon\"",
            exe.display(),
            home.display(),
            env.sandbox.claude().display()
        )
    );
    assert!(text.contains("Restart=on-failure\n"));
    assert!(text.contains(&format!(
        "StandardOutput=append:{}/logs/daemon.out\n",
        home.display()
    )));
    assert!(text.contains(&format!(
        "StandardError=append:{}/logs/daemon.err\n",
        home.display()
    )));
    assert!(text.contains("WantedBy=default.target"));
    assert!(home.join("logs").is_dir());
    // No systemctl here: it says what to run instead.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("systemctl --user daemon-reload"), "{said}");

    let status = env.stdout(&["status", "--manager", "systemd"]);
    assert!(status.contains("installed"), "{status}");
    assert!(status.contains("not running"), "{status}");

    env.service(&["uninstall", "--manager", "systemd"]);
    assert!(!unit.exists());
    let status = env.stdout(&["status", "--manager", "systemd"]);
    assert!(status.contains("not installed"), "{status}");
}

#[test]
fn launchd_plist_keeps_the_daemon_alive_with_log_paths() {
    let env = Env::new();
    let plist = env
        .user_home
        .join("Library/LaunchAgents/dev.chittysync.daemon.plist");
    env.service(&["install", "--manager", "launchd"]);
    let text = std::fs::read_to_string(&plist).unwrap();
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_chittysync")).unwrap();
    let home = env.sandbox.home();
    assert!(
        text.contains(&format!("<string>{}</string>", exe.display())),
        "{text}"
    );
    assert!(text.contains("<string>daemon</string>"));
    assert!(text.contains("<key>KeepAlive</key>"));
    assert!(text.contains(&format!(
        "<key>StandardOutPath</key>\n  <string>{}/logs/daemon.out</string>",
        home.display()
    )));
    assert!(text.contains(&format!(
        "<key>StandardErrorPath</key>\n  <string>{}/logs/daemon.err</string>",
        home.display()
    )));
    let dry = env.stdout(&["uninstall", "--dry-run", "--manager", "launchd"]);
    assert!(dry.contains("launchctl bootout gui/"), "{dry}");
    assert!(plist.exists());
    env.service(&["uninstall", "--manager", "launchd"]);
    assert!(!plist.exists());
}
