//! Static files, built into the binary so the service runs from any
//! directory and loads nothing from elsewhere.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::errors::{HtmlError, WebError};

/// Appended to asset links so browsers refetch after an upgrade.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const FILES: [(&str, &str, &str); 2] = [
    (
        "finops.css",
        "text/css; charset=utf-8",
        include_str!("../../static/finops.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/favicon.svg"),
    ),
];

pub async fn static_file(name: web::Path<String>) -> Result<HttpResponse, HtmlError> {
    let name = name.into_inner();
    let (_, content_type, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| WebError::NotFound(format!("no static file '{name}'")))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(*body))
}
