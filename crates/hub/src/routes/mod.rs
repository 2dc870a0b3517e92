//! The HTTP surface: which routes exist, which need a token, and the layers
//! every request passes through (metrics, panic catching, body limit).
//!
//! Routes are registered through `utoipa_axum`, which builds the router and
//! the OpenAPI description from the same list.

mod dashboard;
mod meta;
mod todos;
mod views;

use crate::auth::require_tenant;
use crate::error::ApiError;
use crate::metrics::count_requests;
use crate::openapi::ApiDoc;
use crate::server::{AppState, Timeouts};
use crate::ws;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::http::Uri;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use std::any::Any;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The whole application, ready to serve.
pub(crate) fn app(state: AppState, max_body_bytes: usize, timeouts: Timeouts) -> Router {
    let (router, openapi) = described(state.clone());
    let openapi_json = Arc::new(openapi.to_json().unwrap_or_else(|_| "{}".to_string()));
    finish(
        router
            // The dashboard, per tenant (docs/UI.md, "On the hub").
            .merge(dashboard::router(state.clone()))
            .layer(Extension(meta::OpenApiJson(openapi_json))),
        state,
        max_body_bytes,
    )
    // A body that trickles in slower than the deadline fails its read (the
    // handler answers 400); a request whose handler runs past its deadline
    // gets 408 (docs/HUB_API.md#limits).
    .layer(RequestBodyTimeoutLayer::new(timeouts.body))
    .layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        timeouts.request,
    ))
}

/// The routes and their description.
fn described(state: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let protected = OpenApiRouter::new()
        .routes(routes!(todos::sync))
        .routes(routes!(todos::list))
        .routes(routes!(todos::since))
        .routes(routes!(views::status))
        .routes(routes!(views::projects))
        .routes(routes!(views::sessions))
        .routes(routes!(views::topics))
        .routes(routes!(views::orchestrate))
        .routes(routes!(ws::connect))
        .route_layer(from_fn_with_state(state, require_tenant));
    let public = OpenApiRouter::new()
        .routes(routes!(meta::health))
        .routes(routes!(meta::openapi))
        .routes(routes!(meta::metrics));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(protected)
        .merge(public)
        .split_for_parts()
}

/// Adds what every route shares: JSON 404/405, the body limit, panic
/// catching, request metrics (outermost, so it also counts caught panics).
fn finish(router: Router<AppState>, state: AppState, max_body_bytes: usize) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn_with_state(state.clone(), count_requests))
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_string())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A handler panicked: answer 500 in the usual shape, and log what happened.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    let body = crate::api::ErrorBody {
        error: "internal error".to_string(),
    };
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// Reads a cursor as the hub hands them out.
pub(crate) fn parse_cursor(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().ok().filter(|c| *c >= 0).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "invalid cursor `{text}`: use a cursor the hub returned, or 0 for the beginning"
        ))
    })
}

/// A JSON request body, read within the body limit (413 past it) and parsed so
/// that malformed JSON is a 400 and a wrong shape a 422 naming the field, e.g.
/// `observations[3].status: unknown variant ...`.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON, classifying errors as [`JsonBody`] describes.
///
/// Valid bodies, the common case, are parsed without tracking the path, which
/// costs a sync of a thousand observations noticeably; only a body that fails
/// is parsed again, with the path, to say where.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).or_else(|_| parse_json_explained(bytes))
}

/// Parses JSON that is known to fail, for an error naming the field.
fn parse_json_explained<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            Category::Data => ApiError::Unprocessable(field_message(&path, &inner)),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::BadRequest(format!("malformed JSON: {inner}"))
            }
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// `path: problem`, with serde's position suffix dropped (the path says where)
/// and a missing field named in the path rather than in the message.
fn field_message(path: &str, error: &serde_json::Error) -> String {
    let text = error.to_string();
    let problem = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    if let Some(field) = problem
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return match path {
            "." => format!("{field}: missing field"),
            _ => format!("{path}.{field}: missing field"),
        };
    }
    match path {
        "." => problem.to_string(),
        _ => format!("{path}: {problem}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SyncRequest;

    fn fails(body: &str) -> ApiError {
        parse_json::<SyncRequest>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_errors_name_the_field() {
        assert!(matches!(fails("{"), ApiError::BadRequest(_)));
        assert!(matches!(
            fails(r#"{"device_id": "d", "observations": []} x"#),
            ApiError::BadRequest(_)
        ));
        let e = fails(r#"{"observations": []}"#);
        assert_eq!(e.to_string(), "device_id: missing field");
        let e = fails(r#"{"device_id": "d", "observations": [{"id": 1}]}"#);
        assert!(matches!(e, ApiError::Unprocessable(_)));
        assert!(
            e.to_string()
                .starts_with("observations[0].id: invalid type"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_panic_becomes_a_json_500() {
        use axum::routing::get;
        use tower::ServiceExt;
        let (state, _dir) = crate::server::tests::state().await;
        let router: Router<AppState> = Router::new().route(
            "/boom",
            get(|| async {
                panic!("boom");
                #[allow(unreachable_code)]
                ""
            }),
        );
        let response = finish(router, state, 1024)
            .oneshot(
                Request::get("/boom")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], br#"{"error":"internal error"}"#);
    }
}
