//! The laws of the fold and the merge (docs/DESIGN.md, "The fold" and "The three-way merge"), checked on random inputs.

use chittysync_core::{fold, merge_snapshots, Observation, Source, Status, Timestamp, TodoEntry};
use proptest::prelude::*;

fn arb_status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn arb_observation() -> impl Strategy<Value = Observation> {
    (0usize..4, 0usize..4, arb_status(), 0i64..8, 0usize..2).prop_map(|(c, o, s, t, case)| {
        let content = if case == 0 {
            format!("Todo number {c}")
        } else {
            format!("  todo   NUMBER {c} ")
        };
        Observation::new(
            "p",
            content,
            None,
            s,
            format!("observer-{o}"),
            Some(format!("session-{o}")),
            "dev",
            Source::Transcript,
            Timestamp(t),
        )
    })
}

fn resolved(all: &[Observation]) -> Vec<(TodoEntry, Option<chittysync_core::Conflict>)> {
    fold(all)
        .into_values()
        .filter_map(|s| s.resolve())
        .map(|r| (r.entry, r.conflict))
        .collect()
}

fn arb_entry() -> impl Strategy<Value = TodoEntry> {
    (0usize..5, arb_status(), 0i64..5).prop_map(|(c, status, t)| TodoEntry {
        id: chittysync_core::todo_id("p", &format!("todo {c}")),
        content: format!("todo {c}"),
        active_form: None,
        status,
        project: "p".into(),
        sessions: vec![format!("s{t}")],
        agents: vec![],
        first_seen: Some(Timestamp(0)),
        started_at: None,
        updated_at: Some(Timestamp(t)),
        completed_at: None,
    })
}

proptest! {
    #[test]
    fn order_does_not_matter(all in prop::collection::vec(arb_observation(), 0..30), seed in any::<u64>()) {
        let mut shuffled = all.clone();
        // A deterministic shuffle driven by the seed.
        let n = shuffled.len();
        let mut x = seed | 1;
        for i in (1..n).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(resolved(&all), resolved(&shuffled));
    }

    #[test]
    fn an_observation_taken_owned_folds_as_one_borrowed(all in prop::collection::vec(arb_observation(), 0..30)) {
        // A fold of the whole log hands each observation over instead of
        // lending it; the accumulator must end the same, and the word handed
        // back must be exactly the observation when it became its
        // observer's current word (not when it already was).
        let mut borrowed = chittysync_core::TodoState::default();
        let mut owned = chittysync_core::TodoState::default();
        for obs in &all {
            let already = borrowed.latest.get(&obs.observer).is_some_and(|o| o.id == obs.id);
            borrowed.apply(obs);
            let kept = owned.apply_owned(obs.clone()).cloned();
            let became = !already && borrowed.latest[&obs.observer].id == obs.id;
            prop_assert_eq!(kept.is_some(), became);
            if let Some(kept) = kept {
                prop_assert_eq!(&kept, obs);
            }
        }
        prop_assert_eq!(borrowed.resolve(), owned.resolve());
        prop_assert_eq!(&borrowed.latest, &owned.latest);
        prop_assert_eq!(&borrowed.sessions, &owned.sessions);
        prop_assert_eq!(
            (borrowed.first_seen, borrowed.started_at, borrowed.first_completed),
            (owned.first_seen, owned.started_at, owned.first_completed)
        );
    }

    #[test]
    fn the_same_observation_twice_changes_nothing(all in prop::collection::vec(arb_observation(), 0..30)) {
        let mut doubled = all.clone();
        doubled.extend(all.iter().cloned());
        prop_assert_eq!(resolved(&all), resolved(&doubled));
    }

    #[test]
    fn completion_never_regresses_across_observers(all in prop::collection::vec(arb_observation(), 1..30), later in arb_observation()) {
        // Once some observer's latest word is `completed`, another observer's
        // observation cannot make the todo anything else.
        let before = fold(&all);
        let mut with_later = all.clone();
        with_later.push(later.clone());
        let after = fold(&with_later);
        for (id, state) in &before {
            let completed_by_other = state.latest.iter().any(|(observer, o)| {
                o.status == Status::Completed && observer != &later.observer
            });
            if completed_by_other {
                let status = after[id].resolve().unwrap().entry.status;
                prop_assert_eq!(status, Status::Completed);
            }
        }
    }

    #[test]
    fn merge_is_symmetric_and_keeps_everything(
        base in prop::collection::vec(arb_entry(), 0..5),
        ours in prop::collection::vec(arb_entry(), 0..5),
        theirs in prop::collection::vec(arb_entry(), 0..5),
    ) {
        let a = merge_snapshots(&base, &ours, &theirs);
        let b = merge_snapshots(&base, &theirs, &ours);
        prop_assert_eq!(&a.todos, &b.todos);
        prop_assert_eq!(a.conflicts.len(), b.conflicts.len());
        for e in ours.iter().chain(theirs.iter()) {
            prop_assert!(a.todos.iter().any(|t| t.id == e.id), "lost {}", e.content);
        }
        // Same inputs, same output, byte for byte.
        let again = merge_snapshots(&base, &ours, &theirs);
        prop_assert_eq!(serde_json::to_string(&a.todos).unwrap(), serde_json::to_string(&again.todos).unwrap());
    }

    #[test]
    fn merging_with_an_unchanged_side_takes_the_other(mut base in prop::collection::vec(arb_entry(), 0..5), mut theirs in prop::collection::vec(arb_entry(), 0..5)) {
        // One entry per todo on each side, as in a real todos.json.
        base.sort_by(|a, b| a.id.cmp(&b.id));
        base.dedup_by(|a, b| a.id == b.id);
        theirs.sort_by(|a, b| a.id.cmp(&b.id));
        theirs.dedup_by(|a, b| a.id == b.id);
        let out = merge_snapshots(&base, &base, &theirs);
        prop_assert!(out.conflicts.is_empty());
        for t in &theirs {
            prop_assert!(out.todos.contains(t), "their change to {} was lost", t.content);
        }
    }
}

