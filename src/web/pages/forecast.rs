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
use crate::forecast::accuracy::Accuracy;
use crate::forecast::hierarchy::NodeForecast;
use crate::forecast::paths::{self, Band};
use crate::forecast::run::{self, RunError};
use crate::forecast::series::{self, Metric, SeriesRequest};
use crate::forecast::{self, ForecastError};
use crate::report::chart::{self, Chart};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::{query_string, short_date, thousands, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 5] = ["metric", "platform", "region", "horizon", "scenario"];

/// The forecast of `metric` over `horizon` days under a scenario (its
/// name and body; none: the plan of record), made once per data version
/// and shared by every user and page (Forecast, Capacity, the API).
pub fn shared_forecast(
    shared: &crate::web::shared::Shared,
    conn: &mut DbConnection,
    metric: Metric,
    horizon: i64,
    (name, scenario): (&str, Option<&crate::forecast::scenario::Scenario>),
) -> Result<std::sync::Arc<run::MetricForecast>, RunError> {
    shared.get_or_compute(&format!("forecast|{metric:?}|{horizon}|{name}"), || {
        run::metric_forecast(conn, metric, horizon, scenario, true)
    })
}

/// Default and longest horizons, in days: Forecast, Capacity plan and
/// Scenarios all plan over the default, so their figures agree.
pub const DEFAULT_HORIZON: i64 = 180;
pub const MAX_HORIZON: i64 = 548;

