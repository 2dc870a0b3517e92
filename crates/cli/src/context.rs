//! Resolving locations and config once, for every command.

use crate::cli::GlobalArgs;
use anyhow::{Context as _, Result};
use chittysync_config::{Config, LocationOverrides, Locations};
use chittysync_engine::Engine;
use chittysync_store::Store;

/// Where things are and what the config says.
pub struct Context {
    pub locations: Locations,
    pub config: Config,
    pub verbose: bool,
}

impl Context {
    pub fn load(global: &GlobalArgs) -> Result<Context> {
        let locations = Locations::resolve(&LocationOverrides {
            claude_dir: global.claude_dir.clone(),
            home: global.home.clone(),
            config: global.config.clone(),
        });
        let config = Config::load(locations.config.as_deref())?;
        Ok(Context {
            locations,
            config,
            verbose: global.verbose,
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
    pub fn existing_store(&self) -> Result<Option<Store>> {
        Store::open_existing(&self.locations.store_path())
            .with_context(|| format!("cannot open the store in {}", self.locations.home.display()))
    }

    /// The store, or an error telling the user what to run first.
    pub fn store_or_hint(&self) -> Result<Store> {
        self.existing_store()?.with_context(|| {
            format!(
                "nothing consolidated yet in {} — run `chittysync consolidate` first",
                self.locations.home.display()
            )
        })
    }
}
