//! One set of tests for every [`Remote`] (docs/HUB_API.md, docs/GIT_SYNC.md:
//! "one sync interface"), instantiated for the sync hub (a real hub on
//! loopback, SQLite) and for git (a real bare repository served by `git
//! daemon`), as taskchampion runs its storage tests against each backend:
//! what one device pushes, another pulls, plain, once, after a cursor;
//! sealed with a key, opened with it and refused without it; an unreachable
//! remote is a transient error. Then the same through the engine's one sync
//! loop ([`Engine::sync_remote`]): devices with real stores converge, the
//! remote's sync state records cursors, the last sync and a failure under
//! way, and the next sync after a failure resumes where it stopped.

#[allow(unused_imports)]
mod common;
#[path = "../../cli/tests/common/git_daemon.rs"]
mod git_daemon;

use chittysync_config::{Config, GitConfig, Locations};
use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_crypt::{DeviceKey, Encryption};
use chittysync_engine::{Engine, Remote, RemoteError};
use chittysync_gitsync::{GitRemote, GitSettings, GitSync};
use chittysync_hubsync::HubSync;

fn obs(device: &str, content: &str, t: i64) -> Observation {
    Observation::new(
        "api",
        content.into(),
        Some(format!("Doing {content}")),
        Status::Pending,
        format!("{device}-session"),
        Some(format!("{device}-session")),
        device,
        Source::File,
        Timestamp(1_764_460_800_000 + t),
    )
}

/// Everything after the default cursor, page by page.
fn pull_all<R: Remote>(r: &mut R, from: &R::Cursor) -> (Vec<Observation>, R::Cursor) {
    let mut cursor = from.clone();
    let mut all = Vec::new();
    loop {
        let page = r.pull(&cursor).expect("pull");
        all.extend(page.observations);
        cursor = page.cursor;
        if !page.more {
            return (all, cursor);
        }
    }
}

fn ids(observations: &[Observation]) -> Vec<&str> {
    let mut ids: Vec<&str> = observations.iter().map(|o| o.id.as_str()).collect();
    ids.sort();
    ids
}

/// A pushes, B pulls the same observations (plain); B pushes, A pulls all;
/// B's pull after its cursor brings only what came since.
fn round_trip<R: Remote>(mut a: R, mut b: R) {
    let (a1, a2, b1) = (obs("a", "one", 1), obs("a", "two", 2), obs("b", "three", 3));
    assert_eq!(a.push(&[a1.clone(), a2.clone()]).unwrap().new, 2);
    let (seen, cursor) = pull_all(&mut b, &R::Cursor::default());
    assert_eq!(ids(&seen), ids(&[a1.clone(), a2.clone()]));
    assert!(seen.contains(&a1), "pulled as pushed: {seen:?}");
    assert_eq!(b.push(std::slice::from_ref(&b1)).unwrap().new, 1);
    let (all, _) = pull_all(&mut a, &R::Cursor::default());
    assert_eq!(ids(&all), ids(&[a1, a2, b1.clone()]));
    let (since, _) = pull_all(&mut b, &cursor);
    assert_eq!(ids(&since), ids(&[b1]));
}

/// The same observation pushed twice is stored once.
fn push_is_idempotent<R: Remote>(mut a: R, mut b: R) {
    let one = obs("a", "once", 1);
    assert_eq!(a.push(std::slice::from_ref(&one)).unwrap().new, 1);
    assert_eq!(a.push(std::slice::from_ref(&one)).unwrap().new, 0);
    let (seen, _) = pull_all(&mut b, &R::Cursor::default());
    assert_eq!(seen, vec![one]);
}

/// Sealed by A, opened by B (same key); C (another key) is refused, saying so.
fn sealed_then_opened_or_refused<R: Remote>(mut a: R, mut b: R, mut c: R) {
    let secret = obs("a", "Rotate the launch codes", 1);
    a.push(std::slice::from_ref(&secret)).unwrap();
    let (seen, _) = pull_all(&mut b, &R::Cursor::default());
    assert_eq!(seen, vec![secret]);
    let error = c.pull(&R::Cursor::default()).unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert!(error.to_string().contains("another key"), "{error}");
}

fn unreachable_is_transient<R: Remote>(mut r: R) {
    let error = r.push(&[obs("a", "lost", 1)]).unwrap_err();
    assert!(error.is_transient(), "{error}");
    let error = r.pull(&R::Cursor::default()).unwrap_err();
    assert!(error.is_transient(), "{error}");
}

/// A device's home: a real store in `root/name`, device `name`.
fn engine(root: &std::path::Path, name: &str) -> Engine {
    let locations = locations(root, name);
    let config = Config {
        device: Some(name.to_string()),
        ..Config::default()
    };
    Engine::open(&locations, &config).unwrap()
}

fn locations(root: &std::path::Path, name: &str) -> Locations {
    Locations {
        claude_dir: root.join(name).join("claude"),
        agents_home: None,
        home: root.join(name).join("home"),
        config: None,
    }
}