struct MonthRow {
    month: String,
    /// "29 of 31 days" when the horizon covers only part of the month.
    partial: Option<String>,
    mean: String,
    /// The month's budget for this scope (cost only), or empty.
    budget: String,
    over: bool,
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
    platforms: Vec<String>,
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

/// Monthly totals (or, for peak players, each month's highest day), with
/// bands from sample paths.
fn month_rows(f: &forecast::SeriesForecast, unit: &str, peak: bool) -> Vec<MonthRow> {
    paths::group_bands(&f.points, f.rho, peak, |d| d.with_day(1).unwrap_or(d))
        .into_iter()
        .map(|(m, b)| MonthRow {
            month: m.format("%B %Y").to_string(),
            partial: {
                let month = crate::report::period::Month::of(m);
                let days = f
                    .points
                    .iter()
                    .filter(|p| crate::report::period::Month::of(p.date) == month)
                    .count() as i64;
                (days < month.days()).then(|| format!("{days} of {} days", month.days()))
            },
            mean: amount(b.mean, unit),
            budget: String::new(),
            over: false,
            band80: format!("{} – {}", amount(b.lower80, unit), amount(b.upper80, unit)),
            band95: format!("{} – {}", amount(b.lower95, unit), amount(b.upper95, unit)),
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
    shared: &crate::web::shared::Shared,
) -> Result<serde_json::Value, WebError> {
    let (req, horizon) = request_from(params)?;
    let (name, scenario) = super::scenarios::from_params(conn, params)?;
    let mf = shared_forecast(
        shared,
        conn,
        req.metric,
        horizon,
        (&name, scenario.as_ref()),
    )
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

/// How a value of the metric is written: an amount in the unit for
/// costs, a number otherwise.
struct Shown<'a> {
    metric: Metric,
    unit: &'a str,
}

impl Shown<'_> {
    fn amount(&self, v: f64) -> String {
        amount(v, self.unit)
    }

    fn band(&self, b: &Band) -> String {
        format!(
            "80 %: {} – {}",
            self.amount(b.lower80),
            self.amount(b.upper80)
        )
    }
}

/// The series one level down, each with its forecast over the horizon and
/// its accuracy.
fn part_rows(
    children: &[&NodeForecast],
    req: &SeriesRequest,
    horizon: i64,
    scenario: &str,
    shown: &Shown,
) -> Vec<PartRow> {
    children
        .iter()
        .map(|c| {
            let f = &c.forecast;
            let value = if req.metric == Metric::Ccu {
                thousands(f.peak(f.points.len()))
            } else {
                shown.amount(f.total(f.points.len()).mean)
            };
            let href = format!(
                "/forecast?{}",
                query_string(&[
                    ("metric", req.metric.as_str().to_string()),
                    ("platform", c.platform.clone().unwrap_or_default()),
                    ("region", c.region.clone().unwrap_or_default()),
                    ("horizon", horizon.to_string()),
                    ("scenario", scenario.to_string()),
                ])
            );
            PartRow {
                name: match (&req.platform, &req.region) {
                    (None, _) => {
                        crate::dims::platform_label(c.platform.as_deref().unwrap_or_default())
                    }
                    _ => c.region.clone().unwrap_or_default(),
                },
                href,
                value,
                mase: f
                    .backtest
                    .as_ref()
                    .map(|a| format!("{:.2} (naive {:.2})", a.mase, a.baseline_mase))
                    .unwrap_or_else(|| "—".to_string()),
                worse: f
                    .backtest
                    .as_ref()
                    .is_some_and(|a| a.no_better_than_baseline()),
                note: c.problem.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// The next 30 days and the whole horizon: totals with their 80 % bands,
/// or peaks for concurrent players.
fn outlook_tiles(f: &forecast::SeriesForecast, horizon: i64, shown: &Shown) -> Vec<Tile> {
    let all = f.points.len();
    if shown.metric == Metric::Ccu {
        return vec![
            Tile {
                id: "tile-next-30",
                label: "Peak, next 30 days".to_string(),
                value: thousands(f.peak(30)),
                note: "highest daily peak forecast".to_string(),
                note_class: "",
            },
            Tile {
                id: "tile-horizon",
                label: format!("Next {horizon} days"),
                value: thousands(f.peak(all)),
                note: "highest daily peak forecast".to_string(),
                note_class: "",
            },
        ];
    }
    vec![
        Tile {
            id: "tile-next-30",
            label: "Next 30 days".to_string(),
            value: shown.amount(f.total(30).mean),
            note: shown.band(&f.total(30)),
            note_class: "",
        },
        Tile {
            id: "tile-horizon",
            label: format!("Next {horizon} days"),
            value: shown.amount(f.total(all).mean),
            note: shown.band(&f.total(all)),
            note_class: "",
        },
    ]
}

/// What the accuracy figures mean, in a sentence.
fn accuracy_note(a: &Accuracy) -> String {
    let scores: Vec<String> = a
        .candidates
        .iter()
        .map(|c| format!("{} {:.2}", c.method.label(), c.mase))
        .collect();
    let how = if a.fell_back {
        "a fallback: taking the candidate with the least backtest error did worse than seasonal naive on windows it had not seen, and this did at least as well as seasonal naive on them"
    } else {
        "the candidate with the least error over the backtests, recent windows counting more"
    };
    let held_out = if a.fell_back {
        "The figures shown are this method's over those windows; the width of its bands for each window came from the other windows only."
    } else {
        "The figures shown are held out, so the MASE can be above the chosen candidate's own: for each window, the choice of method and the width of the bands came from the other windows only."
    };
    format!(
        "This forecast uses {}, {how}. Each candidate's MASE over the same {} windows of {} that do not overlap: {}. {held_out} Seasonal naive repeats the same weekday a week earlier (the same month a year earlier for monthly data); a MASE of 1 is the error seasonal naive makes within the history, not a pass mark.",
        a.method.label(),
        a.origins,
        a.reach_text(),
        scores.join(", ")
    )
}

/// How the method did on this series' own history.
fn accuracy_tiles(a: &Accuracy) -> Vec<Tile> {
    vec![
        Tile {
            id: "tile-mase",
            label: "MASE (lower is better)".to_string(),
            value: format!("{:.2}", a.mase),
            note: format!("seasonal naive: {:.2}", a.baseline_mase),
            note_class: if a.no_better_than_baseline() {
                "up"
            } else {
                "down"
            },
        },
        Tile {
            id: "tile-coverage",
            label: "Interval coverage".to_string(),
            value: format!(
                "{:.0} % / {:.0} %",
                a.coverage80 * 100.0,
                a.coverage95 * 100.0
            ),
            note: coverage_note(a),
            note_class: if a.coverage_off() { "up" } else { "" },
        },
        Tile {
            id: "tile-wape",
            label: "WAPE".to_string(),
            value: format!("{:.1} %", a.wape * 100.0),
            note: format!("{} backtests, {} ahead", a.origins, a.reach_text()),
            note_class: "",
        },
    ]
}

/// What the coverage tile says under its figures: in words when the
/// bands held more than 5 points more or fewer actuals than they claim.
fn coverage_note(a: &Accuracy) -> String {
    let inside = "of actuals inside the 80 % / 95 % bands";
    if !a.coverage_off() {
        return inside.to_string();
    }
    let low = a.coverage80 < 0.75 || a.coverage95 < 0.90;
    format!(
        "{inside}: more than 5 points {} what they claim, so read them as {}",
        if low { "under" } else { "over" },
        if low { "too narrow" } else { "too wide" }
    )
}

/// The calendar's events inside the horizon and how each one moves the
/// forecast.
fn event_rows(
    events: &[CalendarEvent],
    f: &forecast::SeriesForecast,
    last: NaiveDate,
    horizon: i64,
) -> Vec<EventRow> {
    let until = last + chrono::Duration::days(horizon);
    events
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
        .collect()
}

fn title(req: &SeriesRequest) -> (&'static str, String) {
    let what = match req.metric {
        Metric::Cost => "Effective cost per day",
        Metric::Ccu => "Peak concurrent players",
        Metric::Capacity => "Instance-hours per day",
    };
    let scope = format!(
        "{} · {}",
        req.platform.as_deref().unwrap_or("all platforms"),
        req.region.as_deref().unwrap_or("all regions")
    );
    (what, format!("{what}, {scope}"))
}

/// The platforms a forecast can be shown for: the six, then the stored
/// values without a platform of their own (`unallocated`, `shared`) when
/// the metric has them.
fn platform_choices(mf: Option<&run::MetricForecast>) -> Vec<String> {
    let mut out: Vec<String> = Platform::ALL
        .iter()
        .map(|p| p.as_str().to_string())
        .collect();
    if let Some(m) = mf {
        for n in &m.hierarchy.nodes {
            if let (Some(p), None) = (&n.platform, &n.region) {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
    }
    out
}

pub(super) fn build(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let (req, horizon) = request_from(params)?;
    let (platform, region) = (req.platform.as_deref(), req.region.as_deref());
    let (scenario_name, scenario) = super::scenarios::from_params(conn, params)?;
    let stored_scenarios: Vec<String> = crate::db::scenarios::all(conn)?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let forecast = shared_forecast(
        page.shared,
        conn,
        req.metric,
        horizon,
        (&scenario_name, scenario.as_ref()),
    );
    let (mf, run_problem) = match forecast {
        Ok(mf) => (Some(mf), None),
        Err(RunError::Db(e)) => return Err(e.into()),
        Err(RunError::Scenario(e)) => return Err(WebError::BadRequest(e.to_string())),
        Err(RunError::Forecast { source, .. }) => (None, Some(source)),
    };
    let node = mf.as_ref().and_then(|m| m.hierarchy.find(platform, region));
    let unit = match (&mf, req.metric) {
        (Some(m), Metric::Cost) => m.hierarchy.unit.clone(),
        _ => String::new(),
    };
    let shown = Shown {
        metric: req.metric,
        unit: &unit,
    };
    let outcome: Result<forecast::SeriesForecast, ForecastError> = match (node, run_problem) {
        (_, Some(e)) => Err(e),
        (None, None) => Err(ForecastError::TooShort(0)),
        (Some(n), None) if n.problem.is_some() && !n.history.is_empty() => {
            Err(ForecastError::TooShort(n.history.len()))
        }
        (Some(n), None) => Ok(n.forecast.clone()),
    };
    let (what, title) = title(&req);
    let mut page = ForecastPage {
        layout: Layout::new("Forecast", "forecast", catalog, viewer),
        metric: req.metric.as_str(),
        metrics: vec![
            ("cost", "Cost"),
            ("ccu", "Peak concurrent players"),
            ("capacity", "Capacity (instance-hours)"),
        ],
        platforms: platform_choices(mf.as_deref()),
        platform: platform.unwrap_or_default().to_string(),
        regions: catalog.regions.clone(),
        region: region.unwrap_or_default().to_string(),
        horizon,
        title,
        problem: None,
        tiles: Vec::new(),
        chart: None,
        worse: false,
        accuracy_note: String::new(),
        months: Vec::new(),
        events: Vec::new(),
        parts_title: match (platform, region) {
            (Some(_), None) => "By region".to_string(),
            _ => "By platform".to_string(),
        },
        parts: Vec::new(),
        scenarios: stored_scenarios,
        scenario: scenario_name.clone(),
        scenario_changes: scenario
            .as_ref()
            .map(|s| s.changes.iter().map(|c| c.describe()).collect())
            .unwrap_or_default(),
    };
    let f = match outcome {
        Err(ForecastError::TooShort(n)) => {
            page.problem = Some(format!(
                "There are {n} days of data for this series; a forecast needs at least 28. Import more history or widen the selection."
            ));
            return Ok(Payload::html(page.render()?));
        }
        Err(e) => {
            page.problem = Some(e.to_string());
            return Ok(Payload::html(page.render()?));
        }
        Ok(f) => f,
    };
    let (Some(mf), Some(node)) = (&mf, node) else {
        return Ok(Payload::html(page.render()?));
    };
    let children = mf.hierarchy.children(platform, region);
    page.parts = part_rows(&children, &req, horizon, &scenario_name, &shown);
    let history = &node.history;
    let last = history.last().map(|h| h.0).unwrap_or_default();
    // The chart shows the last year of history before the forecast.
    let recent: Vec<(NaiveDate, f64)> = history
        .iter()
        .filter(|h| h.0 >= last - chrono::Duration::days(365))
        .cloned()
        .collect();
    let events = series::events_for(&mf.events, &req);
    let budgets = if req.metric == Metric::Cost {
        scope_budgets(conn, &req, &unit, &recent, &f.points)?
    } else {
        Vec::new()
    };
    let budget_per_day: Vec<(NaiveDate, f64)> = recent
        .iter()
        .map(|h| h.0)
        .chain(f.points.iter().map(|p| p.date))
        .filter_map(|d| {
            let m = crate::report::period::Month::of(d);
            budgets
                .iter()
                .find(|(bm, _)| *bm == m)
                .map(|(_, v)| (d, v / m.days() as f64))
        })
        .collect();
    page.chart = Some(chart::forecast_chart(
        &recent,
        &f.points,
        &events,
        &budget_per_day,
        what,
        &unit,
    ));
    page.tiles = outlook_tiles(&f, horizon, &shown);
    match &f.backtest {
        Some(a) => {
            page.worse = a.no_better_than_baseline();
            page.tiles.extend(accuracy_tiles(a));
            page.accuracy_note = accuracy_note(a);
        }
        None => page.accuracy_note = "The history is too short to measure accuracy.".to_string(),
    }
    page.months = month_rows(&f, &unit, series::peak_metric(req.metric));
    // Beside each month's forecast, its budget; the first month's forecast
    // covers only the days after the data, so it adds the spend so far.
    let mut forecast_months: Vec<crate::report::period::Month> = f
        .points
        .iter()
        .map(|p| crate::report::period::Month::of(p.date))
        .collect();
    forecast_months.dedup();
    for (row, m) in page.months.iter_mut().zip(forecast_months) {
        if let Some((_, b)) = budgets.iter().find(|(bm, _)| *bm == m) {
            row.budget = amount(*b, &unit);
            let spent: f64 = history
                .iter()
                .filter(|h| crate::report::period::Month::of(h.0) == m)
                .map(|h| h.1)
                .sum();
            let forecast: f64 = f
                .points
                .iter()
                .filter(|p| crate::report::period::Month::of(p.date) == m)
                .map(|p| p.mean)
                .sum();
            row.over = spent + forecast > *b;
        }
    }
    page.events = event_rows(&events, &f, last, horizon);
    Ok(Payload::html(page.render()?))
}

/// The effective-cost budgets (units) of the request's scope (its
/// platform and region, every service), per month over the chart.
fn scope_budgets(
    conn: &mut crate::db::DbConnection,
    req: &SeriesRequest,
    unit: &str,
    history: &[(NaiveDate, f64)],
    points: &[forecast::Point],
) -> Result<Vec<(crate::report::period::Month, f64)>, WebError> {
    use crate::db::budgets::ALL;
    use crate::report::period::Month;
    let (Some(first), Some(last)) = (
        history
            .first()
            .map(|h| h.0)
            .or(points.first().map(|p| p.date)),
        points
            .last()
            .map(|p| p.date)
            .or(history.last().map(|h| h.0)),
    ) else {
        return Ok(Vec::new());
    };
    let rows = crate::db::budgets::budgets_between(
        conn,
        &Month::of(first).to_string(),
        &Month::of(last).to_string(),
    )?;
    let platform = req.platform.as_deref().unwrap_or(ALL);
    let region = req.region.as_deref().unwrap_or(ALL);
    Ok(rows
        .into_iter()
        .filter(|b| {
            b.platform == platform
                && b.region == region
                && b.service == ALL
                && b.tag.is_empty()
                && b.basis == "effective"
                && b.currency == unit
        })
        .filter_map(|b| {
            b.month
                .parse::<Month>()
                .ok()
                .map(|m| (m, b.amount().as_units_f64()))
        })
        .collect())
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, build).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::accuracy::CandidateScore;
    use crate::forecast::frequency::Frequency;
    use crate::forecast::select::Method;

    fn accuracy(coverage80: f64, coverage95: f64, fell_back: bool) -> Accuracy {
        Accuracy {
            method: Method::Combined,
            mase: 0.9,
            wape: 0.1,
            coverage80,
            coverage95,
            baseline_mase: 1.0,
            candidates: vec![
                CandidateScore {
                    method: Method::Regression,
                    mase: 0.8,
                },
                CandidateScore {
                    method: Method::Combined,
                    mase: 0.9,
                },
            ],
            origins: 6,
            horizon: 90,
            step: Frequency::Day,
            fell_back,
        }
    }

    #[test]
    fn coverage_off_by_more_than_five_points_is_said_in_words() {
        assert_eq!(
            coverage_note(&accuracy(0.81, 0.94, false)),
            "of actuals inside the 80 % / 95 % bands"
        );
        assert!(coverage_note(&accuracy(0.69, 0.82, false)).ends_with("too narrow"));
        assert!(coverage_note(&accuracy(0.93, 0.99, false)).ends_with("too wide"));
    }

    #[test]
    fn the_note_lists_every_candidate_and_says_when_it_is_a_fallback() {
        let chosen = accuracy_note(&accuracy(0.8, 0.95, false));
        assert!(chosen.contains("calendar regression 0.80"), "{chosen}");
        assert!(chosen.contains("regression, smoothing and seasonal naive 0.90"));
        assert!(chosen.contains("held out"));
        assert!(!chosen.contains("fallback"));
        let fallback = accuracy_note(&accuracy(0.8, 0.95, true));
        assert!(fallback.contains(", a fallback:"), "{fallback}");
        assert!(
            fallback.contains("did worse than seasonal naive"),
            "{fallback}"
        );
    }
}
