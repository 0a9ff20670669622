//! Sign-in and roles for every request. `enforce` runs on every route
//! after the router chose it (and on the answer for no route): it finds who
//! is asking (a session cookie or an `Authorization: Bearer` API token) and
//! asks `auth::policy` whether the route that will run allows them, so the
//! decision never depends on how the client spelled the path. `finish`
//! runs around everything: it writes the session's CSRF token into the
//! forms of an HTML answer and keeps signed-in answers out of caches.
//!
//! Anonymous requests for pages are sent to the login form; anonymous API,
//! export and form requests get 401. A signed-in user whose role is too
//! low gets 403, and the refusal is audited.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};

use super::errors::{ApiError, HtmlError, WebError};
use super::params::OutputFormat;
use super::state::AppState;
use crate::auth::policy::{self, Access, Rule};
use crate::auth::{secret, sessions, Identity};

/// The session cookie.
pub const SESSION_COOKIE: &str = "finops_session";

/// Written where a form's CSRF token goes; replaced per answer with the
/// session's token (pages are cached per user, the token is per session).
pub const CSRF_SLOT: &str = "\u{2063}csrf-slot\u{2063}";

/// How long a looked-up identity is reused before the database is asked
/// again: the longest a sign-out, removal or revocation made by another
/// process takes to apply.
pub const IDENTITY_TTL: Duration = Duration::from_secs(5);

/// Credentials remembered at most.
const MAX_IDENTITIES: usize = 10_000;

/// The credential a request carries. A token is only ever looked up as
/// what it was sent as: an API token in a cookie is not a session.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Credential {
    Bearer(String),
    Cookie(String),
}

impl Credential {
    /// The cache key: the kind and the digest, never the secret.
    fn cache_key(&self) -> String {
        match self {
            Credential::Bearer(t) => format!("bearer:{}", secret::digest(t)),
            Credential::Cookie(t) => cookie_key(&secret::digest(t)),
        }
    }
}

fn cookie_key(digest: &str) -> String {
    format!("cookie:{digest}")
}

/// Identities by credential kind and digest, for `IDENTITY_TTL`.
#[derive(Default)]
pub struct IdentityCache {
    entries: Mutex<HashMap<String, (Option<Identity>, Instant)>>,
}

impl IdentityCache {
    fn get(&self, key: &str, now: Instant) -> Option<Option<Identity>> {
        let map = self.entries.lock().ok()?;
        map.get(key)
            .filter(|(_, at)| now.duration_since(*at) < IDENTITY_TTL)
            .map(|(id, _)| id.clone())
    }

    fn put(&self, key: String, identity: Option<Identity>, now: Instant) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_IDENTITIES {
                map.retain(|_, (_, at)| now.duration_since(*at) < IDENTITY_TTL);
                if map.len() >= MAX_IDENTITIES {
                    // A flood of made-up credentials: start again.
                    map.clear();
                }
            }
            map.insert(key, (identity, now));
        }
    }

    /// Forgets every credential (a password changed in this process).
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }

    /// Forgets the session whose cookie has this digest (sign-out in this
    /// process).
    pub fn forget_session(&self, digest: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(&cookie_key(digest));
        }
    }
}

fn credential(req: &ServiceRequest) -> Option<Credential> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("");
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .unwrap_or("");
        return Some(Credential::Bearer(token.trim().to_string()));
    }
    req.cookie(SESSION_COOKIE)
        .map(|c| Credential::Cookie(c.value().to_string()))
}

/// Who the credential stands for (`None`: not valid), through the cache.
async fn identify(state: &AppState, cred: Credential) -> Result<Option<Identity>, WebError> {
    let key = cred.cache_key();
    let now = state.clock.instant();
    if let Some(hit) = state.identities.get(&key, now) {
        return Ok(hit);
    }
    let pool = state.pool.clone();
    let at = state.clock.now();
    let found = web::block(move || -> Result<Option<Identity>, WebError> {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        Ok(match &cred {
            Credential::Bearer(t) => sessions::from_api_token(&mut conn, t, at)?,
            Credential::Cookie(t) => sessions::from_cookie(&mut conn, t, at)?,
        })
    })
    .await??;
    state.identities.put(key, found.clone(), now);
    Ok(found)
}

