//! `chittysync ui`: the web dashboard of the local picture (docs/UI.md).

use crate::context::Context;
use anyhow::{Context as _, Result};
use chittysync_ui::{check_bind, UiConfig};
use std::net::SocketAddr;

pub fn run(ctx: &Context, listen: SocketAddr, token: Option<String>, open: bool) -> Result<()> {
    let token = token.filter(|t| !t.is_empty());
    check_bind(listen, token.as_deref())?;
    let config = UiConfig {
        store_path: ctx.locations.store_path(),
        stale_after_ms: ctx.config.sessions.stale_after.as_millis() as i64,
        topic_rules: ctx.config.topics.rules(),
        token,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the dashboard's runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            eprintln!(
                "warning: serving the dashboard over plain HTTP on {addr}: the token and the \
                 todos cross the network unencrypted; prefer an SSH tunnel or a TLS proxy \
                 (docs/UI.md)"
            );
        }
        let url = format!("http://{addr}/board");
        // The first line says where: scripts and tests read it (port 0 picks one).
        println!("chittysync dashboard on {url}");
        // The browser is opened once the picture is read, so its first
        // page is drawn at once (docs/UI.md, "Reading the store").
        let ready = move || {
            if open {
                open_browser(&url);
            }
        };
        chittysync_ui::serve(config, listener, shutdown_signal(), ready)
            .await
            .context("the dashboard stopped")
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Opens the user's browser on `url`; says so when it cannot.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => {}
        Err(e) => eprintln!("could not open a browser ({opener}: {e}); open {url} yourself"),
    }
}
