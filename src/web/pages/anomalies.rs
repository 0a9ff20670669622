//! `GET /anomalies`: the cost anomalies found (largest impact first), each
//! with expected against actual, the planned event it happened in and the
//! lines that explain it; analysts mark each yes, no or planned (`POST
//! /anomalies/feedback`) and run detection again (`POST /anomalies/detect`).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDate};

use super::FormOutcome;
use crate::anomaly::run::{self, RunOptions};
use crate::anomaly::Feedback;
use crate::db::anomalies::Anomaly;
use crate::money::Micros;
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::state::AppState;
use crate::web::views::{short_date, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 4] = ["from", "to", "saved", "detected"];

struct Row {
    id: i64,
    dates: String,
    days: i64,
    scope: String,
    actual: String,
    expected: String,
    impact: String,
    percent: String,
    why: &'static str,
    event: String,
    lines: Vec<String>,
    feedback: String,
}

fn row(a: &Anomaly) -> Row {
    let c = &a.currency;
    let days = (a.end_day - a.start_day).num_days() + 1;
    Row {
        id: a.id,
        dates: if days == 1 {
            short_date(a.start_day)
        } else {
            format!("{} – {}", short_date(a.start_day), short_date(a.end_day))
        },
        days,
        scope: a.scope_label(),
        actual: Micros(a.actual_micros).display(c),
        expected: Micros(a.expected_micros).display(c),
        impact: a.impact().display(c),
        percent: Micros(a.impact_micros)
            .percent_of(Micros(a.expected_micros))
            .map(|p| format!("+{p:.0} %"))
            .unwrap_or_default(),
        why: match a.why.as_str() {
            "leak" => "slow rise over weeks",
            _ => "above the expected range",
        },
        event: a.event.clone(),
        lines: a.explanation_lines(),
        feedback: a.feedback.clone(),
    }
}

#[derive(Template)]
#[template(path = "anomalies.html")]
struct AnomaliesPage {
    layout: Layout,
    from: String,
    to: String,
    rows: Vec<Row>,
    total_impact: String,
    open: usize,
    notice: Option<String>,
    error: Option<String>,
}

fn day_param(page: &Page, name: &str) -> Result<Option<NaiveDate>, WebError> {
    page.params
        .one(name)
        .map_err(WebError::BadRequest)?
        .map(|v| {
            crate::report::period::parse_date(v)
                .map_err(|e| WebError::BadRequest(format!("{name}: {e}")))
        })
        .transpose()
}

fn build(page: Page, error: Option<String>) -> Result<Payload, WebError> {
    let last = page.catalog.last_day.unwrap_or_else(crate::clock::today);
    let to = day_param(&page, "to")?.unwrap_or(last);
    let from = day_param(&page, "from")?.unwrap_or(last - Duration::days(run::DEFAULT_DAYS - 1));
    if to < from {
        return Err(WebError::BadRequest(format!(
            "to ({to}) is before from ({from})"
        )));
    }
    let found = run::list(page.conn, from, to).map_err(anomaly_error)?;
    let notice = if page
        .params
        .one("saved")
        .map_err(WebError::BadRequest)?
        .is_some()
    {
        Some("Feedback saved; detection uses it from now on.".to_string())
    } else {
        page.params
            .one("detected")
            .map_err(WebError::BadRequest)?
            .map(|n| format!("Detection ran: {n} anomalies stored."))
    };
    let currency = found
        .first()
        .map(|a| a.currency.clone())
        .unwrap_or_default();
    let total: i64 = found
        .iter()
        .filter(|a| a.service != crate::db::budgets::ALL && a.feedback.is_empty())
        .map(|a| a.impact_micros)
        .sum();
    let p = AnomaliesPage {
        layout: Layout::new("Anomalies", "anomalies", page.catalog, page.viewer),
        from: from.to_string(),
        to: to.to_string(),
        open: found.iter().filter(|a| a.feedback.is_empty()).count(),
        total_impact: Micros(total).display(if currency.is_empty() {
            "USD"
        } else {
            &currency
        }),
        rows: found.iter().map(row).collect(),
        notice,
        error,
    };
    Ok(Payload::html(p.render()?))
}

fn anomaly_error(e: run::AnomalyError) -> WebError {
    match e {
        run::AnomalyError::Db(d) => d.into(),
        run::AnomalyError::BadInput(m) => WebError::BadRequest(m),
    }
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, |page| build(page, None)).await
}

pub async fn feedback(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let mut id = None;
    let mut verdict = None;
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "id" => id = v.trim().parse::<i64>().ok(),
            "verdict" => verdict = Feedback::parse(&v),
            _ => {}
        }
    }
    let (Some(id), Some(verdict)) = (id, verdict) else {
        return Err(HtmlError(WebError::BadRequest(
            "Which anomaly and what verdict? (id and verdict yes, no or planned)".to_string(),
        )));
    };
    let by = super::viewer(&req, &state).user;
    super::post_form(
        &req,
        state,
        &body,
        4 * 1024,
        move |conn| {
            run::feedback(conn, id, verdict, &by).map_err(|e| match e {
                run::AnomalyError::BadInput(m) => WebError::NotFound(m),
                other => anomaly_error(other),
            })?;
            Ok(FormOutcome::Saved("/anomalies?saved=1".to_string()))
        },
        |page, message| build(page, Some(message)),
    )
    .await
}

pub async fn detect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    super::post_form(
        &req,
        state,
        &body,
        1024,
        move |conn| {
            let catalog = crate::report::Catalog::load(conn)?;
            let n = run::run(conn, &catalog.default_currency(), &RunOptions::default())
                .map_err(anomaly_error)?;
            Ok(FormOutcome::Saved(format!("/anomalies?detected={n}")))
        },
        |page, message| build(page, Some(message)),
    )
    .await
}
