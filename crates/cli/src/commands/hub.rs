//! `chittysync serve` and `chittysync hub token …`

use crate::cli::{HubCommand, TokenCommand};
use crate::context::{create_private_dir, Context};
use crate::output::{cell, print_json, Table};
use anyhow::{Context as _, Result};
use chittysync_hub::{tokens, HubConfig, ServerTls};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The hub database: the one given, else `<home>/hub.db`.
fn database_url(ctx: &Context, given: Option<String>) -> Result<String> {
    if let Some(url) = given {
        return Ok(url);
    }
    create_private_dir(&ctx.locations.home)
        .with_context(|| format!("cannot create {}", ctx.locations.home.display()))?;
    Ok(ctx.locations.home.join("hub.db").display().to_string())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Resolves on SIGTERM or SIGINT: the hub then stops taking connections and
/// drains the ones it has.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or(());
}

pub fn serve(
    ctx: &Context,
    listen: SocketAddr,
    database: Option<String>,
    max_body_bytes: usize,
    tls: Option<(PathBuf, PathBuf)>,
) -> Result<()> {
    let mut config = HubConfig::new(listen, database_url(ctx, database)?);
    config.max_body_bytes = max_body_bytes;
    config.tls = tls.map(|(cert, key)| ServerTls { cert, key });
    // `[[topics.rules]]`: the hub groups `GET /api/topic` as the CLI does (docs/TOPICS.md).
    config.topic_rules = ctx.config.topics.rules();
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    if config.tls.is_none() && !listen.ip().is_loopback() {
        // Plain HTTP off loopback only behind a proxy the user names (docs/HUB_API.md#tls).
        eprintln!(
            "warning: serving plain HTTP on {listen}: tokens and todos cross the network \
             unencrypted unless a TLS proxy fronts this hub; pass --tls-cert and --tls-key \
             to serve TLS (docs/HUB_API.md#tls)"
        );
    }
    runtime()?.block_on(async {
        // Said once the certificate, the database and the socket are ready.
        let hub = chittysync_hub::bind(config).await?;
        eprintln!(
            "chittysync hub listening on {scheme}://{}",
            hub.local_addr()
        );
        hub.run(shutdown_signal()).await
    })
}

pub fn run(ctx: &Context, command: HubCommand) -> Result<()> {
    let HubCommand::Token { command, database } = command;
    let url = database_url(ctx, database)?;
    let rt = runtime()?;
    match command {
        TokenCommand::Create { tenant } => {
            let token = rt.block_on(tokens::create(&url, &tenant))?;
            println!("{token}");
        }
        TokenCommand::List { json } => {
            let list = rt.block_on(tokens::list(&url))?;
            if json.json {
                return print_json(&list);
            }
            let mut table = Table::new(vec![
                "ID",
                "TENANT",
                "PREFIX",
                "CREATED",
                "LAST USED",
                "REVOKED",
            ]);
            for t in &list {
                table.row(vec![
                    cell(t.id.to_string()),
                    cell(t.tenant.clone()),
                    cell(t.prefix.clone()),
                    cell(t.created_at.to_rfc3339()),
                    cell(
                        t.last_used_at
                            .map_or_else(|| "never".to_string(), |u| u.to_rfc3339()),
                    ),
                    cell(
                        t.revoked_at
                            .map_or_else(|| "-".to_string(), |r| r.to_rfc3339()),
                    ),
                ]);
            }
            table.print();
        }
        TokenCommand::Revoke { token } => {
            let revoked = rt.block_on(tokens::revoke(&url, &token))?;
            eprintln!(
                "revoked token {} of tenant {}",
                revoked.prefix, revoked.tenant
            );
        }
    }
    Ok(())
}
