//! End-to-end encryption of observations (docs/ENCRYPTION.md).
//!
//! A device key ([`DeviceKey`], `<home>/sync.key`) never leaves the devices
//! that share it. Before an observation goes to a hub or a git remote, a
//! [`Sealer`] turns it into its *sealed* wire form:
//!
//! - `project`, `content` and `activeForm` are each encrypted with
//!   XChaCha20-Poly1305 under a key derived from the device key, with a fresh
//!   random 24-byte nonce, and written as `cs1.<key fingerprint>.<base64url of
//!   nonce and ciphertext>`; the associated data is the observation's wire id
//!   and the field's name, so a value cannot be moved to another field or
//!   observation;
//! - `todo_id` becomes a keyed hash of the todo's key (project and normalized
//!   content), so equal todos written on two devices with the same key still
//!   have one id on the remote, and the remote can fold them;
//! - `id` becomes a keyed hash of the local observation id, so pushing the same
//!   observation twice stores it once, and — since the local id hashes every
//!   field — opening checks that nobody changed the fields left in the clear.
//!
//! Opening recomputes the local observation from the decrypted fields (its
//! plain `todo_id` and `id`, exactly what the device that wrote it holds), so
//! the local stores keep plain ids and pulls fold with local todos.

#![forbid(unsafe_code)]

mod encryption;
mod key;

pub use encryption::{Encryption, EncryptionError, NoKeyError};
pub use key::{DeviceKey, KeyError, KEY_PREFIX};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chittysync_core::{normalize, Observation, WireError};
use zeroize::Zeroizing;

/// Every sealed value starts with this (the version of the scheme).
pub const SEALED_PREFIX: &str = "cs1.";

const FIELDS_CONTEXT: &str = "chittysync 2026-11-30 observation fields XChaCha20-Poly1305";
const TODO_ID_CONTEXT: &str = "chittysync 2026-11-30 keyed todo id";
const OBSERVATION_ID_CONTEXT: &str = "chittysync 2026-11-30 keyed observation id";
pub(crate) const FINGERPRINT_CONTEXT: &str = "chittysync 2026-11-30 key fingerprint";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Whether a text is a sealed value.
pub fn is_sealed_text(text: &str) -> bool {
    text.starts_with(SEALED_PREFIX)
}

/// Whether an observation is in sealed form (its project is sealed).
pub fn is_sealed(obs: &Observation) -> bool {
    is_sealed_text(&obs.project)
}

/// Why a sealed observation could not be opened. Each message says where the
/// observation came from (`place`) and that nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error(
        "{place} holds observations encrypted end to end (key {found}) and this device has no \
         key: import the key of the devices that wrote them with `chittysync key import` \
         (`chittysync key show` prints it there); nothing was stored"
    )]
    NoKey { place: String, found: String },
    #[error(
        "{place} holds observations encrypted with another key ({found}; this device's key is \
         {ours}): import the key the other devices use with `chittysync key import --force`; \
         nothing was stored"
    )]
    OtherKey {
        place: String,
        found: String,
        ours: String,
    },
    #[error(
        "{place}: observation {id} is sealed with this device's key ({ours}) but its `{field}` \
         does not decrypt (damaged or altered); nothing was stored"
    )]
    Damaged {
        place: String,
        id: String,
        field: &'static str,
        ours: String,
    },
    #[error(
        "{place}: observation {id} decrypts, but its ids do not match its fields (altered); \
         nothing was stored"
    )]
    Altered { place: String, id: String },
}

