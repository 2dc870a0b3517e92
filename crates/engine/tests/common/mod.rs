//! Shared by the engine's integration tests.

use chittysync_config::{Config, Locations};
use chittysync_engine::Engine;
use std::path::Path;

/// An engine on this Claude folder and home, with the default config.
pub fn engine(claude: &Path, home: &Path) -> Engine {
    let locations = Locations {
        claude_dir: claude.to_path_buf(),
        agents_home: None,
        home: home.to_path_buf(),
        config: None,
    };
    Engine::open(&locations, &Config::default()).unwrap()
}
