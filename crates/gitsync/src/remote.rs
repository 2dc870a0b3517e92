//! Talking to the remote: fetch and push, with credentials from ssh-agent, the
//! default ssh keys and git's credential helpers.

use git2::{
    AutotagOption, Cred, CredentialType, FetchOptions, PushOptions, RemoteCallbacks, Repository,
};
use std::cell::RefCell;
use std::path::Path;
use std::sync::Once;

/// The name of the sync repository's remote.
pub const REMOTE: &str = "origin";

/// How long to wait for a server to accept a connection, and for any answer.
const CONNECT_TIMEOUT_MS: i32 = 10_000;
const SERVER_TIMEOUT_MS: i32 = 60_000;

/// The remote-tracking ref of a branch.
pub fn tracking_ref(branch: &str) -> String {
    format!("refs/remotes/{REMOTE}/{branch}")
}

/// Whether a URL names a repository on this machine (a path or `file://`).
pub fn is_local(url: &str) -> bool {
    url.starts_with("file://") || Path::new(url).is_absolute() || url.starts_with('.')
}

/// libgit2 waits forever for a silent server by default; an unreachable remote
/// must fail in bounded time so the work queues instead of hanging.
#[allow(unsafe_code)]
fn set_timeouts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: these only store an integer in libgit2's global options; they
        // are set once, before this process opens any connection.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(CONNECT_TIMEOUT_MS);
            let _ = git2::opts::set_server_timeout_in_milliseconds(SERVER_TIMEOUT_MS);
        }
    });
}

/// Which kinds of credentials were already offered: libgit2 asks again after
/// a refusal, and offering the same one forever would never end.
#[derive(Default)]
struct Offered {
    agent: bool,
    key_files: usize,
    helper: bool,
    default: bool,
}

/// The default private keys tried after the agent, without a passphrase.
const KEY_FILES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

fn credentials(
    offered: &RefCell<Offered>,
    url: &str,
    username: Option<&str>,
    allowed: CredentialType,
) -> Result<Cred, git2::Error> {
    let mut offered = offered.borrow_mut();
    let user = username.unwrap_or("git");
    if allowed.contains(CredentialType::SSH_KEY) {
        if !offered.agent {
            offered.agent = true;
            return Cred::ssh_key_from_agent(user);
        }
        let ssh_dir = std::env::var_os("HOME").map(|h| Path::new(&h).join(".ssh"));
        while let Some(name) = KEY_FILES.get(offered.key_files) {
            offered.key_files += 1;
            if let Some(key) = ssh_dir
                .as_ref()
                .map(|d| d.join(name))
                .filter(|k| k.is_file())
            {
                return Cred::ssh_key(user, None, &key, None);
            }
        }
    }
    if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !offered.helper {
        offered.helper = true;
        let config = git2::Config::open_default()?;
        return Cred::credential_helper(&config, url, username);
    }
    if allowed.contains(CredentialType::DEFAULT) && !offered.default {
        offered.default = true;
        return Cred::default();
    }
    if allowed.contains(CredentialType::USERNAME) {
        return Cred::username(user);
    }
    Err(git2::Error::from_str(&format!(
        "no credentials accepted for {url} (tried ssh-agent, ~/.ssh keys and git credential helpers)"
    )))
}

fn callbacks<'a>(offered: &'a RefCell<Offered>) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    callbacks
        .credentials(move |url, username, allowed| credentials(offered, url, username, allowed));
    callbacks
}

/// Fetches the branch into its remote-tracking ref.
pub fn fetch(repo: &Repository, branch: &str) -> Result<(), git2::Error> {
    set_timeouts();
    let offered = RefCell::new(Offered::default());
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks(&offered))
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    let refspec = format!("+refs/heads/{branch}:{}", tracking_ref(branch));
    repo.find_remote(REMOTE)?
        .fetch(&[refspec.as_str()], Some(&mut options), None)
}