fn refuse(req: ServiceRequest, pattern: Option<&str>, error: WebError) -> ServiceResponse<BoxBody> {
    let mut res = if policy::for_programs(pattern) {
        ApiError(error).error_response()
    } else {
        HtmlError(error).error_response()
    };
    if res.status() == actix_web::http::StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"finops\""),
        );
    }
    req.into_response(res)
}

/// Where the login form sends the browser after sign-in: this page.
fn login_redirect(req: ServiceRequest) -> ServiceResponse<BoxBody> {
    let target = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let location = format!(
        "/login?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &target)
            .finish()
    );
    let res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    req.into_response(res)
}

/// Records a refusal: one entry per person, route and window, counting
/// repeats (a script hammering a page is one line, not thousands).
async fn audit_refusal(state: &AppState, identity: &Identity, what: String, needs: &str) {
    let group = crate::audit::group_key(&["access.denied", &identity.name, &what]);
    let entry = crate::audit::NewAudit {
        actor: identity.name.clone(),
        action: "access.denied".to_string(),
        target: what,
        outcome: crate::audit::REFUSED.to_string(),
        detail: format!("role {} needs {needs}", identity.role.as_str()),
        group: Some(group),
    };
    super::audit_or_warn(state, entry).await;
}

/// What a route is called in the audit log: its pattern (the route that
/// ran, however the client spelled the path).
pub fn route_name(req: &actix_web::HttpRequest) -> String {
    req.match_pattern()
        .unwrap_or_else(|| "(no route)".to_string())
}

