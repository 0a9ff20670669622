//! `GET /scenarios?horizon=N&target=70&launch_buffer=25`: the stored
//! forecast scenarios side by side with the plan of record: cost, peak
//! players and the capacity each needs, region by region, with a chart of
//! total peak players under each.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::db::DbConnection;
use crate::forecast::capacity;
use crate::forecast::compare::{compare, MonthFigures, Outcome};
use crate::forecast::run::RunError;
use crate::forecast::scenario::{parse_scenario, Scenario};
use crate::money::Micros;
use crate::report::chart::{line_chart, Chart, Line};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::{query_string, rounded_money, short_date, thousands, Layout};
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
    /// The months whose figures differ from the plan of record.
    differs_in: String,
}

struct RegionRow {
    region: String,
    cells: Vec<RegionCell>,
}

/// One region under one outcome: instances needed of those running, the
/// first short day and the extra cost, each on its own line.
struct RegionCell {
    lines: Vec<String>,
    short: bool,
}

/// One month of the horizon under every outcome.
struct MonthRow {
    label: String,
    partial: Option<String>,
    cells: Vec<MonthCell>,
}

struct MonthCell {
    cost: String,
    players: String,
    instances: String,
    extra: String,
    /// Differs from the plan of record by at least 1 % (or an instance).
    differs: bool,
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
    months: Vec<MonthRow>,
    cards: Vec<ScenarioCard>,
    chart: Option<Chart>,
    problem: Option<String>,
    more: usize,
}

pub(super) fn build(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let shared = page.shared;
    let policy = super::capacity::policy_from(params, super::forecast::DEFAULT_HORIZON)?;
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
        months: Vec::new(),
        cards,
        chart: None,
        problem: None,
        more,
    };
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    let key = format!("scenarios|{policy:?}|{}", names.join("|"));
    let comparison = match shared.get_or_compute(&key, || compare(conn, &scenarios, &policy)) {
        Ok(c) => c,
        Err(RunError::Db(e)) => return Err(e.into()),
        Err(e) => {
            page.problem = Some(e.to_string());
            return Ok(Payload::html(page.render()?));
        }
    };
    for (name, problem) in &comparison.failed {
        if let Some(card) = page.cards.iter_mut().find(|c| &c.name == name) {
            card.problem = Some(problem.clone());
        }
    }
    let currency = comparison.currency.as_str();
    let money = |m: Micros| rounded_money(m.as_units_f64(), currency);
    let base_cost = Micros::from_units_f64(comparison.outcomes[0].cost.0);
    page.columns = comparison
        .outcomes
        .iter()
        .map(|o| column(o, horizon, base_cost, &money))
        .collect();
    page.regions = comparison
        .regions()
        .into_iter()
        .map(|region| RegionRow {
            cells: comparison
                .outcomes
                .iter()
                .map(|o| match o.plan_for(&region) {
                    Some(p) => RegionCell {
                        lines: [
                            Some(format!(
                                "{:.0} of {:.0}",
                                p.required_instances, p.current_instances
                            )),
                            p.short_on.map(|d| format!("short on {}", short_date(d))),
                            Some(format!(
                                "{} extra",
                                money(Micros::from_units_f64(p.extra_cost))
                            )),
                        ]
                        .into_iter()
                        .flatten()
                        .collect(),
                        short: p.short_on.is_some(),
                    },
                    None => RegionCell {
                        lines: vec!["—".to_string()],
                        short: false,
                    },
                })
                .collect(),
            region,
        })
        .collect();
    page.months = month_rows(&comparison.outcomes, currency);
    for (k, column) in page.columns.iter_mut().enumerate() {
        column.differs_in = if k == 0 {
            "—".to_string()
        } else {
            let months: Vec<&str> = page
                .months
                .iter()
                .filter(|m| m.cells.get(k).is_some_and(|c| c.differs))
                .map(|m| m.label.as_str())
                .collect();
            if months.is_empty() {
                "no month".to_string()
            } else {
                months.join(", ")
            }
        };
    }
    let lines: Vec<Line> = comparison
        .outcomes
        .iter()
        .map(|o| Line {
            label: outcome_name(o).to_string(),
            points: o.daily_players.clone(),
        })
        .collect();
    page.chart = Some(line_chart(
        &lines,
        None,
        &comparison.calendar,
        "Peak concurrent players",
        "",
    ));
    Ok(Payload::html(page.render()?))
}

