//! `GET /budgets`: a month's budgets with spend so far, the forecast to the
//! end of the month and quarter and the day it crosses each budget, the
//! top-down total beside the sum of its parts, and a form to set one
//! (analysts); `POST /budgets` sets, `POST /budgets/delete` removes.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::FormOutcome;
use crate::budget::status::{self, BudgetStatus, Parts};
use crate::budget::{self, Basis, BudgetPeriod, BudgetSpec, Scope};
use crate::dims::Platform;
use crate::report::period::Month;
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::state::AppState;
use crate::web::views::{short_date, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 3] = ["month", "saved", "deleted"];

/// What the form was filled with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BudgetForm {
    pub period: String,
    pub amount: String,
    pub platform: String,
    pub region: String,
    pub service: String,
    pub tag: String,
    pub basis: String,
    pub note: String,
}

impl BudgetForm {
    pub fn parse(body: &[u8]) -> Result<BudgetForm, String> {
        let mut f = BudgetForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            if value.len() > 1000 || value.chars().any(char::is_control) {
                return Err(format!(
                    "field {key} is too long or holds control characters"
                ));
            }
            let v = value.to_string();
            match key.as_ref() {
                "period" => f.period = v,
                "amount" => f.amount = v,
                "platform" => f.platform = v,
                "region" => f.region = v,
                "service" => f.service = v,
                "tag" => f.tag = v,
                "basis" => f.basis = v,
                "note" => f.note = v,
                "csrf" => {}
                other => return Err(format!("unexpected form field '{other}'")),
            }
        }
        Ok(f)
    }

    /// The budget it sets, or what is wrong with it (naming the field).
    pub fn to_spec(&self, currency: &str) -> Result<BudgetSpec, String> {
        Ok(BudgetSpec {
            period: BudgetPeriod::parse(&self.period).map_err(|e| format!("Period: {e}"))?,
            amount: budget::parse_amount(&self.amount).map_err(|e| format!("Amount: {e}"))?,
            currency: currency.to_string(),
            scope: Scope::parse(&self.platform, &self.region, &self.service)
                .and_then(|s| s.with_tag(&self.tag))
                .map_err(|e| format!("Scope: {e}"))?,
            basis: Basis::parse(&self.basis).map_err(|e| format!("Basis: {e}"))?,
            note: self.note.trim().to_string(),
        })
    }
}

struct Row {
    id: i64,
    scope: String,
    /// Why the row's figures say nothing (a tag no line carries).
    warning: Option<String>,
    basis: String,
    budget: String,
    actual: String,
    used: String,
    forecast: String,
    forecast_used: String,
    over: bool,
    crosses: String,
    quarter_budget: String,
    quarter_forecast: String,
    quarter_over: bool,
    note: String,
}

fn pct(p: Option<f64>) -> String {
    p.map(|v| format!("{v:.1} %"))
        .unwrap_or_else(|| "—".to_string())
}

fn row(s: &BudgetStatus) -> Row {
    let c = &s.budget.currency;
    Row {
        id: s.budget.id,
        scope: s.label.clone(),
        basis: s.budget.basis.clone(),
        budget: crate::web::views::money(s.budget.amount(), c),
        actual: crate::web::views::money(s.actual, c),
        used: pct(s.used()),
        forecast: crate::web::views::money(s.forecast_month, c),
        forecast_used: pct(s.forecast_used()),
        over: s.forecast_over(),
        crosses: match (s.crosses_on, s.crossed) {
            _ if s.method == crate::budget::status::NO_TAGGED_LINES => "—".to_string(),
            (Some(d), true) => format!("passed on {}", short_date(d)),
            (Some(d), false) => format!("forecast {}", short_date(d)),
            (None, _) => "not in the month".to_string(),
        },
        warning: (s.method == crate::budget::status::NO_TAGGED_LINES).then(|| {
            "No billing line carries this tag in the last 400 days: nothing can be measured against it (tags come from billing files, not from Cost Explorer pulls)."
                .to_string()
        }),
        quarter_budget: s
            .quarter_budget
            .map(|q| crate::web::views::money(q, c))
            .unwrap_or_else(|| "not every month set".to_string()),
        quarter_forecast: crate::web::views::money(s.quarter_forecast, c),
        quarter_over: s.quarter_budget.is_some_and(|q| s.quarter_forecast > q),
        note: s.budget.note.clone(),
    }
}

struct PartsView {
    total: String,
    platforms_sum: String,
    platforms_budgeted: usize,
    difference: String,
    difference_note: &'static str,
    unbudgeted_actual: String,
    unbudgeted_platforms: String,
}

fn parts_view(p: &Parts, currency: &str) -> PartsView {
    let diff = p.total_less_parts();
    PartsView {
        total: p
            .total
            .map(|t| crate::web::views::money(t, currency))
            .unwrap_or_else(|| "none set".to_string()),
        platforms_sum: crate::web::views::money(p.platforms_sum, currency),
        platforms_budgeted: p.platforms_budgeted,
        difference: diff
            .map(|d| crate::web::views::money(d.abs(), currency))
            .unwrap_or_else(|| "—".to_string()),
        difference_note: match diff {
            Some(d) if d.0 > 0 => "left by the total for platforms without a budget",
            Some(d) if d.0 < 0 => "by which the platform budgets exceed the total",
            Some(_) => "the platform budgets add up to the total",
            None => "no total budget to compare with",
        },
        unbudgeted_actual: crate::web::views::money(p.unbudgeted_actual, currency),
        unbudgeted_platforms: if p.unbudgeted_platforms.is_empty() {
            "none".to_string()
        } else {
            p.unbudgeted_platforms.join(", ")
        },
    }
}

