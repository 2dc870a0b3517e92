//! Claude Code's `settings.json`: the file (links, modes, backups, atomic
//! writes), edits that keep every byte they are not about, and what it says
//! about the plan tools. See docs/HOOKS.md.

pub mod file;

/// The most read of a settings file (Claude Code's are a few KiB): a
/// `settings.json` that is a FIFO or a link to a device is refused, never
/// waited on or read without end.
const SETTINGS_BYTES: u64 = 4 << 20;

pub mod json_text;
pub mod plan_tools;
