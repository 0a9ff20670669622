//! `GET /admin`: users, API tokens and the audit log (admins only; the
//! guard enforces it). Users and tokens are managed with `finops user` and
//! `finops token`; this page shows who has access and what they did.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::errors::{HtmlError, WebError};
use super::pages::viewer;
use super::params::Params;
use super::state::AppState;
use super::views::{query_string, Layout};
use super::Payload;
use crate::db::audit::{self, AuditFilter};
use crate::db::{api_tokens, users};

/// Audit entries per page.
pub const PAGE_SIZE: i64 = 100;

struct UserRow {
    name: String,
    role: String,
    since: String,
}

struct TokenRow {
    name: String,
    role: String,
    created: String,
    last_used: String,
}

struct EntryRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    entries: Vec<EntryRow>,
    actions: Vec<(String, bool)>,
    actor: String,
    older: Option<String>,
    newest: Option<String>,
}

/// The audit filter a query string asks for.
pub fn filter_of(params: &Params) -> Result<AuditFilter, String> {
    params.allow_only(&["action", "actor", "before"])?;
    let text = |name: &str| -> Result<Option<String>, String> {
        match params.one(name)? {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) if v.len() > 100 || v.chars().any(char::is_control) => Err(format!(
                "parameter '{name}' is too long or holds control characters"
            )),
            Some(v) => Ok(Some(v.trim().to_string())),
        }
    };
    let before = match params.one("before")? {
        None | Some("") => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("parameter 'before' must be an entry number, not '{v}'"))?,
        ),
    };
    Ok(AuditFilter {
        action: text("action")?,
        actor: text("actor")?,
        before,
        limit: PAGE_SIZE,
    })
}

fn stamp(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let params = Params::parse(req.query_string());
    let filter = filter_of(&params).map_err(|e| HtmlError(WebError::BadRequest(e)))?;
    let viewer = viewer(&req, &state);
    let state = state.into_inner();
    // Not through the response cache: the audit log changes without the
    // data version moving.
    let payload = web::block(move || -> Result<Payload, WebError> {
        let mut conn = state.pool.get().map_err(crate::db::DbError::from)?;
        let conn = &mut conn;
        let version = crate::db::ingest_runs::data_version(conn)?;
        let catalog = &state.catalog(conn, version)?;
        let entries = audit::list(conn, &filter)?;
        let link = |before: Option<i64>| {
            let q = query_string(&[
                ("action", filter.action.clone().unwrap_or_default()),
                ("actor", filter.actor.clone().unwrap_or_default()),
                ("before", before.map(|b| b.to_string()).unwrap_or_default()),
            ]);
            if q.is_empty() {
                "/admin#audit".to_string()
            } else {
                format!("/admin?{q}#audit")
            }
        };
        let older = (entries.len() as i64 == PAGE_SIZE)
            .then(|| entries.last().map(|e| link(Some(e.id))))
            .flatten();
        let newest = filter.before.map(|_| link(None));
        let chosen = filter.action.clone().unwrap_or_default();
        let page = AdminPage {
            layout: Layout::new("Admin", "admin", catalog, &viewer),
            users: users::all(conn)?
                .into_iter()
                .map(|u| UserRow {
                    since: u.created_at.date().to_string(),
                    name: u.username,
                    role: u.role,
                })
                .collect(),
            tokens: api_tokens::all(conn)?
                .into_iter()
                .map(|t| TokenRow {
                    created: format!("{} by {}", t.created_at.date(), t.created_by),
                    last_used: t.last_used_at.map(stamp).unwrap_or_else(|| "never".into()),
                    name: t.name,
                    role: t.role,
                })
                .collect(),
            entries: entries
                .into_iter()
                .map(|e| EntryRow {
                    detail: e.detail_with_repeats(),
                    id: e.id,
                    at: stamp(e.at),
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    outcome: e.outcome,
                })
                .collect(),
            actions: audit::actions(conn)?
                .into_iter()
                .map(|a| {
                    let selected = a == chosen;
                    (a, selected)
                })
                .collect(),
            actor: filter.actor.clone().unwrap_or_default(),
            older,
            newest,
        };
        Ok(Payload::html(page.render()?))
    })
    .await
    .map_err(|e| HtmlError(WebError::from(e)))?
    .map_err(HtmlError)?;
    let mut res = payload.respond();
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_audit_filter_and_refuses_junk() {
        let f = filter_of(&Params::parse("action=import&actor=ana&before=40")).unwrap();
        assert_eq!(f.action.as_deref(), Some("import"));
        assert_eq!(f.actor.as_deref(), Some("ana"));
        assert_eq!(f.before, Some(40));
        let f = filter_of(&Params::parse("action=&actor=")).unwrap();
        assert!(f.action.is_none() && f.actor.is_none() && f.before.is_none());
        for bad in ["before=-1", "before=x", "page=2", "action=a&action=b"] {
            assert!(filter_of(&Params::parse(bad)).is_err(), "{bad}");
        }
    }
}
