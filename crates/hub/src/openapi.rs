//! The OpenAPI description served at `/api/openapi.json`.
//!
//! Paths are collected from the handlers' `#[utoipa::path]` attributes by the
//! same router that serves them (`utoipa_axum`), so a route cannot exist
//! without being described. The core's types (observation, todo, conflict)
//! live in a crate with no OpenAPI dependency, so their schemas are written
//! here by hand; a test checks them against what serde actually produces.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

// The core's schemas live with the wire types (crates/hubclient).
pub(crate) use chittysync_hubclient::schemas::{
    ConflictDoc, ConflictSideDoc, ObservationDoc, StatusDoc, TodoEntryDoc,
};

/// The security scheme name used by every protected path.
pub(crate) const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chittysync hub",
        description = "Stores every tenant's todo observations and serves their fold (docs/HUB_API.md)."
    ),
    components(schemas(ObservationDoc, TodoEntryDoc, ConflictDoc, ConflictSideDoc, StatusDoc)),
    modifiers(&BearerAuth)
)]
pub(crate) struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
