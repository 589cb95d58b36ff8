//! The one error type of the HTTP layer. Every failure becomes a status plus
//! `{"error": {"code", "message", "field"?}}`; causes of 5xx answers are logged, never sent.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wait_store::StoreError;

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    field: Option<Cow<'static, str>>,
    cause: Option<Cause>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            cause: None,
        }
    }

    /// Name the request field the error is about.
    pub fn with_field(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422: the request is well-formed but a value is not acceptable.
    pub fn invalid(
        field: &'static str,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
    }

    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        )
    }

    /// 500 with a generic message; `cause` is only logged.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        );
        e.cause = Some(cause.into());
        e
    }

    /// 503 with a generic message; `cause` is only logged.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "service temporarily unavailable",
        );
        e.cause = Some(cause.into());
        e
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

/// Log a cause with its whole source chain.
fn log_cause(status: StatusCode, code: &str, cause: &(dyn std::error::Error + 'static)) {
    let mut chain = cause.to_string();
    let mut next = cause.source();
    while let Some(source) = next {
        chain.push_str(": ");
        chain.push_str(&source.to_string());
        next = source.source();
    }
    tracing::error!(status = status.as_u16(), code, error = %chain, "request failed");
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            log_cause(self.status, self.code, cause.as_ref());
        } else if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                code = self.code,
                "request failed"
            );
        }
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => ApiError::not_found(format!("{what} not found")),
            StoreError::Conflict(message) => ApiError::conflict(message),
            StoreError::Invalid { field, message } => {
                ApiError::invalid(field, "invalid_value", format!("{field}: {message}"))
            }
            StoreError::LeaseLost { .. } => {
                ApiError::conflict("the job changed hands; reload and try again")
            }
            other => ApiError::internal(other),
        }
    }
}
