//! The web service: HTML pages, the JSON API, the CSV export and health
//! endpoints. Handlers are thin; reports live in `crate::report`.

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod cache;
pub mod client;
pub mod errors;
pub mod export;
pub mod guard;
pub mod health;
pub mod observe;
pub mod pages;
pub mod params;
pub mod routes;
pub mod shared;
pub mod signin;
pub mod startup;
pub mod state;
pub mod views;

use actix_web::{web, HttpRequest};

use crate::db::{self, DbError};
use errors::WebError;
pub use startup::{Application, StartError};
use state::AppState;

/// A response body built in the blocking pool (an `HttpResponse` cannot
/// cross threads) and kept in the cache; `respond` turns it into the answer.
#[derive(Clone, Debug)]
pub struct Payload {
    pub content_type: &'static str,
    /// Offered as a download under this name.
    pub file_name: Option<String>,
    pub body: web::Bytes,
}

impl Payload {
    pub fn json<T: serde::Serialize>(value: &T) -> Result<Payload, WebError> {
        let body = serde_json::to_vec(value)
            .map_err(|e| WebError::Internal(format!("JSON encoding failed: {e}")))?;
        Ok(Payload {
            content_type: "application/json",
            file_name: None,
            body: body.into(),
        })
    }

    pub fn html(body: String) -> Payload {
        Payload {
            content_type: "text/html; charset=utf-8",
            file_name: None,
            body: body.into(),
        }
    }

    pub fn csv(file_name: String, body: Vec<u8>) -> Payload {
        Payload {
            content_type: "text/csv; charset=utf-8",
            file_name: Some(file_name),
            body: body.into(),
        }
    }

    pub fn respond(self) -> actix_web::HttpResponse {
        let mut r = actix_web::HttpResponse::Ok();
        r.content_type(self.content_type);
        if let Some(name) = self.file_name {
            r.insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ));
            r.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
        }
        r.body(self.body)
    }
}

/// Answers a GET from the cache, or builds it in the blocking pool with a
/// connection and the catalog, caches it and answers. Every page, API and
/// export handler goes through here.
pub async fn answer<F>(
    state: std::sync::Arc<AppState>,
    key: String,
    build: F,
) -> Result<actix_web::HttpResponse, WebError>
where
    F: FnOnce(
            &mut db::DbConnection,
            &crate::report::Catalog,
            &shared::Shared,
        ) -> Result<Payload, WebError>
        + Send
        + 'static,
{
    if let Some(hit) = state.cache.get_fresh(&key) {
        return Ok(hit.respond());
    }
    let payload = web::block(move || -> Result<Payload, WebError> {
        let mut conn = state.pool.get().map_err(DbError::from)?;
        let version = db::ingest_runs::data_version(&mut conn)?;
        state.cache.confirm_version(version);
        if let Some(hit) = state.cache.get(&key) {
            return Ok(hit);
        }
        let catalog = state.catalog(&mut conn, version)?;
        let shared = state.results.at(version);
        let payload = build(&mut conn, &catalog, &shared)?;
        state.cache.put(key, version, payload.clone());
        Ok(payload)
    })
    .await??;
    Ok(payload.respond())
}

/// The cache key of a request: who asks (pages show their name and the
/// actions their role allows), the path as the router read it (however the
/// client spelled it) and the query string.
pub fn cache_key(req: &HttpRequest) -> String {
    let who = guard::identity_of(req)
        .map(|i| format!("{}|{}|{}", i.name, i.role.as_str(), i.csrf().is_some()))
        .unwrap_or_default();
    format!("{who}#{}?{}", req.match_info().as_str(), req.query_string())
}

/// Writes one audit log entry from a handler (in the blocking pool).
pub async fn audit(state: &AppState, entry: crate::audit::NewAudit) -> Result<(), WebError> {
    let pool = state.pool.clone();
    web::block(move || -> Result<(), WebError> {
        let mut conn = pool.get().map_err(DbError::from)?;
        crate::audit::record_entry(&mut conn, &entry)?;
        Ok(())
    })
    .await?
}

/// As `audit`, for entries that must not fail the request they describe
/// (sign-ins, refusals): a failure to write is logged.
pub async fn audit_or_warn(state: &AppState, entry: crate::audit::NewAudit) {
    let action = entry.action.clone();
    if let Err(e) = audit(state, entry).await {
        tracing::warn!(action, error = %e, "could not write the audit log");
    }
}

/// Records that the signed-in user downloaded an export (`what`: the
/// file); an export that cannot be audited is not answered.
pub async fn audit_export(
    state: &AppState,
    req: &HttpRequest,
    what: String,
) -> Result<(), WebError> {
    let actor = guard::identity_of(req)
        .map(|i| i.name)
        .unwrap_or_else(|| "anonymous".to_string());
    let entry = crate::audit::NewAudit {
        actor,
        action: "export".to_string(),
        target: what,
        outcome: crate::audit::OK.to_string(),
        detail: format!("{}?{}", guard::route_name(req), req.query_string()),
        group: None,
    };
    audit(state, entry).await
}
