//! A visible todo's place in its project's block, and what the outputs need
//! of it besides its entry: its sort key and id (the block's order), its
//! status, sessions and conflict. A todo changed in this process holds them
//! in memory; one read back from the kept blocks holds only where its record
//! lies in their bytes, read there when asked and copied as it is when the
//! blocks are kept again — a run that changes ten todos of 60,000 neither
//! decodes nor re-encodes the others (docs/ARCHITECTURE.md, "The outputs").

use super::cache;
use chittysync_core::Status;
use chittysync_store::StoredTodo;
use std::cmp::Ordering;
use std::ops::Range;

/// A visible todo's place in its project's block.
pub(super) struct Placed {
    /// Where its entry lies in its block's entries.
    pub range: Range<usize>,
    pub status: Status,
    /// Whether it has a conflict (whose text is in `fields`).
    pub conflicted: bool,
    pub fields: Fields,
}

/// A todo's sort key, id, sessions and conflict.
pub(super) enum Fields {
    Owned(Box<Owned>),
    /// This record of the kept blocks' bytes, checked when they were read
    /// back ([`cache::record`]).
    Kept(Range<usize>),
}

pub(super) struct Owned {
    pub sort_key: String,
    pub todo_id: String,
    pub sessions: Vec<String>,
    pub conflict: Option<String>,
}

/// A todo's fields, wherever they lie.
pub(super) struct FieldsRef<'a> {
    pub sort_key: &'a str,
    pub todo_id: &'a str,
    pub sessions: Sessions<'a>,
    pub conflict: Option<&'a str>,
}

/// A todo's sessions, wherever they lie.
#[derive(Clone, Copy)]
pub(super) enum Sessions<'a> {
    Owned(&'a [String]),
    /// `count` sessions encoded one after another in `bytes`.
    Kept {
        count: usize,
        bytes: &'a [u8],
    },
}

impl<'a> Sessions<'a> {
    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        let (owned, kept) = match self {
            Sessions::Owned(sessions) => (sessions, None),
            Sessions::Kept { count, bytes } => (&[][..], Some(cache::sessions(bytes, count))),
        };
        owned
            .iter()
            .map(String::as_str)
            .chain(kept.into_iter().flatten())
    }

    pub fn contains(self, session: &str) -> bool {
        self.iter().any(|s| s == session)
    }
}

impl Placed {
    /// A changed todo, its entry at `range`.
    pub fn changed(todo: StoredTodo, range: Range<usize>) -> Placed {
        Placed {
            range,
            status: todo.status,
            conflicted: todo.conflict_json.is_some(),
            fields: Fields::Owned(Box::new(Owned {
                sort_key: todo.sort_key,
                todo_id: todo.todo_id,
                sessions: todo.sessions,
                conflict: todo.conflict_json,
            })),
        }
    }

    /// Its fields; a kept record is read from `records`, the bytes the
    /// blocks were read back from.
    pub fn fields<'a>(&'a self, records: &'a [u8]) -> FieldsRef<'a> {
        match &self.fields {
            Fields::Owned(owned) => FieldsRef {
                sort_key: &owned.sort_key,
                todo_id: &owned.todo_id,
                sessions: Sessions::Owned(&owned.sessions),
                conflict: owned.conflict.as_deref(),
            },
            Fields::Kept(at) => {
                cache::record(&records[at.clone()])
                    .expect("kept records are checked when read back")
                    .fields
            }
        }
    }

    /// Where it goes in its block against `todo`.
    pub fn order(&self, records: &[u8], todo: &StoredTodo) -> Ordering {
        let fields = self.fields(records);
        (fields.sort_key, fields.todo_id).cmp(&(todo.sort_key.as_str(), todo.todo_id.as_str()))
    }
}
