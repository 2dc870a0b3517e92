//! Errors as clients see them: always a JSON body `{"error": "…"}` with the
//! status that says whose fault it was, and never a database detail (those go
//! to the log).

use crate::api::ErrorBody;
use crate::store::StoreError;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 400: the request cannot be read at all (malformed JSON, a bad cursor).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or one that is unknown or revoked.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 404: no such route.
    #[error("no route for {0}")]
    NotFound(String),
    /// 405: the route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body is larger than the hub accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: well-formed JSON of the wrong shape; the message names the field.
    #[error("{0}")]
    Unprocessable(String),
    /// 409: a view that needs the text of todos the tenant encrypted end to
    /// end (docs/ENCRYPTION.md): the hub cannot read them.
    #[error(
        "this tenant's todos are encrypted end to end: the hub cannot read their projects or \
         content, so it cannot show this view; read it on a device that has the key \
         (`chittysync todos`, `chittysync projects`, `chittysync ui`)"
    )]
    Encrypted,
    /// 500: our fault; details are logged, not shown.
    #[error("internal error")]
    Internal(#[from] StoreError),
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Encrypted => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("request body is larger than the hub accepts".into())
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::Unprocessable(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self {
            tracing::error!(%error, "request failed");
        }
        let status = self.status();
        let body = Json(ErrorBody {
            error: self.to_string(),
        });
        if status == StatusCode::UNAUTHORIZED {
            (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response()
        } else {
            (status, body).into_response()
        }
    }
}
