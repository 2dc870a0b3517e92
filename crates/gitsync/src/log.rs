//! The observation log files: one wire-format observation per line.
//!
//! Logs are append-only, so when a log changes, the new version begins with
//! the old one and only the lines after it need reading. A version that does
//! not (a rewritten history) is read whole; ingest ignores what it already has.

use chittysync_core::Observation;
use chittysync_crypt::{Encryption, OpenError};

/// Appends an observation as one log line.
pub fn append(out: &mut Vec<u8>, obs: &Observation) {
    // Serializing a plain struct of strings and numbers cannot fail.
    serde_json::to_writer(&mut *out, obs).expect("an observation serializes");
    out.push(b'\n');
}

/// What reading a log gave.
#[derive(Debug, Default)]
pub struct Decoded {
    pub observations: Vec<Observation>,
    /// One message per line refused, naming the file and line.
    pub rejected: Vec<String>,
    /// The first sealed line this device could not open: the caller stores
    /// nothing then (docs/ENCRYPTION.md).
    pub unreadable: Option<OpenError>,
}

impl Decoded {
    /// The observations, unless a sealed line could not be opened.
    pub fn readable(self) -> Result<Decoded, OpenError> {
        match self.unreadable {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }
}

/// Reads the lines of `new` that are not in `old` (all of them when `new` does
/// not extend `old`). `path` names the file in messages. Sealed lines are
/// opened with `encryption`.
pub fn decode_appended(
    path: &str,
    old: Option<&[u8]>,
    new: &[u8],
    encryption: &Encryption,
    out: &mut Decoded,
) {
    let (skip, first_line) = match old {
        Some(old) if new.starts_with(old) && (old.is_empty() || old.ends_with(b"\n")) => {
            (old.len(), line_count(old) + 1)
        }
        _ => (0, 1),
    };
    for (number, line) in (first_line..).zip(new[skip..].split(|&b| b == b'\n')) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = serde_json::from_slice::<Observation>(line)
            .map_err(|e| e.to_string())
            .and_then(|o| chittysync_crypt::validated_wire(o).map_err(|e| e.to_string()));
        match parsed {
            Ok(obs) if chittysync_crypt::is_sealed(&obs) => {
                match encryption.incoming(vec![obs], &format!("{path}:{number}")) {
                    Ok(opened) => out.observations.extend(opened),
                    Err(error) => {
                        out.unreadable.get_or_insert(error);
                    }
                }
            }
            Ok(obs) => out.observations.push(obs),
            Err(why) => out.rejected.push(format!("{path}:{number}: {why}")),
        }
    }
}

/// How many lines a log holds.
pub fn line_count(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_core::{Source, Status, Timestamp};

    fn obs(content: &str) -> Observation {
        Observation::new(
            "p",
            content.into(),
            None,
            Status::Pending,
            "s".into(),
            Some("s".into()),
            "dev",
            Source::File,
            Timestamp(1),
        )
    }

    fn encode(observations: &[Observation]) -> Vec<u8> {
        let mut out = Vec::new();
        for o in observations {
            append(&mut out, o);
        }
        out
    }

    #[test]
    fn reads_only_the_appended_tail() {
        let old = encode(&[obs("a"), obs("b")]);
        let mut new = old.clone();
        new.extend(encode(&[obs("c")]));
        new.extend(b"{not json}\n");
        let mut out = Decoded::default();
        decode_appended("log", Some(&old), &new, &Encryption::off(), &mut out);
        assert_eq!(out.observations, vec![obs("c")]);
        assert_eq!(out.rejected.len(), 1);
        assert!(out.rejected[0].starts_with("log:4: "), "{:?}", out.rejected);

        let mut all = Decoded::default();
        decode_appended(
            "log",
            Some(b"rewritten\n"),
            &new,
            &Encryption::off(),
            &mut all,
        );
        assert_eq!(all.observations.len(), 3);
        assert_eq!(line_count(&new), 4);
        assert_eq!(line_count(b"a\nb"), 2);
    }
}
