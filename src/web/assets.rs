//! Static files, built into the binary so the service runs from any
//! directory and loads nothing from elsewhere.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::errors::{HtmlError, WebError};

/// Appended to asset links so browsers refetch when a file changes: a
/// digest (FNV-1a) of the files built in.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (_, _, body) in FILES {
            for b in body.bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{:012x}", h >> 16)
    })
}

const FILES: [(&str, &str, &str); 3] = [
    (
        "finops.css",
        "text/css; charset=utf-8",
        include_str!("../../static/finops.css"),
    ),
    (
        "sort.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/sort.js"),
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
