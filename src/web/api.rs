//! JSON API under `/api/v1/`. Amounts are decimal strings (six places),
//! never JSON numbers; errors are `{ "error": { "code", "message" } }`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::errors::{ApiError, WebError};
use super::pages::{self, render};
use super::params::{joined, OutputFormat};
use super::state::AppState;
use super::Payload;
use crate::db::sql::Granularity;
use crate::money::Micros;
use crate::report::explorer::{explore, Explorer, ExplorerRequest};
use crate::report::export::text_cell;
use crate::report::month::month_review;
use crate::report::overview::overview;

fn amount(m: Micros) -> Value {
    Value::String(m.to_decimal(6))
}

/// The costs API takes the explorer's parameters and `format`.
const COSTS_PARAMS: [&str; 10] = joined(&pages::explorer::PARAMS, &["format"]);

/// `GET /api/v1/costs?from&to&group_by&granularity&platform&region&service&metric&currency[&format=csv]`
pub async fn costs(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let format = OutputFormat::of_request(&req).map_err(|e| ApiError(WebError::BadRequest(e)))?;
    let st = state.clone();
    let response = render::<_, ApiError>(req.clone(), state, &COSTS_PARAMS, move |page| {
        let request =
            pages::explorer::request_from(page.params, page.catalog, Granularity::Month, &[])
                .map_err(WebError::BadRequest)?;
        let result = explore(page.conn, &request)?;
        match format {
            OutputFormat::Csv => Ok(costs_csv(&request, &result)),
            _ => costs_json(&request, &result),
        }
    })
    .await?;
    if format == OutputFormat::Csv {
        super::audit_export(&st, &req, "costs CSV".to_string())
            .await
            .map_err(ApiError)?;
    }
    Ok(response)
}

/// The explorer's rows as CSV: one line a period and group.
fn costs_csv(request: &ExplorerRequest, result: &Explorer) -> Payload {
    let f = &request.filter;
    let mut out = String::from("period");
    for d in &request.group_by {
        out.push(',');
        out.push_str(d.as_str());
    }
    out.push_str(",billed_cost,effective_cost,currency\r\n");
    for r in &result.rows {
        out.push_str(&r.period.map(|p| p.to_string()).unwrap_or_default());
        for k in &r.keys {
            out.push(',');
            out.push_str(&text_cell(k));
        }
        out.push_str(&format!(
            ",{},{},{}\r\n",
            r.billed.to_decimal(6),
            r.effective.to_decimal(6),
            text_cell(&f.currency)
        ));
    }
    Payload::csv(
        format!("finops-costs-{}-{}.csv", f.from, f.to),
        out.into_bytes(),
    )
}

/// The explorer's rows as JSON, with the request they answer.
fn costs_json(request: &ExplorerRequest, result: &Explorer) -> Result<Payload, WebError> {
    let f = &request.filter;
    let dims: Vec<&str> = request.group_by.iter().map(|d| d.as_str()).collect();
    let rows: Vec<Value> = result
        .rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert(
                "period".into(),
                r.period
                    .map(|p| Value::String(p.to_string()))
                    .unwrap_or(Value::Null),
            );
            for (d, k) in dims.iter().zip(&r.keys) {
                m.insert((*d).to_string(), Value::String(k.clone()));
            }
            m.insert("billed_cost".into(), amount(r.billed));
            m.insert("effective_cost".into(), amount(r.effective));
            Value::Object(m)
        })
        .collect();
    Payload::json(&json!({
        "from": f.from.to_string(),
        "to": f.to.to_string(),
        "currency": f.currency,
        "granularity": request.granularity.as_str(),
        "group_by": dims,
        "filters": { "platform": f.platforms, "region": f.regions, "service": f.services },
        "total": { "billed_cost": amount(result.total.billed), "effective_cost": amount(result.total.effective) },
        "rows": rows,
    }))
}

/// `GET /api/v1/overview?from&to&platform&region&metric&currency`
pub async fn overview_json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    render(req, state, &pages::overview::PARAMS, |page| {
        let request = pages::overview::request_from(page.params, page.catalog)?;
        Payload::json(&overview(page.conn, &request)?)
    })
    .await
}

/// `GET /api/v1/month?month=YYYY-MM[&platform[&region]]`
pub async fn month_json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    render(req, state, &pages::month::PARAMS, |page| {
        let request = pages::month::request_from(page.params, page.catalog)?;
        if let Some(why) = page.catalog.month_without_data(request.month) {
            return Err(WebError::NotFound(why));
        }
        Payload::json(&month_review(page.conn, &request)?)
    })
    .await
}

/// `GET /api/v1/unallocated?from&to[&currency]`: the unallocated cost of
/// a period by line and by resource, with the rule that would claim each.
pub async fn unallocated_json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    render(req, state, &pages::unallocated::PARAMS, |mut page| {
        Payload::json(&pages::unallocated::report_for(&mut page)?)
    })
    .await
}

/// `GET /api/v1/forecast?metric&platform&region&horizon&scenario`: the
/// reconciled forecast of one series and the series one level down, with
/// their backtest figures (the JSON of `finops forecast`).
pub async fn forecast_json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    render(req, state, &pages::forecast::PARAMS, |page| {
        Payload::json(&pages::forecast::forecast_value(
            page.conn,
            page.params,
            page.shared,
        )?)
    })
    .await
}