/// How a push ended, when the remote answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Accepted,
    /// The remote moved on (not a fast-forward, or its branch moved while we
    /// pushed): fetch, merge and retry. The remote's words.
    Behind(String),
    /// The remote refused the update (a hook, a protected branch, a policy):
    /// the reason it gave for the branch, and what it printed.
    Refused(String),
}

/// Whether a per-ref refusal means that the branch moved (worth a fetch,
/// merge and retry) rather than a refusal of any change: git's receive-pack
/// says `non-fast-forward` or `fetch first`, or `failed to update ref` when
/// its branch moved between the check and the update — or, when two devices
/// create the branch on an empty remote at once, that the loser's `failed to
/// write reference …: a reference with that name already exists`; a remote
/// on a local path (libgit2 updating it in place) says `failed to create
/// locked file '…/refs/heads/<branch>.lock': File exists` while another
/// push holds the branch's lock.
fn branch_moved(status: &str) -> bool {
    [
        "non-fast-forward",
        "fetch first",
        "failed to update ref",
        "failed to lock",
        "failed to create locked file",
        "a reference with that name already exists",
    ]
    .iter()
    .any(|s| status.contains(s))
}

/// The remote's own words: the reason it gave for the branch, then the lines
/// it printed during the push (its hooks' output, through the sideband).
fn words(status: &str, printed: &[u8]) -> String {
    let text = String::from_utf8_lossy(printed);
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        status.to_string()
    } else {
        format!("{status} (remote: {})", lines.join(" / "))
    }
}

/// Pushes the branch. `Err` means the remote could not be reached or failed.
/// A push is accepted only when the remote accepted the branch's update:
/// libgit2 returns success for a push whose ref update the remote refused,
/// and reports the refusal per ref (`push_update_reference`), while what the
/// remote printed arrives through `sideband_progress`.
pub fn push(repo: &Repository, branch: &str) -> Result<Pushed, git2::Error> {
    set_timeouts();
    let offered = RefCell::new(Offered::default());
    let refusal: RefCell<Option<String>> = RefCell::new(None);
    let printed: RefCell<Vec<u8>> = RefCell::new(Vec::new());
    let mut callbacks = callbacks(&offered);
    callbacks.push_update_reference(|_refname, status| {
        if let Some(message) = status {
            *refusal.borrow_mut() = Some(message.to_string());
        }
        Ok(())
    });
    callbacks.sideband_progress(|data| {
        printed.borrow_mut().extend_from_slice(data);
        true
    });
    let mut options = PushOptions::new();
    // Build the pack on every core.
    options
        .remote_callbacks(callbacks)
        .packbuilder_parallelism(0);
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let result = repo
        .find_remote(REMOTE)?
        .push(&[refspec.as_str()], Some(&mut options));
    drop(options);
    let printed = printed.into_inner();
    match result {
        Err(e) if e.code() == git2::ErrorCode::NotFastForward => {
            Ok(Pushed::Behind(words(e.message(), &printed)))
        }
        Err(e) => Err(e),
        Ok(()) => Ok(match refusal.into_inner() {
            Some(status) if branch_moved(&status) => Pushed::Behind(words(&status, &printed)),
            Some(status) => Pushed::Refused(words(&status, &printed)),
            None => Pushed::Accepted,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_remotes_words() {
        assert!(branch_moved("non-fast-forward"));
        assert!(!branch_moved("pre-receive hook declined"));
        // Two devices creating the branch on an empty remote at once (seen
        // from git 2.47's receive-pack in crates/cli/tests/git_sync.rs).
        assert!(branch_moved(
            "failed to write reference 'refs/heads/main': a reference with that name already exists."
        ));
        assert!(branch_moved(
            "failed to create locked file '/r/remote.git/refs/heads/main.lock': File exists"
        ));
        assert_eq!(
            words("pre-receive hook declined", b"main is frozen\r\nask #ops\n"),
            "pre-receive hook declined (remote: main is frozen / ask #ops)"
        );
        assert_eq!(words("deny", b""), "deny");
    }
}
