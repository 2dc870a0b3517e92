//! The hub over TLS, as a user runs it (docs/HUB_API.md#tls): `serve
//! --tls-cert --tls-key` with a certificate made here by a test CA, the real
//! binary's `sync` and daemon trusting that CA through `[hub] ca_file` (the
//! daemon woken over `wss://`), the typed client's WebSocket too; a device without the CA is refused with the
//! certificate problem named, once, not retried; plain `http://` to another
//! machine is refused unless `--insecure`.

mod common;

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_hubclient::client::{ClientOptions, HubClient};
use common::hub::{hub_token, serve_on, Running};
use common::{free_port, todo_list, Sandbox};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A guard against a hang, not a measure: the hub starts in well under it.
const WAIT: Duration = Duration::from_secs(60);

/// A test CA and a server certificate it signed for `localhost` and 127.0.0.1.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_pki(dir: &Path) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "chittysync test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let pki = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("hub.pem"),
        key: dir.join("hub.key"),
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

/// `serve` with TLS on a loopback port, the port, and a token of tenant `me`.
fn serve_tls(home: &Path, pki: &Pki) -> (Running, u16, String) {
    let (cert, key) = (pki.cert.to_str().unwrap(), pki.key.to_str().unwrap());
    let hub = serve_on(home, &["--tls-cert", cert, "--tls-key", key]);
    (hub.process, hub.port, hub_token(home, &[]))
}

fn configure(sandbox: &Sandbox, device: &str, url: &str, token: &str, ca: Option<&Path>) {
    let mut text = format!("device = \"{device}\"\n[hub]\nurl = \"{url}\"\ntoken = \"{token}\"\n");
    if let Some(ca) = ca {
        text.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
    }
    std::fs::write(sandbox.home().join("config.toml"), text).unwrap();
}

#[test]
fn sync_and_websocket_over_tls_trusting_the_ca_file_and_refused_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let (_hub, port, token) = serve_tls(dir.path(), &pki);
    let url = format!("https://localhost:{port}");

    // Device A pushes a todo over https; device B, trusting the same CA, pulls it.
    let (a, b) = (Sandbox::new(), Sandbox::new());
    configure(&a, "A", &url, &token, Some(&pki.ca));
    configure(&b, "B", &url, &token, Some(&pki.ca));
    a.write(
        "todos/s1-agent-s1.json",
        todo_list(&[("Ship over TLS", "in_progress")]),
    );
    // B's daemon follows the hub over wss:// and pulls over https://.
    let _daemon = Running(
        b.command()
            .arg("daemon")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Its log says when its WebSocket is subscribed: the wss:// handshake
    // passed with the CA of `ca_file`.
    let logs = b.home().join("logs");
    let started = Instant::now();
    while !daemon_log(&logs).contains("hub WebSocket subscribed") {
        assert!(started.elapsed() < WAIT, "B's daemon never subscribed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pushed = a.json(&["sync"]);
    assert!(pushed["hub"]["pushed"].as_u64().unwrap() >= 1, "{pushed}");
    let on_b = b.home().join("todos.json");
    let started = Instant::now();
    while !std::fs::read_to_string(&on_b).is_ok_and(|t| t.contains("Ship over TLS")) {
        assert!(started.elapsed() < WAIT, "B's daemon never pulled the todo");
        std::thread::sleep(Duration::from_millis(100));
    }

    // `status` reaches the hub's health over TLS too.
    let status = a.json(&["status"]);
    assert_eq!(status["hub"]["reachable"], true, "{status}");

    // The WebSocket over wss://, trusting the CA through the same option.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let options = ClientOptions {
            ca_file: Some(pki.ca.clone()),
            insecure: false,
        };
        let client = HubClient::with_options(&url, &token, &options).unwrap();
        let mut live = client.subscribe(None).await.unwrap();
        let observation = observation("Pushed while subscribed");
        client
            .push("C", std::slice::from_ref(&observation))
            .await
            .unwrap();
        let batch = tokio::time::timeout(WAIT, live.next())
            .await
            .expect("a batch arrives")
            .unwrap()
            .unwrap();
        assert_eq!(batch.observations[0].id, observation.id);

        // Without the CA, the WebSocket is refused for the certificate.
        let stranger = HubClient::new(&url, &token).unwrap();
        let error = stranger.subscribe(None).await.err().expect("refused");
        assert!(!error.is_transient(), "{error}");
        assert!(error.to_string().contains("UnknownIssuer"), "{error}");
    });

    // A device without the CA: one clear, permanent failure naming the URL
    // and the certificate problem.
    let c = Sandbox::new();
    configure(&c, "C", &url, &token, None);
    let out = c.run(&["sync"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert!(stderr.contains("ca_file"), "{stderr}");
    assert!(
        !stderr.contains(&token),
        "the token is never printed: {stderr}"
    );
}

#[test]
fn plain_http_to_another_machine_is_refused_unless_insecure() {
    let s = Sandbox::new();
    configure(&s, "A", "http://hub.example.org:7878", "cst_x", None);
    let out = s.run(&["sync"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing plain http:// to hub.example.org"),
        "{stderr}"
    );
    assert!(stderr.contains("--insecure"), "{stderr}");

    // Loopback needs no permission; with --insecure the refusal is gone
    // (what remains is that nothing listens there).
    let port = free_port();
    configure(&s, "A", &format!("http://127.0.0.1:{port}"), "cst_x", None);
    let out = s.run(&["sync", "--insecure"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("refusing plain http://"), "{stderr}");
}

/// Everything the daemon logged so far.
fn daemon_log(logs: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(logs).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("daemon.") {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    text
}

fn observation(content: &str) -> Observation {
    Observation::new(
        "tls",
        content.into(),
        None,
        Status::Pending,
        "s9".into(),
        Some("s9".into()),
        "C",
        Source::File,
        Timestamp::now(),
    )
}
