//! `chittysync key create|show|import`: the device key of end-to-end
//! encryption (docs/ENCRYPTION.md).

use crate::cli::KeyCommand;
use crate::context::Context;
use anyhow::{bail, Context as _, Result};
use chittysync_crypt::DeviceKey;
use std::io::Read;

pub fn run(ctx: &Context, command: KeyCommand) -> Result<()> {
    let path = ctx.locations.key_path();
    match command {
        KeyCommand::Create { force } => {
            let key = DeviceKey::generate()?;
            key.save(&path, force)?;
            println!(
                "created the device key {} (fingerprint {})",
                path.display(),
                key.fingerprint()
            );
            eprintln!(
                "give it to your other devices: `chittysync key show` here, `chittysync key import` \
                 there; then set `encrypt = true` under [git] and/or [hub] on every device"
            );
        }
        KeyCommand::Show => {
            let Some(key) = DeviceKey::load(&path)? else {
                bail!(
                    "no device key at {}: create one with `chittysync key create` (or take \
                     another device's with `chittysync key import`)",
                    path.display()
                );
            };
            // The key alone on stdout, for scripts and `key import`.
            println!("{}", key.to_text().as_str());
            eprintln!(
                "fingerprint {}: keep this secret — it reads every todo this device encrypts",
                key.fingerprint()
            );
        }
        KeyCommand::Import { key, force } => {
            let text = match key {
                Some(text) => text,
                None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("cannot read the key from stdin")?;
                    text
                }
            };
            let key = DeviceKey::parse(&text)?;
            if let Some(existing) = DeviceKey::load(&path)? {
                if existing.fingerprint() == key.fingerprint() {
                    println!(
                        "{} already holds this key (fingerprint {})",
                        path.display(),
                        key.fingerprint()
                    );
                    return Ok(());
                }
            }
            key.save(&path, force)?;
            println!(
                "imported the device key into {} (fingerprint {})",
                path.display(),
                key.fingerprint()
            );
        }
    }
    Ok(())
}
