//! Sign-in and roles for every request: who is asking (a session cookie or
//! an `Authorization: Bearer` API token), whether the route allows them
//! (`auth::policy`), and the session's CSRF token written into the forms
//! of the HTML answered to them.
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
use super::state::AppState;
use crate::auth::policy::{self, Access};
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

/// Identities by credential digest, for `IDENTITY_TTL`.
#[derive(Default)]
pub struct IdentityCache {
    entries: Mutex<HashMap<String, (Option<Identity>, Instant)>>,
}

impl IdentityCache {
    fn get(&self, digest: &str, now: Instant) -> Option<Option<Identity>> {
        let map = self.entries.lock().ok()?;
        map.get(digest)
            .filter(|(_, at)| now.duration_since(*at) < IDENTITY_TTL)
            .map(|(id, _)| id.clone())
    }

    fn put(&self, digest: String, identity: Option<Identity>, now: Instant) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_IDENTITIES {
                map.retain(|_, (_, at)| now.duration_since(*at) < IDENTITY_TTL);
                if map.len() >= MAX_IDENTITIES {
                    // A flood of made-up credentials: start again.
                    map.clear();
                }
            }
            map.insert(digest, (identity, now));
        }
    }

    /// Forgets every credential (a password changed in this process).
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }

    /// Forgets a credential now (sign-out in this process).
    pub fn forget(&self, digest: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(digest);
        }
    }
}

/// The credential a request carries.
enum Credential {
    Bearer(String),
    Cookie(String),
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
async fn identify(
    state: &web::Data<AppState>,
    cred: Credential,
) -> Result<Option<Identity>, WebError> {
    let (digest, text, bearer) = match cred {
        Credential::Bearer(t) => (secret::digest(&t), t, true),
        Credential::Cookie(t) => (secret::digest(&t), t, false),
    };
    let now = Instant::now();
    if let Some(hit) = state.identities.get(&digest, now) {
        return Ok(hit);
    }
    let pool = state.pool.clone();
    let found = web::block(move || -> Result<Option<Identity>, WebError> {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        let at = crate::db::ingest_runs::now();
        Ok(if bearer {
            sessions::from_api_token(&mut conn, &text, at)?
        } else {
            sessions::from_cookie(&mut conn, &text, at)?
        })
    })
    .await??;
    state.identities.put(digest, found.clone(), now);
    Ok(found)
}

/// Whether an anonymous request should be sent to the login form (a page
/// a browser asked for) rather than answered 401.
fn wants_login_form(req: &ServiceRequest) -> bool {
    req.method() == actix_web::http::Method::GET && !is_api(req)
}

/// Answered in JSON, for programs.
fn is_api(req: &ServiceRequest) -> bool {
    req.path().starts_with("/api/") || req.path() == "/metrics"
}

fn refuse(req: ServiceRequest, error: WebError) -> ServiceResponse<BoxBody> {
    let mut res = if is_api(&req) {
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

async fn audit_refusal(state: &AppState, identity: &Identity, what: String, needs: &str) {
    let detail = format!("role {} needs {needs}", identity.role.as_str());
    super::audit_or_warn(
        state,
        identity.name.clone(),
        "access.denied",
        what,
        crate::audit::REFUSED,
        detail,
    )
    .await;
}

pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(refuse(
            req,
            WebError::Internal("no application state".to_string()),
        ));
    };
    let access = policy::required(
        req.method().as_str(),
        req.path(),
        req.query_string(),
        state.metrics_public,
    );
    let identity = match credential(&req) {
        None => None,
        Some(cred) => {
            let bearer = matches!(cred, Credential::Bearer(_));
            match identify(&state, cred).await {
                Ok(Some(id)) => Some(id),
                Ok(None) if bearer && access != Access::Public => {
                    return Ok(refuse(
                        req,
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
                Err(e) => return Ok(refuse(req, e)),
            }
        }
    };
    if let Access::AtLeast(needed) = access {
        match &identity {
            None if wants_login_form(&req) => return Ok(login_redirect(req)),
            None => {
                return Ok(refuse(
                    req,
                    WebError::Unauthorized(
                        "Sign in first: this needs a session or an API token (Authorization: Bearer …)."
                            .to_string(),
                    ),
                ))
            }
            Some(id) if !id.may(needed) => {
                let what = format!("{} {}", req.method(), req.path());
                audit_refusal(&state, id, what, needed.as_str()).await;
                return Ok(refuse(
                    req,
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
    let csrf = identity
        .as_ref()
        .and_then(|id| id.csrf().map(str::to_string))
        .unwrap_or_default();
    if let Some(id) = identity {
        req.extensions_mut().insert(id);
    }
    let res = next.call(req).await?;
    fill_csrf_slot(res, &csrf).await
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
    let body = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains(CSRF_SLOT) => web::Bytes::from(text.replace(CSRF_SLOT, csrf)),
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

/// The client's address, for the sign-in rate limit: the first
/// `Forwarded`/`X-Forwarded-For` entry behind a proxy, else the peer.
pub fn client_address(req: &actix_web::HttpRequest) -> String {
    req.connection_info()
        .realip_remote_addr()
        .unwrap_or("unknown")
        .to_string()
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

/// A form post must come from this site (a cross-site form cannot import
/// into or change the database).
pub fn same_origin(req: &actix_web::HttpRequest) -> Result<(), WebError> {
    let host = req.connection_info().host().to_string();
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
            if origin_host.eq_ignore_ascii_case(&host) {
                Ok(())
            } else {
                Err(WebError::Forbidden(
                    "This form can only be sent from finops' own pages.".to_string(),
                ))
            }
        }
    }
}
