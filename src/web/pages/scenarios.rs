//! `GET /scenarios?horizon=N&target=70&launch_buffer=25`: the stored
//! forecast scenarios side by side with the plan of record: cost, peak
//! players and the capacity each needs, region by region, with a chart of
//! total peak players under each.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;

use crate::db::DbConnection;
use crate::forecast::capacity::{self, Policy, RegionPlan};
use crate::forecast::run::{self, RunError};
use crate::forecast::scenario::{parse_scenario, Scenario};
use crate::forecast::series::Metric;
use crate::report::chart::{line_chart, Chart, Line};
use crate::report::Catalog;
use crate::web::errors::{HtmlError, WebError};
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::{query_string, short_date, thousands, Layout, Viewer};
use crate::web::Payload;

pub const PARAMS: [&str; 3] = ["horizon", "target", "launch_buffer"];

/// Scenarios compared at most on one page (each costs two forecasts).
pub const MAX_COMPARED: usize = 5;

/// The stored scenario a request names in `scenario` (empty: none), and
/// its name.
pub fn from_params(
    conn: &mut DbConnection,
    params: &Params,
) -> Result<(String, Option<Scenario>), WebError> {
    match params
        .one("scenario")
        .map_err(WebError::BadRequest)?
        .filter(|s| !s.is_empty())
    {
        None => Ok((String::new(), None)),
        Some(name) => Ok((name.to_string(), Some(load(conn, name)?))),
    }
}

/// A stored scenario by name, parsed.
pub fn load(conn: &mut DbConnection, name: &str) -> Result<Scenario, WebError> {
    let stored = crate::db::scenarios::all(conn)?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            WebError::BadRequest(format!(
                "scenario: no stored scenario is called '{name}' (add one with finops ingest scenario FILE)"
            ))
        })?;
    parse_scenario(&stored.source, &stored.body).map_err(|e| WebError::BadRequest(e.to_string()))
}

struct Column {
    name: String,
    href: String,
    cost: String,
    cost_range: String,
    cost_delta: String,
    peak_players: String,
    peak_day: String,
    short_regions: String,
    first_short: String,
    instances: String,
    extra_cost: String,
}

struct RegionRow {
    region: String,
    cells: Vec<(String, bool)>,
}

struct ScenarioCard {
    name: String,
    source: String,
    description: String,
    changes: Vec<String>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "scenarios.html")]
struct ScenariosPage {
    layout: Layout,
    horizon: i64,
    target: String,
    launch_buffer: String,
    columns: Vec<Column>,
    regions: Vec<RegionRow>,
    cards: Vec<ScenarioCard>,
    chart: Option<Chart>,
    problem: Option<String>,
    more: usize,
}

/// One scenario's figures (or the plan of record's).
struct Outcome {
    cost: (f64, f64, f64),
    peak: (f64, Option<NaiveDate>),
    daily_players: Vec<(NaiveDate, f64)>,
    plans: Vec<RegionPlan>,
}

fn outcome(
    conn: &mut DbConnection,
    cost_inputs: &run::Inputs,
    ccu_inputs: &run::Inputs,
    scenario: Option<&Scenario>,
    policy: &Policy,
) -> Result<Outcome, RunError> {
    let horizon = policy.horizon_days;
    let cost = run::compute(cost_inputs, horizon, scenario, true)?;
    let ccu = run::compute(ccu_inputs, horizon, scenario, true)?;
    let total = |h: &crate::forecast::hierarchy::Hierarchy| {
        h.find(None, None)
            .map(|n| n.forecast.points.clone())
            .unwrap_or_default()
    };
    let cost_points = total(&cost.hierarchy);
    let players = total(&ccu.hierarchy);
    let peak = players.iter().fold((0.0, None), |best, p| {
        if p.mean > best.0 {
            (p.mean, Some(p.date))
        } else {
            best
        }
    });
    let (plans, _) = capacity::plan(conn, &ccu.hierarchy, &ccu.events, policy)?;
    Ok(Outcome {
        cost: cost_points.iter().fold((0.0, 0.0, 0.0), |a, p| {
            (a.0 + p.mean, a.1 + p.lower80, a.2 + p.upper80)
        }),
        peak,
        daily_players: players.iter().map(|p| (p.date, p.mean)).collect(),
        plans,
    })
}

fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    params: &Params,
    viewer: &Viewer,
) -> Result<Payload, WebError> {
    params.allow_only(&PARAMS).map_err(WebError::BadRequest)?;
    let policy = super::capacity::policy_from(params, 180)?;
    let horizon = policy.horizon_days;
    let stored = crate::db::scenarios::all(conn)?;
    let mut cards = Vec::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    for s in &stored {
        match parse_scenario(&s.source, &s.body) {
            Ok(parsed) => {
                cards.push(ScenarioCard {
                    name: parsed.name.clone(),
                    source: s.source.clone(),
                    description: parsed.description.clone(),
                    changes: parsed.changes.iter().map(|c| c.describe()).collect(),
                    problem: None,
                });
                scenarios.push(parsed);
            }
            Err(e) => cards.push(ScenarioCard {
                name: s.name.clone(),
                source: s.source.clone(),
                description: String::new(),
                changes: Vec::new(),
                problem: Some(e.to_string()),
            }),
        }
    }
    let more = scenarios.len().saturating_sub(MAX_COMPARED);
    scenarios.truncate(MAX_COMPARED);
    let mut page = ScenariosPage {
        layout: Layout::new("Scenarios", "scenarios", catalog, viewer),
        horizon,
        target: format!("{:.0}", policy.target_utilisation * 100.0),
        launch_buffer: format!("{:.0}", policy.launch_buffer * 100.0),
        columns: Vec::new(),
        regions: Vec::new(),
        cards,
        chart: None,
        problem: None,
        more,
    };
    let cost_inputs = run::load_inputs(conn, Metric::Cost)?;
    let ccu_inputs = run::load_inputs(conn, Metric::Ccu)?;
    let currency = cost_inputs.unit.clone();
    let money = |v: f64| match crate::money::currency_symbol(&currency) {
        Some(s) => format!("{s}{}", thousands(v)),
        None => format!("{} {currency}", thousands(v)),
    };
    let base = match outcome(conn, &cost_inputs, &ccu_inputs, None, &policy) {
        Ok(o) => o,
        Err(RunError::Db(e)) => return Err(e.into()),
        Err(e) => {
            page.problem = Some(e.to_string());
            return Ok(Payload::html(page.render()?));
        }
    };
    let mut outcomes: Vec<(String, Option<&Scenario>, Outcome)> =
        vec![("Plan of record".to_string(), None, base)];
    for s in &scenarios {
        match outcome(conn, &cost_inputs, &ccu_inputs, Some(s), &policy) {
            Ok(o) => outcomes.push((s.name.clone(), Some(s), o)),
            Err(RunError::Db(e)) => return Err(e.into()),
            Err(e) => {
                if let Some(card) = page.cards.iter_mut().find(|c| c.name == s.name) {
                    card.problem = Some(e.to_string());
                }
            }
        }
    }
    let base_cost = outcomes[0].2.cost.0;
    for (name, scenario, o) in &outcomes {
        let short: Vec<&RegionPlan> = o.plans.iter().filter(|p| p.short_on.is_some()).collect();
        page.columns.push(Column {
            name: name.clone(),
            href: format!(
                "/forecast?{}",
                query_string(&[
                    ("metric", "ccu".to_string()),
                    ("horizon", horizon.to_string()),
                    (
                        "scenario",
                        scenario.map(|s| s.name.clone()).unwrap_or_default()
                    ),
                ])
            ),
            cost: money(o.cost.0),
            cost_range: format!("{} – {}", money(o.cost.1), money(o.cost.2)),
            cost_delta: if scenario.is_none() {
                "—".to_string()
            } else {
                let d = o.cost.0 - base_cost;
                format!("{}{}", if d >= 0.0 { "+" } else { "−" }, money(d.abs()))
            },
            peak_players: thousands(o.peak.0),
            peak_day: o.peak.1.map(short_date).unwrap_or_default(),
            short_regions: format!("{} of {}", short.len(), o.plans.len()),
            first_short: short
                .first()
                .and_then(|p| {
                    p.short_on
                        .map(|d| format!("{} on {}", p.region, short_date(d)))
                })
                .unwrap_or_else(|| "none".to_string()),
            instances: format!(
                "{:.0}",
                o.plans.iter().map(|p| p.required_instances).sum::<f64>()
            ),
            extra_cost: money(o.plans.iter().map(|p| p.extra_cost).sum()),
        });
    }
    let mut region_names: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.2.plans.iter().map(|p| p.region.clone()))
        .collect();
    region_names.sort();
    region_names.dedup();
    page.regions = region_names
        .into_iter()
        .map(|region| RegionRow {
            cells: outcomes
                .iter()
                .map(|o| match o.2.plans.iter().find(|p| p.region == region) {
                    Some(p) => (
                        format!(
                            "{:.0} of {:.0}{}, {} extra",
                            p.required_instances,
                            p.current_instances,
                            p.short_on
                                .map(|d| format!(", short on {}", short_date(d)))
                                .unwrap_or_default(),
                            money(p.extra_cost)
                        ),
                        p.short_on.is_some(),
                    ),
                    None => ("—".to_string(), false),
                })
                .collect(),
            region,
        })
        .collect();
    let lines: Vec<Line> = outcomes
        .iter()
        .map(|(name, _, o)| Line {
            label: name.clone(),
            points: o.daily_players.clone(),
        })
        .collect();
    page.chart = Some(line_chart(
        &lines,
        None,
        &ccu_inputs.calendar,
        "Peak concurrent players",
        "",
    ));
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, build).await
}
