//! HTML pages. Handlers parse parameters, run a report in the blocking
//! pool and render a template; the logic lives in `crate::report`.

pub mod alerts;
pub mod anomalies;
pub mod budgets;
pub mod calendar;
pub mod capacity;
pub mod explorer;
pub mod forecast;
pub mod month;
pub mod overview;
pub mod recommendations;
pub mod rules;
pub mod scenarios;
pub mod sources;
pub mod unallocated;
pub mod warm;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::db::DbConnection;
use crate::dims::{self, Platform, UNALLOCATED};
use crate::report::Catalog;
use crate::web::errors::{HtmlError, WebError};
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::{ChangeView, Viewer};
use crate::web::{answer, cache_key, Payload};

/// What a page's `build` gets: a connection, the dimension catalog, the
/// request's parameters (already checked against the page's list) and who
/// is looking (their role decides which actions the page offers).
pub struct Page<'a> {
    pub conn: &'a mut DbConnection,
    pub catalog: &'a Catalog,
    pub params: &'a Params,
    pub viewer: &'a Viewer,
    /// Results shared by every user at this data version.
    pub shared: &'a crate::web::shared::Shared,
}

/// Who is looking at the page this request asks for.
pub fn viewer(req: &HttpRequest, state: &AppState) -> Viewer {
    Viewer::new(
        &state.database_label,
        crate::web::guard::identity_of(req).as_ref(),
    )
}

/// Answers a page request through the cache: refuses parameters the page
/// does not know (`known`), then builds it in the blocking pool. Errors
/// come as `E`: an HTML page (`HtmlError`) or the API's JSON (`ApiError`).
pub async fn render<B, E>(
    req: HttpRequest,
    state: web::Data<AppState>,
    known: &'static [&'static str],
    build: B,
) -> Result<HttpResponse, E>
where
    B: FnOnce(Page<'_>) -> Result<Payload, WebError> + Send + 'static,
    E: From<WebError>,
{
    let params = Params::parse(req.query_string());
    let viewer = viewer(&req, &state);
    answer(
        state.into_inner(),
        cache_key(&req),
        move |conn, catalog, shared| {
            params.allow_only(known).map_err(WebError::BadRequest)?;
            build(Page {
                conn,
                catalog,
                params: &params,
                viewer: &viewer,
                shared,
            })
        },
    )
    .await
    .map_err(E::from)
}

/// As `render`, never from the response cache: for pages whose content
/// changes without the data version moving (alerts and their deliveries).
pub async fn render_uncached<B>(
    req: HttpRequest,
    state: web::Data<AppState>,
    known: &'static [&'static str],
    build: B,
) -> Result<HttpResponse, HtmlError>
where
    B: FnOnce(Page<'_>) -> Result<Payload, WebError> + Send + 'static,
{
    let params = Params::parse(req.query_string());
    let viewer = viewer(&req, &state);
    let state = state.into_inner();
    let payload = web::block(move || -> Result<Payload, WebError> {
        params.allow_only(known).map_err(WebError::BadRequest)?;
        let mut conn = state.pool.get().map_err(crate::db::DbError::from)?;
        let version = crate::db::ingest_runs::data_version(&mut conn)?;
        let catalog = state.catalog(&mut conn, version)?;
        build(Page {
            conn: &mut conn,
            catalog: &catalog,
            params: &params,
            viewer: &viewer,
            shared: &state.results.at(version),
        })
    })
    .await
    .map_err(|e| HtmlError(WebError::Internal(e.to_string())))?
    .map_err(HtmlError)?;
    Ok(payload.respond())
}

/// What a form post's work decided: where to send the browser (303), or
/// why the form was refused, shown on the page again (422).
pub enum FormOutcome {
    Saved(String),
    Refused(String),
}

/// Handles a form post: checks the origin, the CSRF token and the size,
/// runs `work` in the blocking pool as the signed-in user; on `Refused`,
/// `rerender` rebuilds the page (with no query parameters) with the
/// message and the entered values. A
/// saved change empties the cache.
pub async fn post_form<W, R>(
    req: &HttpRequest,
    state: web::Data<AppState>,
    body: &[u8],
    max_len: usize,
    work: W,
    rerender: R,
) -> Result<HttpResponse, HtmlError>
where
    W: FnOnce(&mut DbConnection) -> Result<FormOutcome, WebError> + Send + 'static,
    R: FnOnce(Page<'_>, String) -> Result<Payload, WebError> + Send + 'static,
{
    if body.len() > max_len {
        return Err(HtmlError(WebError::TooLarge(
            "The form is too large.".to_string(),
        )));
    }
    crate::web::guard::check_form(req, body).map_err(HtmlError)?;
    let viewer = viewer(req, &state);
    let actor = viewer.user.clone();
    let state = state.into_inner();
    let outcome = web::block(move || -> Result<Result<String, Payload>, WebError> {
        let _acting = crate::audit::Actor::enter(&actor);
        let mut conn = state.pool.get().map_err(crate::db::DbError::from)?;
        match work(&mut conn)? {
            FormOutcome::Saved(location) => {
                state.cache.invalidate();
                Ok(Ok(location))
            }
            FormOutcome::Refused(message) => {
                let version = crate::db::ingest_runs::data_version(&mut conn)?;
                let catalog = state.catalog(&mut conn, version)?;
                let page = Page {
                    conn: &mut conn,
                    catalog: &catalog,
                    params: &Params::parse(""),
                    viewer: &viewer,
                    shared: &state.results.at(version),
                };
                Ok(Err(rerender(page, message)?))
            }
        }
    })
    .await
    .map_err(|e| HtmlError(WebError::Internal(e.to_string())))?
    .map_err(HtmlError)?;
    Ok(match outcome {
        Ok(location) => HttpResponse::SeeOther()
            .insert_header(("Location", location))
            .finish(),
        Err(page) => HttpResponse::UnprocessableEntity()
            .content_type(page.content_type)
            .body(page.body),
    })
}

/// A checkbox in a filter form.
pub struct CheckOption {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// The six platforms plus `unallocated` (when present), checked if chosen.
pub fn platform_options(catalog: &Catalog, chosen: &[String]) -> Vec<CheckOption> {
    let mut values: Vec<String> = Platform::ALL
        .iter()
        .map(|p| p.as_str().to_string())
        .collect();
    for p in &catalog.platforms {
        if !values.contains(p) {
            values.push(p.clone());
        }
    }
    if !values.iter().any(|v| v == UNALLOCATED) {
        values.push(UNALLOCATED.to_string());
    }
    values.sort_by_key(|v| dims::platform_order(v));
    values
        .into_iter()
        .map(|v| CheckOption {
            checked: chosen.contains(&v),
            label: v.clone(),
            value: v,
        })
        .collect()
}

/// Checkboxes for free-text dimension values.
pub fn value_options(
    values: &[String],
    chosen: &[String],
    label: impl Fn(&str) -> String,
) -> Vec<CheckOption> {
    values
        .iter()
        .map(|v| CheckOption {
            value: v.clone(),
            label: label(v),
            checked: chosen.contains(v),
        })
        .collect()
}

/// One line of a breakdown table.
pub struct LineView {
    pub key: String,
    pub label: String,
    pub href: String,
    pub billed: String,
    pub effective: String,
    pub share: String,
    pub change: ChangeView,
}

/// A key figure at the top of a page.
pub struct Tile {
    pub id: &'static str,
    pub label: String,
    pub value: String,
    pub note: String,
    pub note_class: &'static str,
}
