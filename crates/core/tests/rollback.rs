//! The rollback rule, checked on arbitrary histories: afterwards the chosen
//! project shows exactly what it showed then, and nothing else changed.

use chittysync_core::rollback::plan;
use chittysync_core::{fold, Observation, Source, Status, Timestamp, TodoEntry};
use proptest::prelude::*;

const PROJECTS: [&str; 2] = ["api", "web"];
/// Spellings of the same todos: a rollback must restore the exact one shown.
const CONTENTS: [&str; 6] = [
    "Fix bug",
    "fix  BUG",
    "Write docs",
    "write docs",
    "Ship",
    "SHIP",
];
const STATUSES: [Status; 4] = [
    Status::Pending,
    Status::InProgress,
    Status::Completed,
    Status::Deleted,
];

fn observation() -> impl Strategy<Value = Observation> {
    (
        0..2usize,
        0..6usize,
        0..4usize,
        0..4usize,
        0..30i64,
        any::<bool>(),
    )
        .prop_map(|(project, content, observer, status, time, active)| {
            Observation::new(
                PROJECTS[project],
                CONTENTS[content].to_string(),
                active.then(|| format!("Doing {}", CONTENTS[content])),
                STATUSES[status],
                format!("session-{observer}"),
                Some(format!("session-{observer}")),
                "laptop",
                Source::File,
                Timestamp(time),
            )
        })
}

/// What a view shows of a todo.
fn shown(entry: &TodoEntry) -> Option<(Status, String, Option<String>)> {
    (entry.status != Status::Deleted).then(|| {
        (
            entry.status,
            entry.content.clone(),
            entry.active_form.clone(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rollback_restores_the_earlier_fold_of_one_project_only(
        history in prop::collection::vec(observation(), 1..40),
        until in 0..30i64,
    ) {
        let then_set: Vec<&Observation> =
            history.iter().filter(|o| o.observed_at.millis() <= until).collect();
        let now = fold(&history);
        let then = fold(then_set.iter().copied());
        let changes = plan(&now, &then, Some("api"), "desktop", Timestamp(20));

        let appended: Vec<Observation> =
            changes.iter().flat_map(|c| c.observations.iter().cloned()).collect();
        prop_assert!(appended.iter().all(|o| o.project == "api" && o.source == Source::User));
        let after = fold(history.iter().chain(&appended));

        for (id, state) in &after {
            let entry = state.resolve().unwrap().entry;
            if entry.project == "api" {
                let earlier = then.get(id).and_then(|s| s.resolve()).map(|r| r.entry);
                prop_assert_eq!(shown(&entry), earlier.as_ref().and_then(shown), "todo {}", id);
            } else {
                prop_assert_eq!(Some(entry), now[id].resolve().map(|r| r.entry));
            }
        }
        // Once restored, there is nothing left to roll back.
        prop_assert!(plan(&after, &then, Some("api"), "desktop", Timestamp(40)).is_empty());
    }
}
