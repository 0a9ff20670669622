//! Errors the web layer answers with: an HTML page for browsers, a JSON
//! body `{ "error": { "code", "message" } }` for the API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::db::DbError;
use crate::report::ReportError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            WebError::BadRequest(_) => "bad_request",
            WebError::NotFound(_) => "not_found",
            WebError::Unauthorized(_) => "unauthorized",
            WebError::TooManyRequests(_) => "too_many_requests",
            WebError::Forbidden(_) => "forbidden",
            WebError::TooLarge(_) => "too_large",
            WebError::Unavailable(_) => "unavailable",
            WebError::Internal(_) => "internal",
        }
    }
}

fn is_connection_failure(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            m.contains("database is locked")
                || m.contains("connection")
                || m.contains("terminating")
        }
        _ => false,
    }
}

impl From<DbError> for WebError {
    fn from(e: DbError) -> WebError {
        match &e {
            DbError::Pool(_) | DbError::Connect(_) => {
                tracing::warn!(error = %e, "database unavailable");
                WebError::Unavailable(format!(
                    "The database is unavailable: {e}. Try again shortly."
                ))
            }
            DbError::Query(q) if is_connection_failure(q) => {
                tracing::warn!(error = %e, "database unavailable");
                WebError::Unavailable("The database is unavailable. Try again shortly.".to_string())
            }
            _ => {
                tracing::error!(error = %e, "database error");
                WebError::Internal(
                    "The database could not answer this request; the error is logged.".to_string(),
                )
            }
        }
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> WebError {
        DbError::from(e).into()
    }
}

impl From<ReportError> for WebError {
    fn from(e: ReportError) -> WebError {
        match e {
            ReportError::BadInput(m) => WebError::BadRequest(m),
            ReportError::Db(d) => d.into(),
        }
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(e: actix_web::error::BlockingError) -> WebError {
        tracing::error!(error = %e, "blocking task failed");
        WebError::Internal("The request could not be completed; the error is logged.".to_string())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> WebError {
        tracing::error!(error = %e, "template rendering failed");
        WebError::Internal("The page could not be rendered; the error is logged.".to_string())
    }
}

/// An error answered as an HTML page.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct HtmlError(#[from] pub WebError);

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: super::views::Layout,
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl ResponseError for HtmlError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.0.status();
        let message = self.0.to_string();
        let page = ErrorPage {
            layout: super::views::Layout::plain(status.canonical_reason().unwrap_or("Error")),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: &message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("<!doctype html><title>Error</title><p>{status}</p>"));
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// An error answered as JSON.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub WebError);

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.0.status()).json(serde_json::json!({
            "error": { "code": self.0.code(), "message": self.0.to_string() }
        }))
    }
}

macro_rules! into_wrapped {
    ($wrapper:ident, $($from:ty),*) => {
        $(impl From<$from> for $wrapper {
            fn from(e: $from) -> $wrapper {
                $wrapper(WebError::from(e))
            }
        })*
    };
}

into_wrapped!(
    HtmlError,
    DbError,
    ReportError,
    actix_web::error::BlockingError,
    askama::Error
);
into_wrapped!(
    ApiError,
    DbError,
    ReportError,
    actix_web::error::BlockingError
);