/// The horizon month by month under each outcome, cells that differ
/// from the plan of record marked.
fn month_rows(outcomes: &[Outcome], currency: &str) -> Vec<MonthRow> {
    let per_outcome: Vec<Vec<MonthFigures>> = outcomes.iter().map(Outcome::monthly).collect();
    let Some(base) = per_outcome.first() else {
        return Vec::new();
    };
    let compact = |v: f64| crate::money::compact_amount(v, currency);
    let apart = |a: f64, b: f64| (a - b).abs() > 0.01 * b.abs().max(1.0);
    base.iter()
        .enumerate()
        .map(|(i, b)| MonthRow {
            label: b.month.first_day().format("%b %Y").to_string(),
            partial: (!b.whole).then(|| format!("{} of {} days", b.days, b.month.days())),
            cells: per_outcome
                .iter()
                .enumerate()
                .map(|(k, months)| {
                    let Some(m) = months.get(i).filter(|m| m.month == b.month) else {
                        return MonthCell {
                            cost: "—".into(),
                            players: String::new(),
                            instances: String::new(),
                            extra: String::new(),
                            differs: false,
                        };
                    };
                    let delta = m.instances.round() - b.instances.round();
                    MonthCell {
                        cost: compact(m.cost),
                        players: format!("{} peak players", thousands(m.peak_players)),
                        instances: if k == 0 || delta == 0.0 {
                            format!("{} instances", thousands(m.instances))
                        } else {
                            format!(
                                "{} instances ({}{})",
                                thousands(m.instances),
                                if delta > 0.0 { "+" } else { "−" },
                                thousands(delta.abs())
                            )
                        },
                        extra: if m.extra_cost > 0.5 {
                            format!("{} extra", compact(m.extra_cost))
                        } else {
                            String::new()
                        },
                        differs: k > 0
                            && (apart(m.cost, b.cost)
                                || apart(m.peak_players, b.peak_players)
                                || delta != 0.0),
                    }
                })
                .collect(),
        })
        .collect()
}

fn outcome_name(o: &Outcome) -> &str {
    o.scenario.as_deref().unwrap_or("Plan of record")
}

/// One outcome's column: cost against the plan of record, peak players
/// and the capacity it needs.
fn column(
    o: &Outcome,
    horizon: i64,
    base_cost: Micros,
    money: &dyn Fn(Micros) -> String,
) -> Column {
    let short = o.short();
    // Forecast amounts become fixed-point money here, once.
    let amount = Micros::from_units_f64;
    Column {
        name: outcome_name(o).to_string(),
        href: format!(
            "/forecast?{}",
            query_string(&[
                ("metric", "ccu".to_string()),
                ("horizon", horizon.to_string()),
                ("scenario", o.scenario.clone().unwrap_or_default()),
            ])
        ),
        cost: money(amount(o.cost.0)),
        cost_range: format!("{} – {}", money(amount(o.cost.1)), money(amount(o.cost.2))),
        cost_delta: if o.scenario.is_none() {
            "—".to_string()
        } else {
            let d = amount(o.cost.0) - base_cost;
            format!(
                "{}{}",
                if d >= Micros::ZERO { "+" } else { "−" },
                money(d.abs())
            )
        },
        peak_players: thousands(o.peak.0),
        peak_day: o.peak.1.map(short_date).unwrap_or_default(),
        short_regions: format!("{} of {}", short.len(), o.plans.len()),
        first_short: match capacity::first_short(&o.plans) {
            Some((region, day)) => format!("{region} on {}", short_date(day)),
            None => "none".to_string(),
        },
        instances: format!("{:.0}", o.required_instances()),
        extra_cost: money(amount(o.extra_cost())),
        differs_in: String::new(),
    }
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, build).await
}
