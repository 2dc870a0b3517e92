//! Claude Code's `settings.json`: the file (links, modes, backups, atomic
//! writes), edits that keep every byte they are not about, and what it says
//! about the plan tools. See docs/HOOKS.md.

pub mod file;
pub mod json_text;
pub mod plan_tools;
