//! Every request gets an id (the caller's `X-Request-Id` when it is a
//! sane token, else a new one), answered in the `X-Request-Id` header and
//! carried by the request's tracing span; its latency goes to the metrics
//! by route pattern; one log line says what was answered and to whom.
//! Query strings, cookies and tokens are not logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use tracing::Instrument;

use super::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// A caller's request id is kept when it is 1–64 characters of letters,
/// digits, `-`, `_` and `.`; anything else is replaced.
pub fn acceptable_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A new id: the process start time and a counter, unique per process.
fn new_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
    });
    format!(
        "{:x}-{:06x}",
        start & 0xffff_ffff_ffff,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_id(v))
        .map(str::to_string)
        .unwrap_or_else(new_id);
    let method = req.method().to_string();
    let path = req.path().to_string();
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %method,
        route = tracing::field::Empty
    );
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    // The route the router chose (known once it has run), however the
    // client spelled the path.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    span.record("route", route.as_str());
    let quiet = route == "/healthz" || route == "/readyz" || route == "/metrics";
    crate::metrics::request(&route, &method, status, seconds);
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    if !quiet || status >= 500 {
        let user = res
            .request()
            .extensions()
            .get::<crate::auth::Identity>()
            .map(|i| i.name.clone())
            .unwrap_or_else(|| "-".to_string());
        span.in_scope(|| {
            tracing::info!(
                path = %path,
                user = %user,
                status,
                ms = (seconds * 1000.0).round() as u64,
                "answered"
            )
        });
    }
    Ok(res)
}

/// `GET /metrics`: the Prometheus text format; 404 when turned off.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if !state.metrics {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("metrics are turned off (metrics = false)\n");
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_only_when_sane() {
        assert!(acceptable_id("abc-123_x.y"));
        assert!(!acceptable_id(""));
        assert!(!acceptable_id(&"a".repeat(65)));
        assert!(!acceptable_id("a b"));
        assert!(!acceptable_id("a\r\nSet-Cookie: x"));
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(acceptable_id(&a));
    }
}
