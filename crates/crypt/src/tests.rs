use super::*;
use chittysync_core::{todo_id, Source, Status, Timestamp};

fn obs(project: &str, content: &str, active: Option<&str>) -> Observation {
    Observation::new(
        project,
        content.into(),
        active.map(str::to_string),
        Status::InProgress,
        "s1".into(),
        Some("s1".into()),
        "laptop",
        Source::File,
        Timestamp(1_700_000_000_000),
    )
}

fn sealer() -> Sealer {
    Sealer::new(&DeviceKey::generate().unwrap())
}

#[test]
fn sealing_hides_the_text_and_opening_restores_the_local_observation() {
    let s = sealer();
    let local = obs(
        "secret-project",
        "Rotate the launch codes",
        Some("Rotating the codes"),
    );
    let wire = s.seal(&local).unwrap();
    let json = serde_json::to_string(&wire).unwrap();
    for text in [
        "secret-project",
        "Rotate",
        "launch",
        "Rotating",
        &local.id,
        &local.todo_id,
    ] {
        assert!(!json.contains(text), "{text} in {json}");
    }
    assert!(is_sealed(&wire));
    assert_eq!(sealed_with(&wire), Some(s.fingerprint()));
    assert_eq!(wire.status, local.status);
    assert_eq!(wire.observed_at, local.observed_at);
    assert_eq!(validated_wire(wire.clone()).unwrap(), wire);
    assert_eq!(s.open(&wire, "test").unwrap(), local);
    // A fresh nonce each time: the same observation seals differently, with the same ids.
    let again = s.seal(&local).unwrap();
    assert_ne!(again.content, wire.content);
    assert_eq!(
        (again.id.as_str(), again.todo_id.as_str()),
        (wire.id.as_str(), wire.todo_id.as_str())
    );
}

#[test]
fn equal_todos_meet_under_one_key_and_not_across_keys() {
    let s = sealer();
    let a = s.seal(&obs("api", "Write  the tests", None)).unwrap();
    let b = s.seal(&obs("api", "write the TESTS", None)).unwrap();
    assert_eq!(a.todo_id, b.todo_id);
    assert_ne!(a.todo_id, todo_id("api", "write the tests"));
    assert_ne!(
        s.seal(&obs("web", "write the tests", None))
            .unwrap()
            .todo_id,
        a.todo_id
    );
    assert_ne!(
        sealer()
            .seal(&obs("api", "write the tests", None))
            .unwrap()
            .todo_id,
        a.todo_id
    );
}

#[test]
fn another_key_no_key_or_a_changed_field_is_refused() {
    let s = sealer();
    let wire = s.seal(&obs("api", "Ship it", None)).unwrap();
    let other = sealer();
    let err = other.open(&wire, "the hub").unwrap_err();
    assert!(matches!(err, OpenError::OtherKey { .. }), "{err}");
    assert!(err.to_string().contains(s.fingerprint()), "{err}");
    let err = open_all(None, vec![wire.clone()], "the hub").unwrap_err();
    assert!(err.to_string().contains("has no key"), "{err}");

    let mut status = wire.clone();
    status.status = Status::Completed;
    assert!(matches!(
        s.open(&status, "x"),
        Err(OpenError::Altered { .. })
    ));
    let mut swapped = wire.clone();
    swapped.content = wire.project.clone();
    assert!(matches!(
        s.open(&swapped, "x"),
        Err(OpenError::Damaged {
            field: "content",
            ..
        })
    ));
    let mut moved = s.seal(&obs("api", "Other", None)).unwrap();
    moved.content = wire.content.clone();
    assert!(matches!(
        s.open(&moved, "x"),
        Err(OpenError::Damaged { .. })
    ));

    // Plain observations pass through either way.
    let plain = obs("api", "plain", None);
    assert_eq!(
        open_all(None, vec![plain.clone()], "x").unwrap(),
        vec![plain.clone()]
    );
    assert_eq!(s.open(&plain, "x").unwrap(), plain);
}

#[test]
fn the_hub_checks_the_shape_of_sealed_observations() {
    let s = sealer();
    let wire = s.seal(&obs("api", "Ship it", Some("Shipping"))).unwrap();
    let mut bad = wire.clone();
    bad.content = "Ship it".into();
    assert!(validated_wire(bad)
        .unwrap_err()
        .to_string()
        .contains("content"));
    let mut bad = wire.clone();
    bad.todo_id = "xyz".into();
    assert!(validated_wire(bad)
        .unwrap_err()
        .to_string()
        .contains("todo_id"));
    let mut bad = wire;
    bad.active_form = Some("Shipping".into());
    assert!(validated_wire(bad)
        .unwrap_err()
        .to_string()
        .contains("activeForm"));
}
