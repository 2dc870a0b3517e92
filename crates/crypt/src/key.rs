//! The device key: 32 random bytes in `<home>/sync.key`, mode 0600
//! (docs/ENCRYPTION.md#the-key).
//!
//! Its text form, `chittysync-key-1:` and the bytes in unpadded base64url, is
//! what the file holds, what `chittysync key show` prints and what `chittysync
//! key import` reads on another device.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The prefix of a key's text form (the version of the scheme).
pub const KEY_PREFIX: &str = "chittysync-key-1:";

/// Why a key cannot be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "not a chittysync key: expected `{KEY_PREFIX}` and 43 characters of base64url \
         (what `chittysync key show` prints on a device that has the key)"
    )]
    Malformed,
    #[error("cannot read the key file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the key file {path} is not a chittysync key (expected one line `{KEY_PREFIX}…`)")]
    Corrupt { path: PathBuf },
    #[error(
        "a key already exists at {path} (fingerprint {fingerprint}); replacing it makes \
         everything encrypted with it unreadable on this device: pass --force to replace it"
    )]
    Exists { path: PathBuf, fingerprint: String },
    #[error("cannot write the key file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the system's random number generator failed: {0}")]
    Random(String),
}

/// A device key. Its bytes are wiped from memory when it is dropped, and its
/// `Debug` never shows them.
#[derive(Clone)]
pub struct DeviceKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl DeviceKey {
    /// A new random key.
    pub fn generate() -> Result<DeviceKey, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(DeviceKey { bytes })
    }

    /// Reads the text form (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<DeviceKey, KeyError> {
        let encoded = text
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or(KeyError::Malformed)?;
        let decoded = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|_| KeyError::Malformed)?,
        );
        let mut bytes = Zeroizing::new([0u8; 32]);
        if decoded.len() != bytes.len() {
            return Err(KeyError::Malformed);
        }
        bytes.copy_from_slice(&decoded);
        Ok(DeviceKey { bytes })
    }

    /// The text form: what the key file holds and `key show` prints.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.bytes.as_ref())
        ))
    }

    /// Eight hex digits naming the key without giving it away: two devices
    /// share a key when their fingerprints match. Sealed values carry it, so
    /// a device told apart "encrypted with another key" from "damaged".
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.derive(crate::FINGERPRINT_CONTEXT)[..4])
    }

    /// A subkey for one purpose (BLAKE3's key derivation mode).
    pub(crate) fn derive(&self, context: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(blake3::derive_key(context, self.bytes.as_ref()))
    }

    /// The key in `path`, `None` when there is no such file.
    pub fn load(path: &Path) -> Result<Option<DeviceKey>, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                DeviceKey::parse(&text)
                    .map(Some)
                    .map_err(|_| KeyError::Corrupt {
                        path: path.to_path_buf(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeyError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the key to `path` with mode 0600 (its folder 0700 if created).
    /// An existing key file is replaced only with `replace`; the new file is
    /// written beside it and renamed over it, so a failure leaves the old key.
    pub fn save(&self, path: &Path, replace: bool) -> Result<(), KeyError> {
        let write_error = |source| KeyError::Write {
            path: path.to_path_buf(),
            source,
        };
        if !replace {
            if let Some(existing) = DeviceKey::load(path).or_else(|e| match e {
                // A file that is there but not a key is still not overwritten.
                KeyError::Corrupt { .. } => Ok(Some(self.clone())),
                other => Err(other),
            })? {
                return Err(KeyError::Exists {
                    path: path.to_path_buf(),
                    fingerprint: existing.fingerprint(),
                });
            }
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        if !dir.exists() {
            create_private_dir(dir).map_err(write_error)?;
        }
        let temp = dir.join(format!(".sync.key.{}.tmp", std::process::id()));
        let written = (|| {
            let mut file = private_file(&temp)?;
            file.write_all(self.to_text().as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written.map_err(write_error)
    }
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_refusals() {
        let key = DeviceKey::generate().unwrap();
        let text = key.to_text();
        assert!(text.starts_with(KEY_PREFIX));
        assert_eq!(text.len(), KEY_PREFIX.len() + 43);
        let back = DeviceKey::parse(&format!("  {}\n", text.as_str())).unwrap();
        assert_eq!(back.fingerprint(), key.fingerprint());
        assert!(!format!("{key:?}").contains(&text[KEY_PREFIX.len()..]));
        for bad in ["", "chittysync-key-1:", "chittysync-key-1:abc", &text[1..]] {
            assert!(
                matches!(DeviceKey::parse(bad), Err(KeyError::Malformed)),
                "{bad}"
            );
        }
    }

    #[test]
    fn saved_0600_and_never_overwritten_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home").join("sync.key");
        assert!(DeviceKey::load(&path).unwrap().is_none());
        let key = DeviceKey::generate().unwrap();
        key.save(&path, false).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        let other = DeviceKey::generate().unwrap();
        let err = other.save(&path, false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert!(err.to_string().contains(&key.fingerprint()), "{err}");
        let loaded = DeviceKey::load(&path).unwrap().unwrap();
        assert_eq!(loaded.fingerprint(), key.fingerprint());
        other.save(&path, true).unwrap();
        let loaded = DeviceKey::load(&path).unwrap().unwrap();
        assert_eq!(loaded.fingerprint(), other.fingerprint());
        assert_eq!(
            std::fs::read_dir(dir.path().join("home")).unwrap().count(),
            1
        );

        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(
            DeviceKey::load(&path),
            Err(KeyError::Corrupt { .. })
        ));
        assert!(matches!(
            key.save(&path, false),
            Err(KeyError::Exists { .. })
        ));
    }
}
