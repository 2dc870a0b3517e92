//! The Claude Code side of the corpus: `todos/`, `tasks/` and `projects/`
//! under a `.claude` folder. Each file has one job: [`plan`] decides what every
//! session does, [`emit`] writes a session's files, [`transcript`] writes the
//! lines of a transcript (and appends one to an existing transcript).

mod emit;
mod plan;
mod transcript;

pub(crate) use emit::{set_mtime, write_file};
pub(crate) use plan::{ListPlan, Session, St, World};
pub use plan::{WINDOW_END_MS, WINDOW_START_MS};
pub(crate) use transcript::append_line;