/// The access check of the route the router chose (wrapped around every
/// route and the answer for no route).
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let pattern = req.match_pattern();
    let pattern = pattern.as_deref();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(refuse(
            req,
            pattern,
            WebError::Internal("no application state".to_string()),
        ));
    };
    let rule = policy::rule(req.method().as_str(), pattern);
    // The one parse of `format` that the policy, the audit and the handler
    // all read.
    let csv = if rule == Rule::ExportAsCsv {
        match OutputFormat::of(req.query_string()) {
            Ok(format) => {
                req.extensions_mut().insert(format);
                format == OutputFormat::Csv
            }
            Err(message) => return Ok(refuse(req, pattern, WebError::BadRequest(message))),
        }
    } else {
        false
    };
    let client = super::client::of(req.request());
    let access = policy::required(rule, csv, state.metrics_access, client.is_local());
    let identity = match credential(&req) {
        None => None,
        Some(cred) => {
            let bearer = matches!(cred, Credential::Bearer(_));
            match identify(&state, cred).await {
                Ok(Some(id)) => Some(id),
                Ok(None) if bearer && access != Access::Public => {
                    return Ok(refuse(
                        req,
                        pattern,
                        WebError::Unauthorized(
                            "The API token is not valid: it was revoked or mistyped.".to_string(),
                        ),
                    ))
                }
                Ok(None) => None,
                Err(e) if access == Access::Public => {
                    tracing::warn!(error = %e, "could not check a credential on a public route");
                    None
                }
                Err(e) => return Ok(refuse(req, pattern, e)),
            }
        }
    };
    if let Access::AtLeast(needed) = access {
        match &identity {
            None if req.method() == actix_web::http::Method::GET
                && !policy::for_programs(pattern) =>
            {
                return Ok(login_redirect(req))
            }
            None => {
                return Ok(refuse(
                    req,
                    pattern,
                    WebError::Unauthorized(
                        "Sign in first: this needs a session or an API token (Authorization: Bearer …)."
                            .to_string(),
                    ),
                ))
            }
            Some(id) if !id.may(needed) => {
                let what = format!(
                    "{} {}",
                    req.method(),
                    pattern.unwrap_or("(no route)")
                );
                audit_refusal(&state, id, what, needed.as_str()).await;
                return Ok(refuse(
                    req,
                    pattern,
                    WebError::Forbidden(format!(
                        "You are signed in as {} ({}); this needs the {} role. Ask an admin if you need it.",
                        id.name,
                        id.role.as_str(),
                        needed.as_str()
                    )),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(id) = identity {
        req.extensions_mut().insert(id);
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Around every answer: the session's CSRF token in an HTML answer's
/// forms, and `Cache-Control: no-store` on whatever is not a static file
/// (signed-in pages and data must not stay in shared or browser caches).
pub async fn finish(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    // A change through this process (an import, an edit, a pull, or a
    // failed import, which alerts too): the alert loop looks at once
    // instead of at its next tick. Waking it costs a version check when
    // nothing changed, and wake-ups coalesce.
    let method = res.request().method();
    if method != actix_web::http::Method::GET && method != actix_web::http::Method::HEAD {
        if let Some(state) = res
            .request()
            .app_data::<actix_web::web::Data<super::state::AppState>>()
        {
            state.alert_wakeup.notify_one();
        }
    }
    let static_file = res.request().match_pattern().as_deref() == Some("/static/{name}");
    if !static_file && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    let csrf = res
        .request()
        .extensions()
        .get::<Identity>()
        .and_then(|id| id.csrf().map(str::to_string))
        .unwrap_or_default();
    fill_csrf_slot(res, &csrf).await
}

/// The exact text a template writes for a form's CSRF field. Only this is
/// filled: imported text shown on a page is escaped (its quotes become
/// `&quot;`), so it can never spell it, and a bare slot elsewhere stays
/// empty.
fn csrf_field(value: &str) -> String {
    format!("name=\"csrf\" value=\"{value}\"")
}

/// Writes the session's CSRF token into an HTML answer's forms.
async fn fill_csrf_slot(
    res: ServiceResponse<impl MessageBody + 'static>,
    csrf: &str,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into().to_string()))?;
    let slot = csrf_field(CSRF_SLOT);
    let body = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains(&slot) => {
            web::Bytes::from(text.replace(&slot, &csrf_field(csrf)))
        }
        _ => bytes,
    };
    let mut res = res.set_body(BoxBody::new(body));
    res.headers_mut().remove(header::CONTENT_LENGTH);
    Ok(ServiceResponse::new(req, res))
}

/// The identity the guard found for this request.
pub fn identity_of(req: &actix_web::HttpRequest) -> Option<Identity> {
    req.extensions().get::<Identity>().cloned()
}

/// Checks a form's CSRF token against the session's (API tokens carry
/// none and need none: they are not sent by browsers on their own).
pub fn check_csrf(req: &actix_web::HttpRequest, sent: Option<&str>) -> Result<(), WebError> {
    let Some(identity) = identity_of(req) else {
        return Err(WebError::Unauthorized("Sign in first.".to_string()));
    };
    match identity.csrf() {
        None => Ok(()),
        Some(expected) if sent.is_some_and(|s| secret::same(s, expected)) => Ok(()),
        Some(_) => Err(WebError::Forbidden(
            "The form's security token is missing or out of date (were you signed out?). Reload the page and send it again."
                .to_string(),
        )),
    }
}

/// A field of a URL-encoded form body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// What every URL-encoded form post must pass: it comes from this site and
/// carries the session's CSRF token.
pub fn check_form(req: &actix_web::HttpRequest, body: &[u8]) -> Result<(), WebError> {
    same_origin(req)?;
    check_csrf(req, form_field(body, "csrf").as_deref())
}

/// Who sent a form that only the signed-in may send, once its origin and
/// CSRF token are checked; `anonymous` is the answer to anyone else.
pub fn form_sender(
    req: &actix_web::HttpRequest,
    body: &[u8],
    anonymous: &str,
) -> Result<Identity, WebError> {
    check_form(req, body)?;
    identity_of(req).ok_or_else(|| WebError::Unauthorized(anonymous.to_string()))
}

/// A form post must come from this site (a cross-site form cannot import
/// into or change the database).
pub fn same_origin(req: &actix_web::HttpRequest) -> Result<(), WebError> {
    let host = super::client::of(req).host;
    let origin = req
        .headers()
        .get("origin")
        .or_else(|| req.headers().get("referer"))
        .and_then(|v| v.to_str().ok());
    match origin {
        None => Ok(()),
        Some(o) => {
            let rest = o.split_once("://").map(|(_, r)| r).unwrap_or(o);
            let origin_host = rest.split('/').next().unwrap_or("");
            if !host.is_empty() && origin_host.eq_ignore_ascii_case(&host) {
                Ok(())
            } else {
                Err(WebError::Forbidden(
                    "This form can only be sent from finops' own pages.".to_string(),
                ))
            }
        }
    }
}