#[derive(Template)]
#[template(path = "budgets.html")]
struct BudgetsPage {
    layout: Layout,
    month: String,
    month_name: String,
    prev_link: String,
    next_link: String,
    prev_name: String,
    next_name: String,
    currency: String,
    rows: Vec<Row>,
    parts: PartsView,
    form: BudgetForm,
    platforms: Vec<&'static str>,
    error: Option<String>,
    notice: Option<String>,
}

fn build(page: Page, entered: Option<(BudgetForm, String)>) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let default_month = Month::of(catalog.last_day.unwrap_or_else(crate::clock::today));
    let month = match params.one("month").map_err(WebError::BadRequest)? {
        Some(m) => m
            .parse::<Month>()
            .map_err(|e| WebError::BadRequest(format!("month: {e}")))?,
        None => default_month,
    };
    let currency = catalog.default_currency();
    let currency = if currency.is_empty() {
        "USD".to_string()
    } else {
        currency
    };
    let statuses = status::month_status(conn, month, &currency).map_err(budget_error)?;
    let parts = status::parts(conn, month, &currency).map_err(budget_error)?;
    let notice = if let Some(n) = params.one("saved").map_err(WebError::BadRequest)? {
        Some(format!("Saved: {n} monthly budget(s) set."))
    } else if params
        .one("deleted")
        .map_err(WebError::BadRequest)?
        .is_some()
    {
        Some("Removed.".to_string())
    } else {
        None
    };
    let (form, error) = match entered {
        Some((f, e)) => (f, Some(e)),
        None => (
            BudgetForm {
                period: month.next().to_string(),
                basis: "effective".to_string(),
                ..BudgetForm::default()
            },
            None,
        ),
    };
    let page = BudgetsPage {
        layout: Layout::new("Budgets", "budgets", catalog, viewer),
        month: month.to_string(),
        month_name: month.long_name(),
        prev_link: format!("/budgets?month={}", month.prev()),
        next_link: format!("/budgets?month={}", month.next()),
        prev_name: month.prev().long_name(),
        next_name: month.next().long_name(),
        rows: statuses.iter().map(row).collect(),
        parts: parts_view(&parts, &currency),
        currency,
        form,
        platforms: Platform::ALL.iter().map(|p| p.as_str()).collect(),
        error,
        notice,
    };
    Ok(Payload::html(page.render()?))
}

fn budget_error(e: budget::BudgetError) -> WebError {
    match e {
        budget::BudgetError::Db(d) => d.into(),
        other => WebError::Internal(other.to_string()),
    }
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, |page| build(page, None)).await
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let form = BudgetForm::parse(&body).map_err(|e| HtmlError(WebError::BadRequest(e)))?;
    let entered = form.clone();
    super::post_form(
        &req,
        state,
        &body,
        16 * 1024,
        move |conn| {
            let catalog = crate::report::Catalog::load(conn)?;
            let currency = match catalog.default_currency() {
                c if c.is_empty() => "USD".to_string(),
                c => c,
            };
            let spec = match form.to_spec(&currency) {
                Ok(s) => s,
                Err(message) => return Ok(FormOutcome::Refused(message)),
            };
            let n = budget::save(conn, std::slice::from_ref(&spec), "budgets page")
                .map_err(budget_error)?;
            let first = spec.period.months().first().copied();
            Ok(FormOutcome::Saved(format!(
                "/budgets?month={}&saved={n}",
                first.map(|m| m.to_string()).unwrap_or_default()
            )))
        },
        move |page, message| build(page, Some((entered, message))),
    )
    .await
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let id: i64 = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.trim().parse().ok())
        .ok_or_else(|| {
            HtmlError(WebError::BadRequest(
                "Which budget? (id missing)".to_string(),
            ))
        })?;
    super::post_form(
        &req,
        state,
        &body,
        4 * 1024,
        move |conn| {
            use diesel::Connection;
            let removed = conn.transaction::<_, crate::db::DbError, _>(|conn| {
                let removed = crate::db::budgets::remove_budget_id(conn, id)?;
                if let Some(b) = &removed {
                    crate::runs::record_change(
                        conn,
                        crate::runs::Source::Budgets,
                        "budgets page",
                        0,
                        crate::clock::now(),
                        format!("budget {} {} ({}) removed", b.month, b.label(), b.basis),
                    )?;
                }
                Ok(removed)
            })?;
            match removed {
                Some(b) => Ok(FormOutcome::Saved(format!(
                    "/budgets?month={}&deleted=1",
                    b.month
                ))),
                None => Err(WebError::NotFound(format!("There is no budget {id}."))),
            }
        },
        |page, message| build(page, Some((BudgetForm::default(), message))),
    )
    .await
}
