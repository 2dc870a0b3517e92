//! Todo identity: a todo is its project and its normalized content (docs/DESIGN.md, "Identity").

use sha2::{Digest, Sha256};

/// A todo's id: the first 16 hex digits of SHA-256 of `project + "\n" + normalized`.
pub type TodoId = String;

/// Trims, folds every run of inner whitespace to one space, and lowercases, so
/// that two sessions writing the same todo with different spacing or case agree.
/// Each character is lowercased alone (`char::to_lowercase`), whitespace is
/// Unicode's (`str::split_whitespace`): the ids of every stored todo depend on
/// exactly this, so it must never change.
pub fn normalize(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    for word in content.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            // The same as below for ASCII, without a case-mapping iterator
            // per character (most todos are ASCII; a cold run normalizes
            // every observation's content).
            let start = out.len();
            out.push_str(word);
            out[start..].make_ascii_lowercase();
        } else {
            for c in word.chars() {
                out.extend(c.to_lowercase());
            }
        }
    }
    out
}

/// The first eight characters of an id: enough to tell session UUIDs and todo
/// ids apart in tables and messages.
pub fn short_id(id: &str) -> &str {
    // Another agent's session keeps its agent: `codex:0199a213`.
    let skip = match id.split_once(':') {
        Some((agent, _)) if crate::agent::NAMESPACED.contains(&agent) => agent.len() + 1,
        _ => 0,
    };
    id.get(..skip + 8).unwrap_or(id)
}

/// The id of the todo with this content in this project.
pub fn todo_id(project: &str, content: &str) -> TodoId {
    todo_id_of_normalized(project, &normalize(content))
}

/// The id for content that is already normalized (saves a second normalization on hot paths).
pub fn todo_id_of_normalized(project: &str, normalized: &str) -> TodoId {
    let mut hasher = Sha256::new();
    hasher.update(project.as_bytes());
    hasher.update(b"\n");
    hasher.update(normalized.as_bytes());
    let digest = hasher.finalize();
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_space_and_case() {
        assert_eq!(normalize("  Fix   the\tBUG\n now "), "fix the bug now");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn id_is_sha256_prefix() {
        // sha256("api\nfix the bug")
        let id = todo_id("api", "  Fix the   bug ");
        assert_eq!(id.len(), 16);
        assert_eq!(id, todo_id("api", "fix the bug"));
        assert_ne!(id, todo_id("web", "fix the bug"));
        let expected = {
            let d = Sha256::digest(b"api\nfix the bug");
            hex::encode(&d[..8])
        };
        assert_eq!(id, expected);
    }

    /// What `normalize` was before its ASCII path, kept to check it against.
    fn normalize_per_char(content: &str) -> String {
        let mut out = String::new();
        for word in content.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            for c in word.chars() {
                out.extend(c.to_lowercase());
            }
        }
        out
    }

    #[test]
    fn lowercases_each_character_alone_and_splits_on_unicode_whitespace() {
        // A final sigma stays σ (`str::to_lowercase` would give ς); vertical
        // tab and NEL are whitespace, U+001F is not.
        assert_eq!(
            normalize("ΟΔΟΣ\u{0B}Fix\u{85}İt\u{1F}X"),
            "οδοσ fix i\u{307}t\u{1f}x"
        );
        assert_eq!(normalize("ASCII\u{A0}ÄND"), "ascii änd");
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_path_normalizes_as_each_character_alone(content in "\\PC{0,40}|[ -~\\t\\n\\x0b\\x0c\\r]{0,40}|[a-zA-Z \\t\\n\\x0b\\x1f\\x{85}\\x{a0}\\x{2028}\\x{3000}ΣσİIÄẞǅ]{0,40}") {
            proptest::prop_assert_eq!(normalize(&content), normalize_per_char(&content));
        }
    }
}
