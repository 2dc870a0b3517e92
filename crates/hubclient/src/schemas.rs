//! The OpenAPI schemas of the core's types (observation, todo, conflict),
//! written by hand: the core has no OpenAPI dependency. The wire types of
//! [`crate::api`] name them, and the hub's description (docs/HUB_API.md)
//! lists them as components; a test checks them against what serde writes.

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn time(nullable: bool) -> ObjectBuilder {
    let builder = if nullable {
        nullable_string()
    } else {
        string()
    };
    builder.format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name))
}

fn array_of(item: impl Into<RefOr<Schema>>) -> ArrayBuilder {
    ArrayBuilder::new().items(item.into())
}

/// An object schema with these properties; `required` lists the names that
/// serde always writes.
fn object(properties: Vec<(&str, RefOr<Schema>)>, required: &[&str]) -> RefOr<Schema> {
    let mut builder = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema) in properties {
        builder = builder.property(name, schema);
    }
    for name in required {
        builder = builder.required(*name);
    }
    RefOr::T(Schema::Object(builder.build()))
}

macro_rules! doc_schema {
    ($doc:ident, $name:literal, $schema:expr) => {
        #[doc = concat!("The OpenAPI schema of the core's `", $name, "`.")]
        pub struct $doc;
        impl PartialSchema for $doc {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl ToSchema for $doc {
            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
        }
    };
}

doc_schema!(
    StatusDoc,
    "Status",
    RefOr::T(Schema::Object(
        string()
            .enum_values(Some(["pending", "in_progress", "completed", "deleted"]))
            .build()
    ))
);

doc_schema!(
    ObservationDoc,
    "Observation",
    object(
        vec![
            ("id", string().description(Some("32 hex digits")).into()),
            (
                "todo_id",
                string()
                    .description(Some("16 hex digits; may be empty"))
                    .into()
            ),
            ("project", string().into()),
            ("content", string().into()),
            ("activeForm", nullable_string().into()),
            ("status", reference("Status")),
            ("observer", string().into()),
            ("session", nullable_string().into()),
            ("device", string().into()),
            (
                "source",
                string()
                    .enum_values(Some(["file", "transcript", "hook", "mcp", "user"]))
                    .into()
            ),
            ("observed_at", time(false).into()),
        ],
        &[
            "id",
            "todo_id",
            "project",
            "content",
            "status",
            "observer",
            "device",
            "source",
            "observed_at"
        ],
    )
);

doc_schema!(
    TodoEntryDoc,
    "TodoEntry",
    object(
        vec![
            ("id", string().into()),
            ("content", string().into()),
            ("activeForm", nullable_string().into()),
            ("status", reference("Status")),
            ("project", string().into()),
            ("sessions", array_of(string()).into()),
            (
                "agents",
                array_of(string())
                    .description(Some("the agents whose observers saw it: claude, codex…"))
                    .into()
            ),
            ("first_seen", time(true).into()),
            ("started_at", time(true).into()),
            ("updated_at", time(true).into()),
            ("completed_at", time(true).into()),
        ],
        &[
            "id",
            "content",
            "activeForm",
            "status",
            "project",
            "sessions",
            "agents",
            "first_seen",
            "started_at",
            "updated_at",
            "completed_at"
        ],
    )
);

doc_schema!(
    ConflictSideDoc,
    "ConflictSide",
    object(
        vec![
            ("observer", string().into()),
            ("session", nullable_string().into()),
            ("status", reference("Status")),
            ("observed_at", time(false).into()),
        ],
        &["observer", "session", "status", "observed_at"],
    )
);

doc_schema!(
    ConflictDoc,
    "Conflict",
    object(
        vec![
            ("id", string().into()),
            ("content", string().into()),
            ("project", string().into()),
            ("resolution", reference("Status")),
            ("rule", string().into()),
            ("sides", array_of(reference("ConflictSide")).into()),
        ],
        &["id", "content", "project", "resolution", "rule", "sides"],
    )
);

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_core::{Observation, Source, Status, Timestamp, TodoState};
    use std::collections::BTreeSet;

    fn keys_of(value: &serde_json::Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    fn properties_of(schema: RefOr<Schema>) -> BTreeSet<String> {
        match schema {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => panic!("not an object schema"),
        }
    }

    fn required_of(schema: RefOr<Schema>) -> BTreeSet<String> {
        match schema {
            RefOr::T(Schema::Object(object)) => object.required.into_iter().collect(),
            _ => panic!("not an object schema"),
        }
    }

    /// The hand-written schemas name exactly the fields serde writes.
    #[test]
    fn core_schemas_match_serde() {
        let mk = |observer: &str, status| {
            Observation::new(
                "api",
                "Ship it".into(),
                Some("Shipping it".into()),
                status,
                observer.into(),
                Some(observer.into()),
                "laptop",
                Source::Hook,
                Timestamp(1_000),
            )
        };
        let a = mk("a", Status::Completed);
        let b = mk("b", Status::InProgress);
        let mut state = TodoState::default();
        state.apply(&a);
        state.apply(&b);
        let resolved = state.resolve().unwrap();
        let conflict = resolved.conflict.unwrap();

        let obs = serde_json::to_value(&a).unwrap();
        assert_eq!(keys_of(&obs), properties_of(ObservationDoc::schema()));
        let entry = serde_json::to_value(&resolved.entry).unwrap();
        assert_eq!(keys_of(&entry), properties_of(TodoEntryDoc::schema()));
        let conflict_json = serde_json::to_value(&conflict).unwrap();
        assert_eq!(
            keys_of(&conflict_json),
            properties_of(ConflictDoc::schema())
        );
        let side = serde_json::to_value(&conflict.sides[0]).unwrap();
        assert_eq!(keys_of(&side), properties_of(ConflictSideDoc::schema()));
        // TodoEntry writes every field (nulls included); the others skip none
        // but `activeForm` of an observation.
        assert_eq!(keys_of(&entry), required_of(TodoEntryDoc::schema()));
        let mut optional = properties_of(ObservationDoc::schema());
        optional.retain(|k| !required_of(ObservationDoc::schema()).contains(k));
        assert_eq!(
            optional,
            ["activeForm".to_string(), "session".to_string()].into()
        );
    }
}