/// One session's successive `TodoWrite`s: each write is the whole list then.
fn arb_writes() -> impl Strategy<Value = Vec<Vec<(usize, Status)>>> {
    let status = prop::sample::select(vec![Status::Pending, Status::InProgress, Status::Completed]);
    prop::collection::vec(prop::collection::vec((0usize..5, status), 0..5), 1..6)
}

fn list_observations(
    writes: &[(usize, &Vec<(usize, Status)>)],
    source: Source,
) -> Vec<Observation> {
    writes
        .iter()
        .flat_map(|(at, list)| {
            list.iter().map(move |(c, s)| {
                Observation::new(
                    "p",
                    format!("Step {c}"),
                    None,
                    *s,
                    "session-1".into(),
                    Some("session-1".into()),
                    "dev",
                    source,
                    Timestamp(*at as i64 * 1000),
                )
            })
        })
        .collect()
}

fn entries_only(all: &[Observation]) -> Vec<TodoEntry> {
    resolved(all).into_iter().map(|(e, _)| e).collect()
}

proptest! {
    #[test]
    fn file_and_hooks_seeing_part_of_the_transcript_change_nothing(
        writes in arb_writes(),
        hook_saw in prop::collection::vec(any::<bool>(), 6),
        seed in any::<u64>(),
    ) {
        let timed: Vec<(usize, &Vec<(usize, Status)>)> = writes.iter().enumerate().collect();
        let transcript = list_observations(&timed, Source::Transcript);
        // The todo file holds only the latest list (possibly emptied: `[]`).
        let file = list_observations(&timed[timed.len() - 1..], Source::File);
        let hooked: Vec<_> = timed
            .iter()
            .zip(hook_saw.iter().cycle())
            .filter(|(_, saw)| **saw)
            .map(|(w, _)| *w)
            .collect();
        let hook = list_observations(&hooked, Source::Hook);
        let mut all: Vec<Observation> = transcript.iter().chain(&file).chain(&hook).cloned().collect();
        let mut x = seed | 1;
        for i in (1..all.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            all.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(entries_only(&all), entries_only(&transcript));
    }
}
