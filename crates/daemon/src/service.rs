//! Service files that keep the daemon running: a systemd user unit (Linux) or
//! a LaunchAgent (macOS), each restarting it when it fails and sending its
//! output to files in `<home>/logs/` (a service with no log paths loses every
//! message). Both are generated on any OS, so both are tested everywhere.

use std::path::{Path, PathBuf};

/// Which service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    Systemd,
    Launchd,
}

impl ServiceKind {
    /// This OS's manager.
    pub fn native() -> ServiceKind {
        if cfg!(target_os = "macos") {
            ServiceKind::Launchd
        } else {
            ServiceKind::Systemd
        }
    }
}

/// The systemd unit's name.
pub const SYSTEMD_UNIT: &str = "chittysync.service";
/// The LaunchAgent's label.
pub const LAUNCHD_LABEL: &str = "dev.chittysync.daemon";

/// What the service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The chittysync binary, absolute.
    pub exe: PathBuf,
    /// Arguments before `daemon` (`--home`, `--claude-dir`, `--config`), absolute paths.
    pub global_args: Vec<String>,
    /// Where the service's stdout and stderr go.
    pub logs_dir: PathBuf,
}

impl ServiceSpec {
    fn argv(&self) -> Vec<String> {
        let mut argv = vec![self.exe.display().to_string()];
        argv.extend(self.global_args.iter().cloned());
        argv.push("daemon".to_string());
        argv
    }

    /// The file the service's stdout is appended to.
    pub fn stdout(&self) -> PathBuf {
        self.logs_dir.join("daemon.out")
    }

    /// The file the service's stderr is appended to.
    pub fn stderr(&self) -> PathBuf {
        self.logs_dir.join("daemon.err")
    }
}

/// A service file, where it goes, and the manager commands around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlan {
    pub kind: ServiceKind,
    pub path: PathBuf,
    pub contents: String,
    /// Run after writing the file: load and start.
    pub install: Vec<Vec<String>>,
    /// Run before removing the file: stop and unload.
    pub stop: Vec<Vec<String>>,
    /// Run after removing the file.
    pub after_removal: Vec<Vec<String>>,
    /// Asks the manager about the service.
    pub status: Vec<String>,
}

/// The plan for `kind`, with `user_home` the user's home folder (`$HOME`)
/// and `uid` the user's id (launchd addresses the user's GUI domain by it).
pub fn plan(kind: ServiceKind, spec: &ServiceSpec, user_home: &Path, uid: u32) -> ServicePlan {
    let argv = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    match kind {
        ServiceKind::Systemd => ServicePlan {
            kind,
            path: systemd_dir(user_home).join(SYSTEMD_UNIT),
            contents: systemd_unit(spec),
            install: vec![
                argv(&["systemctl", "--user", "daemon-reload"]),
                argv(&["systemctl", "--user", "enable", "--now", SYSTEMD_UNIT]),
            ],
            stop: vec![argv(&[
                "systemctl",
                "--user",
                "disable",
                "--now",
                SYSTEMD_UNIT,
            ])],
            after_removal: vec![argv(&["systemctl", "--user", "daemon-reload"])],
            status: argv(&["systemctl", "--user", "is-active", SYSTEMD_UNIT]),
        },
        ServiceKind::Launchd => {
            let path = user_home
                .join("Library/LaunchAgents")
                .join(format!("{LAUNCHD_LABEL}.plist"));
            let domain = format!("gui/{uid}");
            let target = format!("{domain}/{LAUNCHD_LABEL}");
            let plist = path.display().to_string();
            ServicePlan {
                kind,
                contents: launchd_plist(spec),
                install: vec![argv(&["launchctl", "bootstrap", &domain, &plist])],
                stop: vec![argv(&["launchctl", "bootout", &target])],
                after_removal: Vec::new(),
                status: argv(&["launchctl", "print", &target]),
                path,
            }
        }
    }
}

/// `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`.
fn systemd_dir(user_home: &Path) -> PathBuf {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| user_home.join(".config"))
        .join("systemd/user")
}

/// systemd's quoting: each word in double quotes, `\` and `"` escaped, `%`
/// doubled (specifiers) and `$` doubled (variables).
fn systemd_word(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
        .replace('$', "$$");
    format!("\"{escaped}\"")
}

/// A path after `append:` is not a word: only `%` is special there.
fn systemd_path(path: &Path) -> String {
    path.display().to_string().replace('%', "%%")
}

fn systemd_unit(spec: &ServiceSpec) -> String {
    let exec: Vec<String> = spec.argv().iter().map(|w| systemd_word(w)).collect();
    format!(
        "[Unit]\n\
         Description=chittysync daemon: keeps the consolidated todo list of Claude Code sessions current\n\
         After=default.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={}\n\
         Restart=on-failure\n\
         RestartSec=5\n\
         StandardOutput=append:{}\n\
         StandardError=append:{}\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        exec.join(" "),
        systemd_path(&spec.stdout()),
        systemd_path(&spec.stderr()),
    )
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn launchd_plist(spec: &ServiceSpec) -> String {
    let args: String = spec
        .argv()
        .iter()
        .map(|a| format!("    <string>{}</string>\n", xml(a)))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
{args}  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <key>StandardOutPath</key>
  <string>{}</string>
  <key>StandardErrorPath</key>
  <string>{}</string>
</dict>
</plist>
"#,
        xml(&spec.stdout().display().to_string()),
        xml(&spec.stderr().display().to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ServiceSpec {
        ServiceSpec {
            exe: "/opt/chitty sync/bin/chittysync".into(),
            global_args: vec!["--home".into(), "/data/100%".into()],
            logs_dir: "/data/100%/logs".into(),
        }
    }

    #[test]
    fn systemd_unit_quotes_and_sets_log_paths() {
        let plan = plan(ServiceKind::Systemd, &spec(), Path::new("/home/u"), 1000);
        assert!(plan.path.ends_with("systemd/user/chittysync.service"));
        assert!(plan.contents.contains(
            "ExecStart=\"/opt/chitty sync/bin/chittysync\" \"--home\" \"/data/100%%\" \"daemon\"\n"
        ));
        assert!(plan.contents.contains("Restart=on-failure\n"));
        assert!(plan
            .contents
            .contains("StandardError=append:/data/100%%/logs/daemon.err\n"));
    }

    #[test]
    fn launchd_plist_keeps_alive_with_log_paths() {
        let plan = plan(ServiceKind::Launchd, &spec(), Path::new("/Users/u"), 501);
        assert_eq!(
            plan.path,
            Path::new("/Users/u/Library/LaunchAgents/dev.chittysync.daemon.plist")
        );
        assert!(plan.contents.contains("<key>KeepAlive</key>"));
        assert!(plan
            .contents
            .contains("<string>/data/100%/logs/daemon.out</string>"));
        assert_eq!(
            plan.install[0],
            [
                "launchctl",
                "bootstrap",
                "gui/501",
                plan.path.to_str().unwrap()
            ]
        );
    }
}
