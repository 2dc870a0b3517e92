//! Whether Claude Code offers its plan tools (`TodoWrite`, the Task tools) to
//! every session: `CLAUDE_CODE_ENABLE_TODO_TOOLS` in the `env` object of the
//! user's settings file, else in the environment (docs/HOOKS.md, "Plan tools").

use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// The variable that turns the plan tools on for newer models.
pub const VAR: &str = "CLAUDE_CODE_ENABLE_TODO_TOOLS";

/// The value `hooks install` sets.
pub const ON: &str = "1";

/// Whether a value turns the tools on: `1`, `true`, `yes` or `on`, in any case.
pub fn is_on(value: &str) -> bool {
    ["1", "true", "yes", "on"]
        .iter()
        .any(|on| value.trim().eq_ignore_ascii_case(on))
}

/// A settings value as Claude Code puts it in a session's environment.
pub fn as_env_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Where the answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The `env` object of the settings file: Claude Code applies it to every
    /// session, over the environment it was started in.
    Settings,
    /// The environment of this process (the shell that runs `claude`).
    Environment,
    /// Set nowhere: Claude Code's default, off on the newer models.
    Default,
}

/// The plan tools as a session started from here would have them.
#[derive(Debug, Clone, Serialize)]
pub struct PlanTools {
    pub on: bool,
    pub source: Source,
    /// The settings file read.
    pub settings_file: String,
    /// The value in its `env`, as written there.
    pub settings_value: Option<Value>,
    /// Why the settings file could not be read, when it could not.
    pub settings_error: Option<String>,
    /// The value in this process's environment.
    pub environment_value: Option<String>,
    /// The one line that turns them on, when they are off.
    pub fix: Option<String>,
}

impl PlanTools {
    /// Reads `settings` (a missing file sets nothing) and the environment.
    pub fn of(settings: &Path) -> PlanTools {
        let (settings_value, settings_error) = match settings_env_value(settings) {
            Ok(value) => (value, None),
            Err(e) => (None, Some(e)),
        };
        let environment_value = std::env::var(VAR).ok();
        let (on, source) = match (&settings_value, &environment_value) {
            (Some(value), _) => (is_on(&as_env_text(value)), Source::Settings),
            (None, Some(value)) => (is_on(value), Source::Environment),
            (None, None) => (false, Source::Default),
        };
        let fix = (!on).then(|| match source {
            Source::Default => "chittysync hooks install".to_string(),
            Source::Environment => format!("export {VAR}={ON}"),
            Source::Settings => format!(
                "set \"{VAR}\": \"{ON}\" in the \"env\" of {}",
                settings.display()
            ),
        });
        PlanTools {
            on,
            source,
            settings_file: settings.display().to_string(),
            settings_value,
            settings_error,
            environment_value,
            fix,
        }
    }
}

/// `env.CLAUDE_CODE_ENABLE_TODO_TOOLS` of a settings file, if set.
fn settings_env_value(path: &Path) -> Result<Option<Value>, String> {
    // Read by every SessionStart hook: bounded and never blocking, as any
    // file of a user's folder (docs/HOOKS.md, "Files read from your folders").
    let bytes = match chittysync_sources::read_limited(path, super::SETTINGS_BYTES) {
        Ok(bytes) => bytes,
        Err(chittysync_sources::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        return Ok(None);
    }
    let root: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON ({e})", path.display()))?;
    match root.get("env") {
        None => Ok(None),
        Some(Value::Object(env)) => Ok(env.get(VAR).cloned()),
        Some(_) => Err(format!("`env` in {} is not an object", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthy_values() {
        for on in ["1", "true", "TRUE", " yes ", "on"] {
            assert!(is_on(on), "{on}");
        }
        for off in ["0", "", "false", "no", "2"] {
            assert!(!is_on(off), "{off}");
        }
        assert_eq!(as_env_text(&serde_json::json!(1)), "1");
    }
}
