//! Scenarios side by side with the plan of record: for each, the cost
//! forecast over the horizon, the peak of concurrent players and the
//! capacity every region needs under the capacity policy.

use chrono::NaiveDate;

use super::capacity::{self, Policy, RegionPlan};
use super::hierarchy::Hierarchy;
use super::run::{self, Inputs, RunError};
use super::scenario::Scenario;
use super::series::Metric;
use super::Point;
use crate::db::DbConnection;

/// One scenario's figures over the horizon (or the plan of record's).
pub struct Outcome {
    /// The scenario's name, `None` for the plan of record.
    pub scenario: Option<String>,
    /// Total cost: mean and the sums of the 80 % bounds.
    pub cost: (f64, f64, f64),
    /// The highest daily peak of players and its day.
    pub peak: (f64, Option<NaiveDate>),
    pub daily_players: Vec<(NaiveDate, f64)>,
    pub plans: Vec<RegionPlan>,
}

impl Outcome {
    /// Regions that run out of capacity inside the horizon.
    pub fn short(&self) -> Vec<&RegionPlan> {
        capacity::short_regions(&self.plans)
    }

    pub fn required_instances(&self) -> f64 {
        self.plans.iter().map(|p| p.required_instances).sum()
    }

    pub fn extra_cost(&self) -> f64 {
        capacity::extra_cost(&self.plans)
    }

    pub fn plan_for(&self, region: &str) -> Option<&RegionPlan> {
        self.plans.iter().find(|p| p.region == region)
    }
}

/// The plan of record first, then every scenario that could be forecast;
/// `failed` names the others and why.
pub struct Comparison {
    pub outcomes: Vec<Outcome>,
    pub failed: Vec<(String, String)>,
    /// The players' calendar (for the chart's event marks).
    pub calendar: Vec<crate::calendar::CalendarEvent>,
    /// The cost forecasts' currency.
    pub currency: String,
}

impl Comparison {
    /// Every region any outcome plans, sorted.
    pub fn regions(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .outcomes
            .iter()
            .flat_map(|o| o.plans.iter().map(|p| p.region.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Forecasts the plan of record and each scenario. An error of the plan
/// of record is returned; a scenario's own error is listed in `failed`.
pub fn compare(
    conn: &mut DbConnection,
    scenarios: &[Scenario],
    policy: &Policy,
) -> Result<Comparison, RunError> {
    let cost_inputs = run::load_inputs(conn, Metric::Cost)?;
    let ccu_inputs = run::load_inputs(conn, Metric::Ccu)?;
    let mut outcomes = vec![outcome(conn, &cost_inputs, &ccu_inputs, None, policy)?];
    let mut failed = Vec::new();
    for s in scenarios {
        match outcome(conn, &cost_inputs, &ccu_inputs, Some(s), policy) {
            Ok(o) => outcomes.push(o),
            Err(RunError::Db(e)) => return Err(RunError::Db(e)),
            Err(e) => failed.push((s.name.clone(), e.to_string())),
        }
    }
    Ok(Comparison {
        outcomes,
        failed,
        calendar: ccu_inputs.calendar,
        currency: cost_inputs.unit,
    })
}

fn total(h: &Hierarchy) -> Vec<Point> {
    h.find(None, None)
        .map(|n| n.forecast.points.clone())
        .unwrap_or_default()
}

fn outcome(
    conn: &mut DbConnection,
    cost_inputs: &Inputs,
    ccu_inputs: &Inputs,
    scenario: Option<&Scenario>,
    policy: &Policy,
) -> Result<Outcome, RunError> {
    let horizon = policy.horizon_days;
    let cost = run::compute(cost_inputs, horizon, scenario, true)?;
    let ccu = run::compute(ccu_inputs, horizon, scenario, true)?;
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
        scenario: scenario.map(|s| s.name.clone()),
        cost: total(&cost.hierarchy).iter().fold((0.0, 0.0, 0.0), |a, p| {
            (a.0 + p.mean, a.1 + p.lower80, a.2 + p.upper80)
        }),
        peak,
        daily_players: players.iter().map(|p| (p.date, p.mean)).collect(),
        plans,
    })
}
