//! `GET /capacity?target=70&launch_buffer=25&horizon=120`: the capacity
//! plan per region, print-friendly for a planning meeting.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::Tile;
use crate::forecast::capacity::{self, Policy};
use crate::forecast::run::RunError;
use crate::forecast::series::Metric;
use crate::report::chart::{line_chart, Chart, Line};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::{rounded_money, short_date, thousands, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 4] = ["target", "launch_buffer", "horizon", "scenario"];

struct RegionRow {
    region: String,
    current: String,
    per_instance: String,
    peak_players: String,
    peak_day: String,
    required: String,
    required_upper: String,
    short_on: String,
    short: bool,
    extra_cost: String,
}

#[derive(Template)]
#[template(path = "capacity.html")]
struct CapacityPage {
    layout: Layout,
    target: String,
    launch_buffer: String,
    horizon: i64,
    tiles: Vec<Tile>,
    rows: Vec<RegionRow>,
    skipped: Vec<(String, String)>,
    currency: String,
    chart: Option<Chart>,
    scenarios: Vec<String>,
    scenario: String,
}

fn percent_param(
    params: &Params,
    name: &str,
    default: f64,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, WebError> {
    match params.one(name).map_err(WebError::BadRequest)? {
        None => Ok(default),
        Some(v) => v
            .trim_end_matches('%')
            .parse::<f64>()
            .ok()
            .filter(|x| range.contains(x))
            .map(|x| x / 100.0)
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "{name}: '{v}' must be a percentage from {} to {}",
                    range.start(),
                    range.end()
                ))
            }),
    }
}

/// The headroom policy a request asks for (target, launch_buffer, horizon).
pub fn policy_from(params: &Params, default_horizon: i64) -> Result<Policy, WebError> {
    Ok(Policy {
        target_utilisation: percent_param(params, "target", 0.7, 10.0..=100.0)?,
        launch_buffer: percent_param(params, "launch_buffer", 0.25, 0.0..=300.0)?,
        horizon_days: match params.one("horizon").map_err(WebError::BadRequest)? {
            None => default_horizon,
            Some(h) => h
                .parse::<i64>()
                .ok()
                .filter(|h| (7..=548).contains(h))
                .ok_or_else(|| {
                    WebError::BadRequest(format!("horizon: '{h}' must be 7 to 548 days"))
                })?,
        },
    })
}

pub(super) fn build(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let policy = policy_from(params, super::forecast::DEFAULT_HORIZON)?;
    let (scenario_name, scenario) = super::scenarios::from_params(conn, params)?;
    let key = format!("capacity|{policy:?}|{scenario_name}");
    let planned = page
        .shared
        .get_or_compute(&key, || -> Result<_, WebError> {
            Ok(
                match super::forecast::shared_forecast(
                    page.shared,
                    conn,
                    Metric::Ccu,
                    policy.horizon_days,
                    (&scenario_name, scenario.as_ref()),
                ) {
                    Ok(mf) => {
                        let (plans, skipped) =
                            capacity::plan(conn, &mf.hierarchy, &mf.events, &policy)?;
                        (plans, skipped, mf.events.clone())
                    }
                    Err(RunError::Forecast { source, .. }) => (
                        Vec::new(),
                        vec![capacity::Skipped {
                            region: "all regions".to_string(),
                            reason: source.to_string(),
                        }],
                        Vec::new(),
                    ),
                    Err(e) => return Err(super::forecast::run_error(e)),
                },
            )
        })?;
    let (plans, skipped, events) = (&planned.0, &planned.1, &planned.2);
    let lines: Vec<Line> = plans
        .iter()
        .filter(|p| p.current_instances > 0.0)
        .map(|p| Line {
            label: p.region.clone(),
            points: p
                .daily_required
                .iter()
                .map(|(d, n)| (*d, 100.0 * n / p.current_instances))
                .collect(),
        })
        .collect();
    let launches: Vec<crate::calendar::CalendarEvent> = events
        .iter()
        .filter(|e| e.kind == crate::calendar::EventKind::Launch)
        .cloned()
        .collect();
    let chart = (!lines.is_empty()).then(|| {
        line_chart(
            &lines,
            Some((100.0, "Today's fleet")),
            &launches,
            "Instances needed, % of today's",
            "",
        )
    });
    let currency = catalog.default_currency();
    let money = |v: f64| rounded_money(v, &currency);
    let short = capacity::short_regions(plans);
    let tiles = vec![
        Tile {
            id: "tile-short",
            label: "Regions running short".to_string(),
            value: format!("{} of {}", short.len(), plans.len()),
            note: match capacity::first_short(plans) {
                Some((region, day)) => format!("first: {region} on {}", short_date(day)),
                None => "none in the horizon".to_string(),
            },
            note_class: if short.is_empty() { "down" } else { "up" },
        },
        Tile {
            id: "tile-extra-cost",
            label: format!("Extra cost, next {} days", policy.horizon_days),
            value: money(capacity::extra_cost(plans)),
            note: "instance-days above today's fleet × measured cost per instance-day".to_string(),
            note_class: "",
        },
    ];
    let rows = plans
        .iter()
        .map(|p| RegionRow {
            region: p.region.clone(),
            current: format!("{:.0}", p.current_instances),
            per_instance: format!("{:.0}", p.players_per_instance),
            peak_players: thousands(p.peak_players_forecast),
            peak_day: p.peak_day.map(short_date).unwrap_or_default(),
            required: format!("{:.0}", p.required_instances),
            required_upper: format!("{:.0}", p.required_instances_upper80),
            short_on: p
                .short_on
                .map(short_date)
                .unwrap_or_else(|| "—".to_string()),
            short: p.short_on.is_some(),
            extra_cost: money(p.extra_cost),
        })
        .collect();
    let page = CapacityPage {
        layout: Layout::new("Capacity plan", "capacity", catalog, viewer),
        target: format!("{:.0}", policy.target_utilisation * 100.0),
        launch_buffer: format!("{:.0}", policy.launch_buffer * 100.0),
        horizon: policy.horizon_days,
        tiles,
        rows,
        skipped: skipped
            .iter()
            .map(|s| (s.region.clone(), s.reason.clone()))
            .collect(),
        currency,
        chart,
        scenarios: crate::db::scenarios::all(conn)?
            .into_iter()
            .map(|s| s.name)
            .collect(),
        scenario: scenario_name,
    };
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, build).await
}