/// Seals and opens observations with one device key.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    todo_key: Zeroizing<[u8; 32]>,
    observation_key: Zeroizing<[u8; 32]>,
    fingerprint: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Sealer {
    pub fn new(key: &DeviceKey) -> Sealer {
        let fields = key.derive(FIELDS_CONTEXT);
        Sealer {
            cipher: XChaCha20Poly1305::new(fields.as_ref().into()),
            todo_key: key.derive(TODO_ID_CONTEXT),
            observation_key: key.derive(OBSERVATION_ID_CONTEXT),
            fingerprint: key.fingerprint(),
        }
    }

    /// The fingerprint of the key (see [`DeviceKey::fingerprint`]).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The todo id the remote sees: 16 hex digits of a keyed BLAKE3 hash of
    /// `project + "\n" + normalized content`.
    pub fn todo_id(&self, project: &str, content: &str) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.todo_key);
        hasher.update(project.as_bytes());
        hasher.update(b"\n");
        hasher.update(normalize(content).as_bytes());
        hex::encode(&hasher.finalize().as_bytes()[..8])
    }

    /// The observation id the remote sees: 32 hex digits of a keyed BLAKE3
    /// hash of the local id.
    pub fn observation_id(&self, local_id: &str) -> String {
        let hash = blake3::keyed_hash(&self.observation_key, local_id.as_bytes());
        hex::encode(&hash.as_bytes()[..16])
    }

    /// The sealed wire form of a local observation.
    pub fn seal(&self, obs: &Observation) -> Result<Observation, KeyError> {
        // The id is recomputed from the fields, exactly as `open` will.
        let id = self.observation_id(&obs.computed_id());
        Ok(Observation {
            todo_id: self.todo_id(&obs.project, &obs.content),
            project: self.seal_text(&id, "project", &obs.project)?,
            content: self.seal_text(&id, "content", &obs.content)?,
            active_form: obs
                .active_form
                .as_deref()
                .map(|a| self.seal_text(&id, "activeForm", a))
                .transpose()?,
            id,
            ..obs.clone()
        })
    }

    fn seal_text(&self, id: &str, field: &str, text: &str) -> Result<String, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| KeyError::Random(e.to_string()))?;
        let aad = associated_data(id, field);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: text.as_bytes(),
                    aad: &aad,
                },
            )
            // Encryption fails only for messages past 256 GiB.
            .expect("XChaCha20-Poly1305 seals any todo");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}.{}",
            self.fingerprint,
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// The local observation a sealed one was made from; a plain observation
    /// passes through unchanged. `place` names where it came from in errors.
    pub fn open(&self, wire: &Observation, place: &str) -> Result<Observation, OpenError> {
        if !is_sealed(wire) {
            return Ok(wire.clone());
        }
        let project = self.open_text(wire, "project", &wire.project, place)?;
        let content = self.open_text(wire, "content", &wire.content, place)?;
        let active_form = wire
            .active_form
            .as_deref()
            .map(|a| self.open_text(wire, "activeForm", a, place))
            .transpose()?;
        let local = Observation::new(
            &project,
            content,
            active_form,
            wire.status,
            wire.observer.clone(),
            wire.session.clone(),
            &wire.device,
            wire.source,
            wire.observed_at,
        );
        if !wire
            .id
            .eq_ignore_ascii_case(&self.observation_id(&local.id))
            || !wire
                .todo_id
                .eq_ignore_ascii_case(&self.todo_id(&local.project, &local.content))
        {
            return Err(OpenError::Altered {
                place: place.to_string(),
                id: wire.id.clone(),
            });
        }
        Ok(local)
    }

    fn open_text(
        &self,
        wire: &Observation,
        field: &'static str,
        text: &str,
        place: &str,
    ) -> Result<String, OpenError> {
        let damaged = || OpenError::Damaged {
            place: place.to_string(),
            id: wire.id.clone(),
            field,
            ours: self.fingerprint.clone(),
        };
        let (found, encoded) = split_sealed(text).ok_or_else(damaged)?;
        if found != self.fingerprint {
            return Err(OpenError::OtherKey {
                place: place.to_string(),
                found: found.to_string(),
                ours: self.fingerprint.clone(),
            });
        }
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| damaged())?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(damaged());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let aad = associated_data(&wire.id.to_ascii_lowercase(), field);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| damaged())?;
        String::from_utf8(plain).map_err(|_| damaged())
    }
}

fn associated_data(id: &str, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(id.len() + 1 + field.len());
    aad.extend_from_slice(id.as_bytes());
    aad.push(0x1f);
    aad.extend_from_slice(field.as_bytes());
    aad
}

/// `cs1.<fingerprint>.<base64>` → (fingerprint, base64).
fn split_sealed(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(SEALED_PREFIX)?;
    let (fingerprint, encoded) = rest.split_once('.')?;
    (fingerprint.len() == 8 && !encoded.is_empty()).then_some((fingerprint, encoded))
}

/// The fingerprint of the key a sealed observation was sealed with.
pub fn sealed_with(obs: &Observation) -> Option<&str> {
    split_sealed(&obs.project).map(|(fingerprint, _)| fingerprint)
}

/// Opens every observation of a batch received from `place` (plain ones pass
/// through), or none: one that cannot be opened fails the whole batch, so a
/// device stores nothing it cannot read.
pub fn open_all(
    sealer: Option<&Sealer>,
    wire: Vec<Observation>,
    place: &str,
) -> Result<Vec<Observation>, OpenError> {
    match sealer {
        Some(sealer) => wire.iter().map(|o| sealer.open(o, place)).collect(),
        None => match wire.iter().find_map(sealed_with) {
            Some(found) => Err(OpenError::NoKey {
                place: place.to_string(),
                found: found.to_string(),
            }),
            None => Ok(wire),
        },
    }
}

/// Checks an observation received by a hub: a plain one as the core checks
/// it ([`Observation::validated`]); a sealed one, whose todo id cannot be
/// checked against text the hub cannot read, for its shape: ids of 32 and 16
/// hex digits, sealed project, content and activeForm, an observer and a device.
pub fn validated_wire(mut obs: Observation) -> Result<Observation, WireError> {
    if !is_sealed(&obs) {
        return obs.validated();
    }
    let field = |field: &'static str, problem: &str| WireError::Field {
        field,
        problem: problem.to_string(),
    };
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex(&obs.id, 32) {
        return Err(field("id", "must be 32 hex digits"));
    }
    if !hex(&obs.todo_id, 16) {
        return Err(field(
            "todo_id",
            "must be 16 hex digits (the keyed id of a sealed observation)",
        ));
    }
    if split_sealed(&obs.project).is_none() {
        return Err(field("project", "not a sealed value"));
    }
    if split_sealed(&obs.content).is_none() {
        return Err(field(
            "content",
            "must be sealed like the project (`cs1.…`)",
        ));
    }
    if obs
        .active_form
        .as_deref()
        .is_some_and(|a| split_sealed(a).is_none())
    {
        return Err(field(
            "activeForm",
            "must be sealed like the project (`cs1.…`)",
        ));
    }
    if obs.observer.is_empty() {
        return Err(field("observer", "must be a non-empty string"));
    }
    if obs.device.is_empty() {
        return Err(field("device", "must be a non-empty string"));
    }
    obs.id.make_ascii_lowercase();
    obs.todo_id.make_ascii_lowercase();
    Ok(obs)
}

#[cfg(test)]
mod tests;
