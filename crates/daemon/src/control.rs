//! The daemon's control socket (issue 13): `chittysync consolidate` asks a
//! running daemon for the picture instead of stat'ing every file again — the
//! daemon watches them already. A Unix socket in chittysync's home (0600,
//! like the rest of it); one request a connection, `consolidate\n`, answered
//! with one JSON object once the daemon has taken in the events that came
//! before it: `{"summary": …, "outputs_written": …, "warnings": […]}`, or
//! `{"error": "…"}`. A caller that gets no answer scans by itself
//! (docs/ARCHITECTURE.md, "The store": asking the daemon).

use crate::wake::Wake;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::time::Duration;

/// Where the socket is, in chittysync's home.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join("daemon.sock")
}

/// The one request there is.
const REQUEST: &str = "consolidate";

/// How long a connection waits for the daemon's loop to answer (a burst
/// settling, a consolidation under way) before giving up.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// How long `ask` waits for an answer: a healthy daemon answers within its
/// debounce; one that does not is passed over, and the caller scans.
const ASK_WITHIN: Duration = Duration::from_secs(10);

/// Where the daemon's loop sends its answer to one request.
pub(crate) type Reply = Sender<String>;

/// Listens on the socket in `home`; each request becomes a
/// [`Wake::Control`] on the daemon's channel. The daemon holds the home's
/// lock, so a socket file already there is a killed daemon's: it is replaced.
pub(crate) fn listen(home: &Path, tx: Sender<Wake>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(home);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    if let Err(e) = serve(&stream, &tx) {
                        tracing::debug!("control request: {e}");
                    }
                });
            }
        })?;
    Ok(())
}

/// Answers one connection.
fn serve(stream: &UnixStream, tx: &Sender<Wake>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(ANSWER_WITHIN))?;
    let mut line = String::new();
    BufReader::new(stream.take(256)).read_line(&mut line)?;
    let mut out = stream;
    if line.trim() != REQUEST {
        let answer = serde_json::json!({"error": format!("unknown request {:?}", line.trim())});
        return out.write_all(answer.to_string().as_bytes());
    }
    let (reply, answer) = channel();
    if tx.send(Wake::Control(reply)).is_err() {
        return Ok(()); // The daemon is stopping: no answer, the caller scans.
    }
    match answer.recv_timeout(ANSWER_WITHIN) {
        Ok(answer) => out.write_all(answer.as_bytes()),
        Err(_) => Ok(()),
    }
}

/// Asks the daemon running on `home`, if any, for the picture after it has
/// taken in what it was told; `None` when no daemon answers in time (none
/// runs, or it is stuck), or it answered with an error.
pub fn ask(home: &Path) -> Option<serde_json::Value> {
    let mut stream = UnixStream::connect(socket_path(home)).ok()?;
    stream.set_read_timeout(Some(ASK_WITHIN)).ok()?;
    stream.set_write_timeout(Some(ASK_WITHIN)).ok()?;
    stream.write_all(format!("{REQUEST}\n").as_bytes()).ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let answer: serde_json::Value = serde_json::from_str(&text).ok()?;
    answer.get("summary").is_some().then_some(answer)
}
