//! JSON API under `/api/v1/`. Amounts are decimal strings (six places),
//! never JSON numbers; errors are `{ "error": { "code", "message" } }`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::errors::{ApiError, WebError};
use super::pages;
use super::params::{default_month, OutputFormat, Params};
use super::state::AppState;
use super::{answer, cache_key, Payload};
use crate::db::sql::Granularity;
use crate::money::Micros;
use crate::report::explorer::explore;
use crate::report::export::text_cell;
use crate::report::month::{month_review, MonthRequest};
use crate::report::overview::{overview, OverviewRequest};

fn amount(m: Micros) -> Value {
    Value::String(m.to_decimal(6))
}

/// `GET /api/v1/costs?from&to&group_by&granularity&platform&region&service&metric&currency[&format=csv]`
pub async fn costs(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    let format = OutputFormat::of_request(&req).map_err(|e| ApiError(WebError::BadRequest(e)))?;
    let csv = format == OutputFormat::Csv;
    let st = state.clone();
    let response = answer(state.into_inner(), cache_key(&req), move |conn, catalog| {
        let mut known: Vec<&str> = pages::explorer::PARAMS.to_vec();
        known.push("format");
        params.allow_only(&known).map_err(WebError::BadRequest)?;
        let request = pages::explorer::request_from(&params, catalog, Granularity::Month, &[])
            .map_err(WebError::BadRequest)?;
        let result = explore(conn, &request)?;
        let dims: Vec<&str> = request.group_by.iter().map(|d| d.as_str()).collect();
        let f = &request.filter;
        if csv {
            let mut out = String::from("period");
            for d in &dims {
                out.push(',');
                out.push_str(d);
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
            return Ok(Payload::csv(
                format!("finops-costs-{}-{}.csv", f.from, f.to),
                out.into_bytes(),
            ));
        }
        let rows: Vec<Value> = result
            .rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert(
                    "period".into(),
                    r.period.map(|p| Value::String(p.to_string())).unwrap_or(Value::Null),
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
    })
    .await
    .map_err(ApiError)?;
    if csv {
        super::audit_export(&st, &req, "costs CSV".to_string())
            .await
            .map_err(ApiError)?;
    }
    Ok(response)
}

/// `GET /api/v1/overview?from&to&platform&region&metric&currency`
pub async fn overview_json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    answer(state.into_inner(), cache_key(&req), move |conn, catalog| {
        params
            .allow_only(&pages::overview::PARAMS)
            .map_err(WebError::BadRequest)?;
        let month = default_month(catalog, crate::clock::today());
        let (from, to) = params
            .range((month.first_day(), month.last_day()))
            .map_err(WebError::BadRequest)?;
        let req = OverviewRequest {
            from,
            to,
            currency: params.currency(catalog).map_err(WebError::BadRequest)?,
            metric: params.metric().map_err(WebError::BadRequest)?,
            platforms: params.platforms().map_err(WebError::BadRequest)?,
            regions: params
                .dimension_values("region")
                .map_err(WebError::BadRequest)?,
        };
        let o = overview(conn, &req)?;
        Payload::json(&o)
    })
    .await
    .map_err(ApiError)
}

/// `GET /api/v1/month?month=YYYY-MM[&platform[&region]]`
pub async fn month_json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    answer(state.into_inner(), cache_key(&req), move |conn, catalog| {
        params
            .allow_only(&pages::month::PARAMS)
            .map_err(WebError::BadRequest)?;
        let month = params
            .month("month")
            .map_err(WebError::BadRequest)?
            .unwrap_or_else(|| default_month(catalog, crate::clock::today()));
        let platform = params
            .platforms()
            .map_err(WebError::BadRequest)?
            .into_iter()
            .next();
        let region = params
            .dimension_values("region")
            .map_err(WebError::BadRequest)?
            .into_iter()
            .next();
        let review = month_review(
            conn,
            &MonthRequest {
                month,
                currency: params.currency(catalog).map_err(WebError::BadRequest)?,
                platform,
                region,
            },
        )?;
        Payload::json(&review)
    })
    .await
    .map_err(ApiError)
}

/// `GET /api/v1/forecast?metric&platform&region&horizon&scenario`: the
/// reconciled forecast of one series and the series one level down, with
/// their backtest figures (the JSON of `finops forecast`).
pub async fn forecast_json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    answer(state.into_inner(), cache_key(&req), move |conn, _| {
        params
            .allow_only(&pages::forecast::PARAMS)
            .map_err(WebError::BadRequest)?;
        Payload::json(&pages::forecast::forecast_value(conn, &params)?)
    })
    .await
    .map_err(ApiError)
}