fn contents(engine: &Engine) -> Vec<String> {
    let mut all: Vec<String> = engine
        .reader()
        .observations_after(0, chittysync_engine::Via::Local, 1000)
        .unwrap()
        .into_iter()
        .chain(
            [chittysync_engine::Via::Git, chittysync_engine::Via::Hub]
                .into_iter()
                .flat_map(|via| engine.reader().observations_after(0, via, 1000).unwrap()),
        )
        .map(|l| l.observation.content)
        .collect();
    all.sort();
    all
}

/// Two devices with real stores sync through the engine's one loop: each
/// pushes what it observed since its push cursor (batches of one here),
/// pulls after its pull cursor, and both end with everything; the remote's
/// sync state says how far each got and when it last synced.
fn the_one_loop_converges<R: Remote>(mut a: R, mut b: R, ea: &mut Engine, eb: &mut Engine) {
    let name = a.name();
    ea.ingest_local(&[obs("a", "one", 1), obs("a", "two", 2)])
        .unwrap();
    let first = ea.sync_remote(&mut a, 1).unwrap();
    assert_eq!((first.pushed, first.batches), (2, 2), "{first:?}");
    let state = ea.sync_state(name).unwrap();
    let pushed_to = state.push_cursor;
    assert!(pushed_to > 0, "{state:?}");
    assert!(
        state.last_sync.is_some() && state.last_push.is_some(),
        "{state:?}"
    );
    assert_eq!((state.last_error, state.failing_since), (None, None));

    let got = eb.sync_remote(&mut b, 100).unwrap();
    assert_eq!((got.pushed, got.pulled), (0, 2), "{got:?}");
    assert!(eb.sync_state(name).unwrap().pull_cursor.is_some());

    eb.ingest_local(&[obs("b", "three", 3)]).unwrap();
    assert_eq!(eb.sync_remote(&mut b, 100).unwrap().pushed, 1);
    let back = ea.sync_remote(&mut a, 100).unwrap();
    assert_eq!((back.pushed, back.pulled), (0, 1), "{back:?}");
    assert_eq!(contents(ea), ["one", "three", "two"]);
    assert_eq!(contents(ea), contents(eb));
    // Nothing new on either side: nothing sent, nothing taken in.
    let idle = ea.sync_remote(&mut a, 100).unwrap();
    assert_eq!(
        (idle.pushed, idle.pulled, idle.batches),
        (0, 0, 0),
        "{idle:?}"
    );
    assert_eq!(ea.sync_state(name).unwrap().push_cursor, pushed_to);
}

/// A sync against an unreachable remote fails transient, recorded in the
/// remote's sync state (a run of failures keeps its start).
fn a_failure_is_recorded_and_the_cursor_stays<R: Remote>(mut r: R, e: &mut Engine) {
    let name = r.name();
    e.ingest_local(&[obs("a", "waits", 1)]).unwrap();
    let error = e.sync_remote(&mut r, 100).unwrap_err();
    assert!(error.is_transient(), "{error}");
    let first = e.sync_state(name).unwrap();
    let since = first.failing_since.expect("failing since");
    assert_eq!(first.last_error.unwrap().detail, error.to_string());
    if name == "hub" {
        // Nothing was taken: the observation is still to push. (Git commits
        // it locally first; the commit waits for the remote.)
        assert_eq!(first.push_cursor, 0);
    }
    e.sync_remote(&mut r, 100).unwrap_err();
    assert_eq!(e.sync_state(name).unwrap().failing_since, Some(since));
}

/// Keys: devices 0 and 1 share one, device 2 has another.
fn keys() -> [DeviceKey; 3] {
    let shared = DeviceKey::generate().unwrap();
    [shared.clone(), shared, DeviceKey::generate().unwrap()]
}

/// The raw push and pull of a remote whose push stores at once (the hub's;
/// git's stages for the round's commit, so it is tested through the loop).
macro_rules! remote_tests {
    ($backend:ident, $fixture:ty) => {
        mod $backend {
            use super::*;

            #[test]
            fn round_trip() {
                let mut f = <$fixture>::new(false);
                let (a, b, _) = f.remotes();
                super::round_trip(a, b);
            }

            #[test]
            fn push_is_idempotent() {
                let mut f = <$fixture>::new(false);
                let (a, b, _) = f.remotes();
                super::push_is_idempotent(a, b);
            }

            #[test]
            fn sealed_round_trip_and_idempotence() {
                let mut f = <$fixture>::new(true);
                let (a, b, _) = f.remotes();
                super::round_trip(a, b);
                let mut f = <$fixture>::new(true);
                let (a, b, _) = f.remotes();
                super::push_is_idempotent(a, b);
            }

            #[test]
            fn sealed_then_opened_or_refused() {
                let mut f = <$fixture>::new(true);
                let (a, b, c) = f.remotes();
                super::sealed_then_opened_or_refused(a, b, c);
            }

            #[test]
            fn unreachable_is_transient() {
                let mut f = <$fixture>::new(false);
                super::unreachable_is_transient(f.unreachable());
            }
        }
    };
}

