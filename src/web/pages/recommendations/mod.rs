//! `GET /recommendations`: rightsizing and commitment recommendations,
//! filtered and sorted, with totals and a CSV download
//! (`/recommendations.csv`, same parameters); `GET
//! /recommendations/detail?id=…` explains one with its chart, every
//! option, a ladder and a what-if.
//!
//! `list.rs` is the page, its CSV and JSON; `detail.rs` one recommendation;
//! `charts.rs` the detail's charts; this file what they share: parameters,
//! filters, sorting and the review they come from.

mod charts;
mod detail;
mod held;
mod list;

pub(crate) use list::build as list_page;

use charts::*;
pub use detail::*;
pub use held::held;
pub use list::*;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;

use super::{Page, Tile};
use crate::db::DbConnection;
use crate::money::Micros;
use crate::recommend::fleet::FleetOptions;
use crate::recommend::output;
use crate::recommend::purchase::{self, Plan, PurchaseOptions};
use crate::recommend::rightsizing::Decision;
use crate::recommend::run::{self, Commitments, RecommendError, Rightsizing};
use crate::recommend::{Kind, Recommendation, Status};
use crate::report::chart::{line_chart, Chart, Line};
use crate::web::errors::{HtmlError, WebError};
use crate::web::params::{joined, Params};
use crate::web::state::AppState;
use crate::web::views::Layout;
use crate::web::Payload;

pub const PARAMS: [&str; 11] = [
    "kind",
    "platform",
    "region",
    "status",
    "sort",
    "dir",
    "lookback",
    "statistic",
    "headroom",
    "across_families",
    "event_window",
];

/// The detail page takes the list's filters (to link back) plus which
/// recommendation, what-if and purchase option.
pub const DETAIL_PARAMS: [&str; 14] = joined(&PARAMS, &["id", "what_if", "option"]);

const SORTS: [(&str, &str); 5] = [
    ("savings", "Saves / month"),
    ("kind", "Kind"),
    ("scope", "Scope"),
    ("utilisation", "Expected utilisation"),
    ("status", "Status"),
];

fn recommend_error(e: RecommendError) -> WebError {
    match e {
        RecommendError::Db(d) => WebError::from(d),
        RecommendError::NoUtilisation => WebError::NotFound(e.to_string()),
    }
}

/// The rightsizing options a request asks for.
fn fleet_options(params: &Params) -> Result<FleetOptions, WebError> {
    let get = |name: &str| params.one(name).map_err(WebError::BadRequest);
    let lookback = match get("lookback")? {
        None | Some("") => 14,
        Some(v) => crate::recommend::fleet::parse_lookback(v)
            .map_err(|e| WebError::BadRequest(format!("lookback: {e}")))?,
    };
    let headroom = match get("headroom")? {
        None | Some("") => 20.0,
        Some(v) => v
            .trim_end_matches('%')
            .parse::<f64>()
            .map_err(|_| WebError::BadRequest(format!("headroom: '{v}' is not a percentage")))?,
    };
    let window = match get("event_window")? {
        None | Some("") => 30,
        Some(v) => v.parse::<i64>().map_err(|_| {
            WebError::BadRequest(format!("event_window: '{v}' is not a number of days"))
        })?,
    };
    FleetOptions::from_parts(
        lookback,
        get("statistic")?
            .filter(|s| !s.is_empty())
            .unwrap_or("p99.5"),
        headroom,
        get("across_families")?.is_some_and(|v| v == "1" || v == "on" || v == "true"),
        window,
    )
    .map_err(WebError::BadRequest)
}

struct Review {
    rightsizing: Option<Rightsizing>,
    commitments: Commitments,
    /// Why there is no rightsizing, when there is none.
    rightsizing_problem: Option<String>,
}

/// The rightsizing and commitment review for `options`, made once per data
/// version and shared by every user (page, CSV and API).
fn review(
    conn: &mut DbConnection,
    shared: &crate::web::shared::Shared,
    options: &FleetOptions,
) -> Result<std::sync::Arc<Review>, WebError> {
    shared.get_or_compute(&format!("review|{options:?}"), || {
        compute_review(conn, options)
    })
}

fn compute_review(conn: &mut DbConnection, options: &FleetOptions) -> Result<Review, WebError> {
    let (rightsizing, rightsizing_problem) = match run::rightsizing(conn, options) {
        Ok(r) => (Some(r), None),
        Err(RecommendError::NoUtilisation) => {
            (None, Some(RecommendError::NoUtilisation.to_string()))
        }
        Err(e) => return Err(recommend_error(e)),
    };
    let cut = rightsizing.as_ref().map(|r| run::rightsized(&r.decisions));
    let commitments =
        run::commitments_after(conn, &PurchaseOptions::default(), cut).map_err(recommend_error)?;
    Ok(Review {
        rightsizing,
        commitments,
        rightsizing_problem,
    })
}

