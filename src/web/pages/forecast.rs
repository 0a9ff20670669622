//! `GET /forecast?metric=cost|ccu|capacity&platform=P&region=R&horizon=N`:
//! history and forecast with 80 % and 95 % bands, the calendar's events on
//! the time axis, and how accurate the method was on this series.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate};

use super::Tile;
use crate::calendar::CalendarEvent;
use crate::db::DbConnection;
use crate::dims::{self, Platform};
use crate::forecast::run::{self, RunError};
use crate::forecast::series::{self, Metric, SeriesRequest};
use crate::forecast::{self, ForecastError};
use crate::report::chart::{self, Chart};
use crate::report::Catalog;
use crate::web::errors::{HtmlError, WebError};
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::{query_string, short_date, thousands, Layout, Viewer};
use crate::web::Payload;

pub const PARAMS: [&str; 5] = ["metric", "platform", "region", "horizon", "scenario"];

/// Default and longest horizons, in days.
pub const DEFAULT_HORIZON: i64 = 180;
pub const MAX_HORIZON: i64 = 548;

struct MonthRow {
    month: String,
    mean: String,
    band80: String,
    band95: String,
}

struct PartRow {
    name: String,
    href: String,
    value: String,
    mase: String,
    note: String,
    worse: bool,
}

struct EventRow {
    name: String,
    kind: String,
    dates: String,
    effect: String,
}

#[derive(Template)]
#[template(path = "forecast.html")]
struct ForecastPage {
    layout: Layout,
    metric: &'static str,
    metrics: Vec<(&'static str, &'static str)>,
    platforms: Vec<&'static str>,
    platform: String,
    regions: Vec<String>,
    region: String,
    horizon: i64,
    title: String,
    problem: Option<String>,
    tiles: Vec<Tile>,
    chart: Option<Chart>,
    worse: bool,
    accuracy_note: String,
    months: Vec<MonthRow>,
    events: Vec<EventRow>,
    parts_title: String,
    parts: Vec<PartRow>,
    scenarios: Vec<String>,
    scenario: String,
    scenario_changes: Vec<String>,
}

fn amount(v: f64, unit: &str) -> String {
    match crate::money::currency_symbol(unit) {
        Some(symbol) => format!("{symbol}{}", thousands(v)),
        None if unit.len() == 3 && unit.chars().all(|c| c.is_ascii_uppercase()) => {
            format!("{} {unit}", thousands(v))
        }
        None => thousands(v),
    }
}

/// Monthly totals (or, for peak players, each month's highest day).
fn month_rows(points: &[forecast::Point], unit: &str, peak: bool) -> Vec<MonthRow> {
    let mut rows: Vec<(NaiveDate, [f64; 5])> = Vec::new();
    for p in points {
        let m = p.date.with_day(1).unwrap_or(p.date);
        let v = [p.mean, p.lower80, p.upper80, p.lower95, p.upper95];
        match rows.last_mut() {
            Some((month, sums)) if *month == m => {
                for (s, x) in sums.iter_mut().zip(v) {
                    *s = if peak { s.max(x) } else { *s + x };
                }
            }
            _ => rows.push((m, v)),
        }
    }
    rows.into_iter()
        .map(|(m, s)| MonthRow {
            month: m.format("%B %Y").to_string(),
            mean: amount(s[0], unit),
            band80: format!("{} – {}", amount(s[1], unit), amount(s[2], unit)),
            band95: format!("{} – {}", amount(s[3], unit), amount(s[4], unit)),
        })
        .collect()
}

