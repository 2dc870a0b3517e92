//! What a sync backend holds: whether it seals what it sends, and the key
//! that opens what it receives (docs/ENCRYPTION.md#turning-it-on).

use crate::{open_all, DeviceKey, KeyError, OpenError, Sealer};
use chittysync_core::Observation;
use std::path::{Path, PathBuf};

/// `encrypt = true` with no device key.
#[derive(Debug, thiserror::Error)]
#[error(
    "{setting} is on but this device has no key at {}: create one with `chittysync key create` \
     on the first device, and give it to the others with `chittysync key show` there and \
     `chittysync key import` here",
    path.display()
)]
pub struct NoKeyError {
    pub setting: &'static str,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    NoKey(#[from] NoKeyError),
}

/// A backend's encryption: off (plain, and sealed observations received are
/// refused as unreadable), or a key that opens what is received and, when
/// `seal`, seals what is sent.
#[derive(Debug, Default)]
pub struct Encryption {
    sealer: Option<Sealer>,
    seal: bool,
}

impl Encryption {
    /// Nothing sealed, nothing opened.
    pub fn off() -> Encryption {
        Encryption::default()
    }

    /// Seals with `key` when `seal`; opens with it either way.
    pub fn with_key(key: &DeviceKey, seal: bool) -> Encryption {
        Encryption {
            sealer: Some(Sealer::new(key)),
            seal,
        }
    }

    /// The encryption `setting` (`[git] encrypt`, `[hub] encrypt`) asks for,
    /// with the key at `key_path`: with the setting on the key must exist;
    /// with it off a key that exists still opens sealed observations.
    pub fn load(
        key_path: &Path,
        seal: bool,
        setting: &'static str,
    ) -> Result<Encryption, EncryptionError> {
        match DeviceKey::load(key_path)? {
            Some(key) => Ok(Encryption::with_key(&key, seal)),
            None if seal => Err(NoKeyError {
                setting,
                path: key_path.to_path_buf(),
            }
            .into()),
            None => Ok(Encryption::off()),
        }
    }

    /// Whether what is sent is sealed.
    pub fn seals(&self) -> bool {
        self.seal && self.sealer.is_some()
    }

    /// What is sent for `observations`: sealed, or as they are.
    pub fn outgoing(&self, observations: &[Observation]) -> Result<Vec<Observation>, KeyError> {
        match self.sealer.as_ref().filter(|_| self.seal) {
            Some(sealer) => observations.iter().map(|o| sealer.seal(o)).collect(),
            None => Ok(observations.to_vec()),
        }
    }

    /// The id the remote holds for a local observation.
    pub fn outgoing_id(&self, local: &Observation) -> String {
        match self.sealer.as_ref().filter(|_| self.seal) {
            Some(sealer) => sealer.observation_id(&local.computed_id()),
            None => local.id.clone(),
        }
    }

    /// The local observations of what was received from `place`: all of
    /// them, or an error and none (see [`open_all`]).
    pub fn incoming(
        &self,
        wire: Vec<Observation>,
        place: &str,
    ) -> Result<Vec<Observation>, OpenError> {
        open_all(self.sealer.as_ref(), wire, place)
    }
}
