//! A sync hub (`chittysync serve`) run by a test on loopback, and the child
//! processes the hub tests start (docs/HUB_API.md).

use super::{free_port, Sandbox};
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// `serve` on 127.0.0.1:`port` with `extra` arguments (`--database`,
/// `--tls-cert`…), once it accepts connections.
pub fn serve_on(home: &Path, port: u16, extra: &[&str]) -> Running {
    // Its log, for a test that fails to show (`serve_log`).
    let log = std::fs::File::create(serve_log(home, port)).unwrap();
    let child = hub_command(home)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let running = Running(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < START, "the hub did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

/// Where [`serve_on`] keeps the standard error of the hub on `port`.
pub fn serve_log(home: &Path, port: u16) -> std::path::PathBuf {
    home.join(format!("serve-{port}.stderr"))
}

/// `serve` on a free loopback port with SQLite in `home` (`<home>/hub.db`).
pub fn serve(home: &Path) -> (Running, u16) {
    let port = free_port();
    (serve_on(home, port, &[]), port)
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