fn all_recommendations(r: &Review) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = r
        .rightsizing
        .as_ref()
        .map(|r| r.recommendations.clone())
        .unwrap_or_default();
    out.extend(r.commitments.recommendations.iter().cloned());
    out
}

struct Filters {
    kind: String,
    platform: String,
    region: String,
    status: String,
    sort: String,
    desc: bool,
}

fn filters(params: &Params) -> Result<Filters, WebError> {
    let get = |name: &str| -> Result<String, WebError> {
        Ok(params
            .one(name)
            .map_err(WebError::BadRequest)?
            .unwrap_or("")
            .to_string())
    };
    let kind = get("kind")?;
    if !kind.is_empty()
        && kind != "commitments"
        && kind != "rightsizing"
        && Kind::parse(&kind).is_none()
    {
        return Err(WebError::BadRequest(format!(
            "kind: '{kind}' is not a kind of recommendation"
        )));
    }
    let sort = match get("sort")? {
        s if s.is_empty() => "savings".to_string(),
        s if SORTS.iter().any(|(k, _)| *k == s) => s,
        s => {
            return Err(WebError::BadRequest(format!(
                "sort: '{s}' is not a column to sort by"
            )))
        }
    };
    let status = get("status")?;
    if !status.is_empty() && status != "all" && status != "actionable" && status != "not_actionable"
    {
        return Err(WebError::BadRequest(format!(
            "status: '{status}' must be actionable, not_actionable or all"
        )));
    }
    // A platform by any of its names (`ps5`, `steam`, …), or `shared` for
    // backend services; anything else is refused, as on every page.
    let platform = match get("platform")? {
        p if p.is_empty() || p == "shared" => p,
        p => crate::dims::parse_platform_filter(&p)
            .map_err(|e| WebError::BadRequest(format!("parameter 'platform': {e}")))?,
    };
    Ok(Filters {
        kind,
        platform,
        region: get("region")?,
        status,
        desc: get("dir")? != "asc",
        sort,
    })
}

fn keep(r: &Recommendation, f: &Filters) -> bool {
    let kind_ok = match f.kind.as_str() {
        "" => true,
        "commitments" => r.kind.is_commitment(),
        "rightsizing" => !r.kind.is_commitment(),
        k => r.kind.as_str() == k,
    };
    let status_ok = match f.status.as_str() {
        "" | "actionable" => r.status == Status::Actionable,
        "not_actionable" => r.status != Status::Actionable,
        _ => true,
    };
    kind_ok
        && status_ok
        && (f.platform.is_empty() || r.scope.platform == f.platform || r.scope.platform == "all")
        && (f.region.is_empty() || r.scope.region == f.region || r.scope.region == "all")
}

fn sorted(mut recs: Vec<Recommendation>, f: &Filters) -> Vec<Recommendation> {
    let scope = |r: &Recommendation| {
        format!(
            "{} {} {}",
            r.scope.platform,
            r.scope.region,
            r.scope.family.clone().unwrap_or_default()
        )
    };
    recs.sort_by(|a, b| {
        let o = match f.sort.as_str() {
            "kind" => a.kind.cmp(&b.kind),
            "scope" => scope(a).cmp(&scope(b)),
            "utilisation" => a
                .expected_utilisation
                .unwrap_or(-1.0)
                .total_cmp(&b.expected_utilisation.unwrap_or(-1.0)),
            "status" => a.status.as_str().cmp(b.status.as_str()),
            _ => a.monthly_savings.cmp(&b.monthly_savings),
        };
        let o = if f.desc { o.reverse() } else { o };
        o.then(b.monthly_savings.cmp(&a.monthly_savings))
            .then(a.id.cmp(&b.id))
    });
    recs
}

fn query(params: &Params, set: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for name in PARAMS {
        if let Some((_, v)) = set.iter().find(|(k, _)| *k == name) {
            if !v.is_empty() {
                out.append_pair(name, v);
            }
        } else if let Ok(Some(v)) = params.one(name) {
            if !v.is_empty() {
                out.append_pair(name, v);
            }
        }
    }
    out.finish()
}

/// The recommendations a request's filters and sort select (the CSV and
/// the JSON API).
fn shown(
    conn: &mut DbConnection,
    shared: &crate::web::shared::Shared,
    params: &Params,
) -> Result<Vec<Recommendation>, WebError> {
    let options = fleet_options(params)?;
    let f = filters(params)?;
    let r = review(conn, shared, &options)?;
    Ok(sorted(
        all_recommendations(&r)
            .into_iter()
            .filter(|x| keep(x, &f))
            .collect(),
        &f,
    ))
}
