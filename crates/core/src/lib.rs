//! The rules of chittysync, in one place, with no I/O.
//!
//! Everything that decides *what the picture is* lives here — how a todo is
//! identified, how many observations of it fold into one state, when two
//! observers disagree, how two snapshots merge, which project a session belongs
//! to — so that the local consolidator, the git merge driver and the sync hub
//! can never disagree with one another. Callers bring the data; this crate only
//! computes.

#![forbid(unsafe_code)]

pub mod agent;
pub mod collision;
pub mod fold;
pub mod key;
pub mod merge;
pub mod observation;
pub mod orchestrate;
pub mod plan_tools;
pub mod project;
pub mod rollback;
pub mod snapshot;
pub mod status;
pub mod time;
pub mod topic;

pub use collision::{Collision, Holder, SessionState};
pub use fold::{fold, Conflict, ConflictSide, Resolved, TodoState};
pub use key::{normalize, short_id, todo_id, TodoId};
pub use merge::{merge_snapshots, MergeOutcome};
pub use observation::{Observation, Sighting, WireError};
pub use project::{KeywordRule, PathRule, ProjectRules};
pub use snapshot::TodoEntry;
pub use status::{Source, Status};
pub use time::Timestamp;
