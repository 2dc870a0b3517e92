//! Devices for tests and benchmarks: a chittysync home with its engine and
//! sync repository, and a bare repository on this machine as the remote.
#![allow(dead_code)]

use chittysync_config::{Config, GitConfig, Locations};
use chittysync_engine::Engine;
use chittysync_gitsync::{GitSettings, GitSync};
use std::path::{Path, PathBuf};

/// A bare repository at `root/remote.git`.
pub fn bare_remote(root: &Path) -> PathBuf {
    let path = root.join("remote.git");
    git2::Repository::init_bare(&path).unwrap();
    path
}

pub struct Device {
    pub name: String,
    /// Observations made so far (numbers them, so each is new).
    made: usize,
    pub locations: Locations,
    pub engine: Engine,
    pub sync: GitSync,
}

impl Device {
    /// A device named `name` under `root`, its sync repository set up on `remote`.
    pub fn new(root: &Path, name: &str, remote: &Path) -> Device {
        let locations = Locations {
            claude_dir: root.join(name).join("claude"),
            agents_home: None,
            home: root.join(name).join("home"),
            config: None,
        };
        let (engine, sync) = open(&locations, name, remote);
        Device {
            name: name.to_string(),
            made: 0,
            locations,
            engine,
            sync,
        }
    }

    /// Opens the home again, as a new process would (after files in it were
    /// removed, say).
    pub fn reopen(&mut self, remote: &Path) {
        (self.engine, self.sync) = open(&self.locations, &self.name, remote);
    }

    /// Stores `count` new local observations in `project`, as a consolidation
    /// would (see `chittysync_testkit::bulk_observations`).
    pub fn observe(&mut self, project: &str, count: usize) {
        let first = self.made + 1;
        self.made += count;
        let observations =
            chittysync_testkit::bulk_observations(&self.name, project, first..first + count);
        chittysync_testkit::store_local(&mut self.engine, &observations);
    }

    pub fn observations(&self) -> u64 {
        self.engine.reader().observation_count().unwrap()
    }

    /// A file of the sync repository's work tree.
    pub fn repo_file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.sync.repo_path().join(name)).unwrap()
    }
}

fn open(locations: &Locations, name: &str, remote: &Path) -> (Engine, GitSync) {
    let config = Config {
        device: Some(name.to_string()),
        ..Config::default()
    };
    let engine = Engine::open(locations, &config).unwrap();
    let settings = GitSettings::new(locations, &GitConfig::default());
    let (sync, _) = GitSync::init(&settings, Some(remote.to_str().unwrap()), None, false).unwrap();
    (engine, sync)
}

/// How many lines the logs of a repository's branch hold.
pub fn logged_lines(repo: &Path, branch: &str) -> usize {
    let repo = git2::Repository::open(repo).unwrap();
    let tree = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_tree()
        .unwrap();
    let mut lines = 0;
    tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
        let path = format!("{root}{}", entry.name().unwrap_or_default());
        if chittysync_gitsync::layout::is_log(&path) {
            let blob = repo.find_blob(entry.id()).unwrap();
            lines += blob
                .content()
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count();
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    lines
}

/// How many commits a repository's branch holds.
pub fn commit_count(repo: &Path, branch: &str) -> usize {
    let repo = git2::Repository::open(repo).unwrap();
    let mut walk = repo.revwalk().unwrap();
    match repo.refname_to_id(&format!("refs/heads/{branch}")) {
        Ok(tip) => {
            walk.push(tip).unwrap();
            walk.count()
        }
        Err(_) => 0,
    }
}
