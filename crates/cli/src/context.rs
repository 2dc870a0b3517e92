//! Resolving locations and config once, for every command.

use crate::cli::GlobalArgs;
use anyhow::{Context as _, Result};
use chittysync_config::{Config, LocationOverrides, Locations};
use chittysync_engine::{Engine, Ledger, ReadHandle};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Where things are and what the config says.
pub struct Context {
    pub locations: Locations,
    pub config: Config,
    pub verbose: bool,
    /// Said once, when an existing home others could read was made private.
    pub home_tightened: Option<String>,
}

impl Context {
    pub fn load(global: &GlobalArgs) -> Result<Context> {
        let locations = Locations::resolve(&LocationOverrides {
            claude_dir: global.claude_dir.clone(),
            agents_home: global.agents_home.clone(),
            home: global.home.clone(),
            config: global.config.clone(),
        });
        // A home not there yet is left to whatever creates it, privately.
        let home_tightened = match std::fs::metadata(&locations.home) {
            Ok(meta) if !meta.is_dir() => anyhow::bail!(
                "chittysync's home {} is not a folder (give another with --home or CHITTYSYNC_HOME)",
                locations.home.display()
            ),
            Ok(meta) => make_private(&locations.home, &meta),
            Err(_) => None,
        };
        let config = Config::load(locations.config.as_deref())?;
        Ok(Context {
            locations,
            config,
            verbose: global.verbose,
            home_tightened,
        })
    }

    pub fn engine(&self) -> Result<Engine> {
        Engine::open(&self.locations, &self.config).with_context(|| {
            format!(
                "cannot open chittysync's home {}",
                self.locations.home.display()
            )
        })
    }

    /// The store for a read-only view, or `None` when nothing was consolidated yet.
    pub fn existing_store(&self) -> Result<Option<ReadHandle>> {
        ReadHandle::open_existing(&self.locations.store_path())
            .with_context(|| format!("cannot open the store in {}", self.locations.home.display()))
    }

    /// The store, or an error telling the user what to run first.
    pub fn store_or_hint(&self) -> Result<ReadHandle> {
        self.existing_store()?.with_context(|| self.nothing_yet())
    }

    /// The ledger of specialists and notifications (see [`Ledger`]), in a
    /// store that exists, or an error telling the user what to run first.
    pub fn ledger_or_hint(&self) -> Result<Ledger> {
        let path = self.locations.store_path();
        anyhow::ensure!(path.exists(), self.nothing_yet());
        Ledger::open(&path)
            .with_context(|| format!("cannot open the store in {}", self.locations.home.display()))
    }

    fn nothing_yet(&self) -> String {
        format!(
            "nothing consolidated yet in {} — run `chittysync consolidate` first",
            self.locations.home.display()
        )
    }
}

/// Creates a folder of chittysync's home (the home itself, `logs/`…) and its
/// missing parents, private to the user (0700) whatever the umask
/// (docs/DAEMON.md, "Files and their modes").
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// An existing home folder (`meta`) that others may read or enter (made by
/// an older version, or by hand under a 022 umask) is made private (0700);
/// returns what to tell the user, once: afterwards it is private. A home that
/// cannot be changed is left, and its files still are the user's alone.
fn make_private(home: &Path, meta: &std::fs::Metadata) -> Option<String> {
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return None;
    }
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(mode & 0o700)).ok()?;
    Some(format!(
        "chittysync's home {} was readable by others (mode {mode:o}); it is now private to you ({:o})",
        home.display(),
        mode & 0o700
    ))
}