/// The series and horizon a request asks for (shared with the API).
pub fn request_from(params: &Params) -> Result<(SeriesRequest, i64), WebError> {
    let bad = WebError::BadRequest;
    let metric = match params.one("metric").map_err(bad)? {
        None => Metric::Cost,
        Some(m) => Metric::parse(m).ok_or_else(|| {
            WebError::BadRequest(format!("metric: '{m}' is not one of cost, ccu, capacity"))
        })?,
    };
    let platform = params
        .one("platform")
        .map_err(WebError::BadRequest)?
        .map(dims::parse_platform_filter)
        .transpose()
        .map_err(|e| WebError::BadRequest(format!("platform: {e}")))?;
    let region = match params.one("region").map_err(WebError::BadRequest)? {
        Some(r) if dims::region_name(r).is_none() => {
            return Err(WebError::BadRequest(format!(
                "region: unknown region '{r}'"
            )))
        }
        other => other.map(str::to_string),
    };
    let horizon = match params.one("horizon").map_err(WebError::BadRequest)? {
        None => DEFAULT_HORIZON,
        Some(h) => h
            .parse::<i64>()
            .ok()
            .filter(|h| (7..=MAX_HORIZON).contains(h))
            .ok_or_else(|| {
                WebError::BadRequest(format!("horizon: '{h}' must be 7 to {MAX_HORIZON} days"))
            })?,
    };
    Ok((
        SeriesRequest {
            metric,
            platform,
            region,
        },
        horizon,
    ))
}

/// The API's answer: the JSON of `finops forecast --format json`.
pub fn forecast_value(
    conn: &mut DbConnection,
    params: &Params,
) -> Result<serde_json::Value, WebError> {
    let (req, horizon) = request_from(params)?;
    let (_, scenario) = super::scenarios::from_params(conn, params)?;
    let mf = run::metric_forecast(conn, req.metric, horizon, scenario.as_ref(), true)
        .map_err(run_error)?;
    let h = &mf.hierarchy;
    let node = h
        .find(req.platform.as_deref(), req.region.as_deref())
        .ok_or_else(|| WebError::NotFound("no data for this platform and region".to_string()))?;
    let mut list = vec![series::node_json(req.metric, &h.unit, node)];
    list.extend(
        h.children(req.platform.as_deref(), req.region.as_deref())
            .iter()
            .map(|c| series::node_json(req.metric, &h.unit, c)),
    );
    Ok(serde_json::json!({
        "scenario": scenario.map(|s| s.name),
        "reconciliation": "wls",
        "series": list,
    }))
}

/// A forecast run's error as the web answers it.
pub fn run_error(e: RunError) -> WebError {
    match e {
        RunError::Db(e) => e.into(),
        other => WebError::BadRequest(other.to_string()),
    }
}

fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    params: &Params,
    viewer: &Viewer,
) -> Result<Payload, WebError> {
    params.allow_only(&PARAMS).map_err(WebError::BadRequest)?;
    let (req, horizon) = request_from(params)?;
    let (metric, platform, region) = (req.metric, req.platform.clone(), req.region.clone());

    let (scenario_name, scenario) = super::scenarios::from_params(conn, params)?;
    let stored_scenarios: Vec<String> = crate::db::scenarios::all(conn)?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mf = run::metric_forecast(conn, metric, horizon, scenario.as_ref(), true);
    let (mf, run_problem) = match mf {
        Ok(mf) => (Some(mf), None),
        Err(RunError::Db(e)) => return Err(e.into()),
        Err(RunError::Scenario(e)) => return Err(WebError::BadRequest(e.to_string())),
        Err(RunError::Forecast { source, .. }) => (None, Some(source)),
    };
    let node = mf
        .as_ref()
        .and_then(|m| m.hierarchy.find(platform.as_deref(), region.as_deref()));
    let unit = mf
        .as_ref()
        .map(|m| m.hierarchy.unit.clone())
        .unwrap_or_default();
    let history: Vec<(NaiveDate, f64)> = node.map(|n| n.history.clone()).unwrap_or_default();
    let events: Vec<CalendarEvent> = mf
        .as_ref()
        .map(|m| series::events_for(&m.events, &req))
        .unwrap_or_default();
    let outcome: Result<forecast::SeriesForecast, ForecastError> = match (node, run_problem) {
        (_, Some(e)) => Err(e),
        (None, None) => Err(ForecastError::TooShort(0)),
        (Some(n), None) if n.problem.is_some() && !n.history.is_empty() => {
            Err(ForecastError::TooShort(n.history.len()))
        }
        (Some(n), None) => Ok(n.forecast.clone()),
    };
    let what = match metric {
        Metric::Cost => "Effective cost per day",
        Metric::Ccu => "Peak concurrent players",
        Metric::Capacity => "Instance-hours per day",
    };
    let scope = format!(
        "{} · {}",
        platform.as_deref().unwrap_or("all platforms"),
        region.as_deref().unwrap_or("all regions")
    );
    let unit_for_amounts = if metric == Metric::Cost {
        unit.clone()
    } else {
        String::new()
    };
    let mut page = ForecastPage {
        layout: Layout::new("Forecast", "forecast", catalog, viewer),
        metric: metric.as_str(),
        metrics: vec![
            ("cost", "Cost"),
            ("ccu", "Peak concurrent players"),
            ("capacity", "Capacity (instance-hours)"),
        ],
        platforms: Platform::ALL.iter().map(|p| p.as_str()).collect(),
        platform: platform.clone().unwrap_or_default(),
        regions: catalog.regions.clone(),
        region: region.clone().unwrap_or_default(),
        horizon,
        title: format!("{what}, {scope}"),
        problem: None,
        tiles: Vec::new(),
        chart: None,
        worse: false,
        accuracy_note: String::new(),
        months: Vec::new(),
        events: Vec::new(),
        parts_title: String::new(),
        parts: Vec::new(),
        scenarios: stored_scenarios,
        scenario: scenario_name.clone(),
        scenario_changes: scenario
            .as_ref()
            .map(|s| s.changes.iter().map(|c| c.describe()).collect())
            .unwrap_or_default(),
    };
    if let (Some(mf), Ok(_)) = (&mf, &outcome) {
        let children = mf
            .hierarchy
            .children(platform.as_deref(), region.as_deref());
        page.parts_title = match (&platform, &region) {
            (None, None) => "By platform".to_string(),
            (Some(_), None) => "By region".to_string(),
            _ => "By platform".to_string(),
        };
        page.parts = children
            .iter()
            .map(|c| {
                let value = if metric == Metric::Ccu {
                    thousands(c.forecast.points.iter().map(|p| p.mean).fold(0.0, f64::max))
                } else {
                    amount(
                        c.forecast.points.iter().map(|p| p.mean).sum(),
                        &unit_for_amounts,
                    )
                };
                let query = format!(
                    "/forecast?{}",
                    query_string(&[
                        ("metric", metric.as_str().to_string()),
                        ("platform", c.platform.clone().unwrap_or_default()),
                        ("region", c.region.clone().unwrap_or_default()),
                        ("horizon", horizon.to_string()),
                        ("scenario", scenario_name.clone()),
                    ])
                );
                PartRow {
                    name: match (&platform, &region) {
                        (None, None) | (None, Some(_)) => c.platform.clone().unwrap_or_default(),
                        _ => c.region.clone().unwrap_or_default(),
                    },
                    href: query,
                    value,
                    mase: c
                        .forecast
                        .backtest
                        .as_ref()
                        .map(|a| format!("{:.2} (naive {:.2})", a.mase, a.baseline_mase))
                        .unwrap_or_else(|| "—".to_string()),
                    worse: c
                        .forecast
                        .backtest
                        .as_ref()
                        .is_some_and(|a| a.worse_than_baseline()),
                    note: c.problem.clone().unwrap_or_default(),
                }
            })
            .collect();
    }
    match outcome {
        Err(ForecastError::TooShort(n)) => {
            page.problem = Some(format!(
                "There are {n} days of data for this series; a forecast needs at least 28. Import more history or widen the selection."
            ));
        }
        Err(e) => page.problem = Some(e.to_string()),
        Ok(f) => {
            let shown_from = history
                .last()
                .map(|h| h.0 - chrono::Duration::days(365))
                .unwrap_or_default();
            let shown: Vec<(NaiveDate, f64)> = history
                .iter()
                .filter(|h| h.0 >= shown_from)
                .cloned()
                .collect();
            page.chart = Some(chart::forecast_chart(
                &shown,
                &f.points,
                &events,
                what,
                &unit_for_amounts,
            ));
            let sum = |n: usize| -> (f64, f64, f64) {
                f.points.iter().take(n).fold((0.0, 0.0, 0.0), |a, p| {
                    (a.0 + p.mean, a.1 + p.lower80, a.2 + p.upper80)
                })
            };
            let peak = f.points.iter().map(|p| p.mean).fold(0.0, f64::max);
            let (m30, l30, u30) = sum(30);
            let (mh, lh, uh) = sum(f.points.len());
            page.tiles.push(if metric == Metric::Ccu {
                Tile {
                    id: "tile-next-30",
                    label: "Peak, next 30 days".to_string(),
                    value: thousands(f.points.iter().take(30).map(|p| p.mean).fold(0.0, f64::max)),
                    note: "highest daily peak forecast".to_string(),
                    note_class: "",
                }
            } else {
                Tile {
                    id: "tile-next-30",
                    label: "Next 30 days".to_string(),
                    value: amount(m30, &unit_for_amounts),
                    note: format!(
                        "80 %: {} – {}",
                        amount(l30, &unit_for_amounts),
                        amount(u30, &unit_for_amounts)
                    ),
                    note_class: "",
                }
            });
            page.tiles.push(Tile {
                id: "tile-horizon",
                label: format!("Next {horizon} days"),
                value: if metric == Metric::Ccu {
                    thousands(peak)
                } else {
                    amount(mh, &unit_for_amounts)
                },
                note: if metric == Metric::Ccu {
                    "highest daily peak forecast".to_string()
                } else {
                    format!(
                        "80 %: {} – {}",
                        amount(lh, &unit_for_amounts),
                        amount(uh, &unit_for_amounts)
                    )
                },
                note_class: "",
            });
            if let Some(a) = &f.backtest {
                page.worse = a.worse_than_baseline();
                page.tiles.push(Tile {
                    id: "tile-mase",
                    label: "MASE (lower is better)".to_string(),
                    value: format!("{:.2}", a.mase),
                    note: format!("seasonal naive: {:.2}", a.baseline_mase),
                    note_class: if page.worse { "up" } else { "down" },
                });
                page.tiles.push(Tile {
                    id: "tile-coverage",
                    label: "Interval coverage".to_string(),
                    value: format!(
                        "{:.0} % / {:.0} %",
                        a.coverage80 * 100.0,
                        a.coverage95 * 100.0
                    ),
                    note: "of actuals inside the 80 % / 95 % bands".to_string(),
                    note_class: if (a.coverage80 - 0.8).abs() > 0.05
                        || (a.coverage95 - 0.95).abs() > 0.05
                    {
                        "up"
                    } else {
                        ""
                    },
                });
                page.tiles.push(Tile {
                    id: "tile-wape",
                    label: "WAPE".to_string(),
                    value: format!("{:.1} %", a.wape * 100.0),
                    note: format!("{} backtests, {} days ahead", a.origins, a.horizon_days),
                    note_class: "",
                });
                page.accuracy_note = format!(
                    "Measured by {} rolling-origin backtests of {} days on this series' history against seasonal naive (the same weekday a week earlier).",
                    a.origins, a.horizon_days
                );
            } else {
                page.accuracy_note = "The history is too short to measure accuracy.".to_string();
            }
            page.months = month_rows(&f.points, &unit_for_amounts, series::peak_metric(metric));
            let last = history.last().map(|h| h.0).unwrap_or_default();
            let until = last + chrono::Duration::days(horizon);
            page.events = events
                .iter()
                .filter(|e| e.overlaps(last + chrono::Duration::days(1), until))
                .map(|e| EventRow {
                    name: e.name.clone(),
                    kind: e.kind.label().to_string(),
                    dates: format!("{} – {}", short_date(e.start), short_date(e.end)),
                    effect: if f.learned_kinds.iter().any(|k| k == e.kind.as_str()) {
                        "learned from past events of this kind".to_string()
                    } else {
                        match e.expected_uplift {
                            Some(u) => format!("calendar's expected uplift {:+.0} %", u * 100.0),
                            None => "none: a new kind without an expected uplift".to_string(),
                        }
                    },
                })
                .collect();
        }
    }
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, build).await
}