/// The loop's tests: the same bodies against every remote.
macro_rules! loop_tests {
    ($backend:ident, $fixture:ty) => {
        mod $backend {
            use super::*;

            #[test]
            fn the_one_loop_converges() {
                let mut f = <$fixture>::new(false);
                let root = f.root();
                let (mut ea, mut eb) = (engine(&root, "a"), engine(&root, "b"));
                let (a, b, _) = f.remotes();
                super::the_one_loop_converges(a, b, &mut ea, &mut eb);
            }

            #[test]
            fn the_one_loop_converges_sealed() {
                let mut f = <$fixture>::new(true);
                let root = f.root();
                let (mut ea, mut eb) = (engine(&root, "a"), engine(&root, "b"));
                let (a, b, _) = f.remotes();
                super::the_one_loop_converges(a, b, &mut ea, &mut eb);
            }

            #[test]
            fn a_failure_is_recorded_and_the_cursor_stays() {
                let mut f = <$fixture>::new(false);
                let mut e = engine(&f.root(), "a");
                super::a_failure_is_recorded_and_the_cursor_stays(f.unreachable(), &mut e);
            }
        }
    };
}

/// A real hub on loopback (SQLite) and three devices of one tenant.
struct HubFixture {
    _dir: tempfile::TempDir,
    hub: common::TestHub,
    token: String,
    keys: [DeviceKey; 3],
    seal: bool,
}

impl HubFixture {
    fn new(seal: bool) -> HubFixture {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("hub.db").display());
        let hub = common::TestHub::start_any(&db);
        let token = common::token(&db, "me");
        HubFixture {
            _dir: dir,
            hub,
            token,
            keys: keys(),
            seal,
        }
    }

    fn device(&self, i: usize, url: &str) -> HubSync {
        let encryption = if self.seal {
            Encryption::with_key(&self.keys[i], true)
        } else {
            Encryption::off()
        };
        HubSync::new(url, &self.token, ["a", "b", "c"][i])
            .unwrap()
            .with_encryption(encryption)
    }

    fn root(&self) -> std::path::PathBuf {
        self._dir.path().join("devices")
    }

    fn remotes(&mut self) -> (HubSync, HubSync, HubSync) {
        let url = self.hub.url.clone();
        (
            self.device(0, &url),
            self.device(1, &url),
            self.device(2, &url),
        )
    }

    fn unreachable(&mut self) -> HubSync {
        self.device(0, &format!("http://{}", common::free_addr()))
    }
}

/// A real bare repository served by `git daemon`, and three devices' sync
/// repositories.
struct GitFixture {
    dir: tempfile::TempDir,
    _server: git_daemon::GitDaemon,
    syncs: Vec<GitSync>,
}

impl GitFixture {
    fn new(seal: bool) -> GitFixture {
        let dir = tempfile::tempdir().unwrap();
        let served = dir.path().join("served");
        git2::Repository::init_bare(served.join("remote.git")).unwrap();
        let server = git_daemon::GitDaemon::start(&served);
        let url = server.url("remote.git");
        let keys = keys();
        let syncs = (0..3)
            .map(|i| GitFixture::open(dir.path(), i, &url, seal.then_some(&keys[i])))
            .collect();
        GitFixture {
            dir,
            _server: server,
            syncs,
        }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("devices")
    }

    fn open(root: &std::path::Path, i: usize, url: &str, key: Option<&DeviceKey>) -> GitSync {
        let locations = locations(&root.join("repos"), &format!("home{i}"));
        if let Some(key) = key {
            key.save(&locations.key_path(), false).unwrap();
        }
        let config = GitConfig {
            encrypt: key.is_some(),
            ..GitConfig::default()
        };
        let settings = GitSettings::new(&locations, &config);
        GitSync::init(&settings, Some(url), None, false).unwrap().0
    }

    fn remotes(&mut self) -> (GitRemote<'_>, GitRemote<'_>, GitRemote<'_>) {
        let [a, b, c] = &self.syncs[..] else {
            unreachable!()
        };
        (a.as_remote("a"), b.as_remote("b"), c.as_remote("c"))
    }

    fn unreachable(&mut self) -> GitRemote<'_> {
        let port = common::free_addr().port();
        let sync = GitFixture::open(
            self.dir.path(),
            9,
            &format!("git://127.0.0.1:{port}/nothing.git"),
            None,
        );
        self.syncs.push(sync);
        self.syncs.last().unwrap().as_remote("a")
    }
}

remote_tests!(hub, HubFixture);
mod one_loop {
    use super::*;
    loop_tests!(hub, HubFixture);
    loop_tests!(git, GitFixture);
}
