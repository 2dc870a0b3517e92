//! A sync hub (`chittysync serve`) run by a test on loopback, and the child
//! processes the hub tests start (docs/HUB_API.md).

use super::Sandbox;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a hub may take to start listening, as a guard against a hang.
const START: Duration = Duration::from_secs(60);

/// A child process killed when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary on the hub's `home`, with no hub token or database from the
/// environment it runs in.
pub fn hub_command(home: &Path) -> Command {
    let mut cmd = Sandbox::bare_command();
    cmd.arg("--home")
        .arg(home)
        .env_remove("CHITTYSYNC_HUB_TOKEN")
        .env_remove("CHITTYSYNC_HUB_DATABASE");
    cmd
}

/// A `serve` process started by [`serve_on`].
pub struct Served {
    pub process: Running,
    /// The loopback port it listens on.
    pub port: u16,
    /// Its standard error, for a test that fails to show.
    pub log: PathBuf,
}

/// `serve` on a loopback port it picks itself (`--listen 127.0.0.1:0`: no
/// port chosen beforehand that another process could take meanwhile), with
/// `extra` arguments (`--database`, `--tls-cert`…), once it says it listens.
/// Its standard error goes to a file in `home`.
pub fn serve_on(home: &Path, extra: &[&str]) -> Served {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let log = home.join(format!(
        "serve-{}.stderr",
        STARTED.fetch_add(1, Ordering::Relaxed)
    ));
    let child = hub_command(home)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut process = Running(child);
    let started = Instant::now();
    loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(port) = listening_port(&said) {
            return Served { process, port, log };
        }
        if let Some(status) = process.0.try_wait().unwrap() {
            panic!("the hub exited ({status}) before listening:\n{said}");
        }
        assert!(started.elapsed() < START, "the hub did not start:\n{said}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The port of `chittysync hub listening on http://127.0.0.1:PORT`.
fn listening_port(said: &str) -> Option<u16> {
    said.lines().find_map(|line| {
        let url = line.strip_prefix("chittysync hub listening on ")?;
        url.trim().rsplit_once(':')?.1.parse().ok()
    })
}

/// `serve` with SQLite in `home` (`<home>/hub.db`), and its port.
pub fn serve(home: &Path) -> (Running, u16) {
    let served = serve_on(home, &[]);
    (served.process, served.port)
}

/// A new token of tenant `me`, with `extra` arguments (`--database`).
pub fn hub_token(home: &Path, extra: &[&str]) -> String {
    tenant_token(home, "me", extra)
}

/// A new token of `tenant`, with `extra` arguments (`--database`).
pub fn tenant_token(home: &Path, tenant: &str, extra: &[&str]) -> String {
    let out = hub_command(home)
        .args(["hub", "token", "create", "--tenant", tenant])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
