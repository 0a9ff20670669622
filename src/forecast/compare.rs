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
use crate::report::period::Month;

/// One scenario's figures over the horizon (or the plan of record's).
pub struct Outcome {
    /// The scenario's name, `None` for the plan of record.
    pub scenario: Option<String>,
    /// Total cost over the horizon: mean and the 80 % band of the total
    /// (from sample paths, as on the Forecast page).
    pub cost: (f64, f64, f64),
    /// The highest daily peak of players and its day.
    pub peak: (f64, Option<NaiveDate>),
    pub daily_players: Vec<(NaiveDate, f64)>,
    /// Daily cost (mean), for the month-by-month view.
    pub daily_cost: Vec<(NaiveDate, f64)>,
    pub plans: Vec<RegionPlan>,
}

/// One calendar month of an outcome's horizon.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthFigures {
    pub month: Month,
    /// Days of the month inside the horizon; `whole` when all of them.
    pub days: u32,
    pub whole: bool,
    pub cost: f64,
    /// The month's highest daily peak of players (all regions).
    pub peak_players: f64,
    /// The month's highest daily sum of instances needed over the regions.
    pub instances: f64,
    /// Instances running today, summed over the planned regions.
    pub current_instances: f64,
    /// Instance-days above today's fleet in the month, at each region's
    /// cost per instance-day (the horizon's extra cost, split by month).
    pub extra_cost: f64,
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

    /// The horizon month by month: where scenarios differ shows up in
    /// the month it happens, not only at the horizon's peak.
    pub fn monthly(&self) -> Vec<MonthFigures> {
        use std::collections::BTreeMap;
        let current: f64 = self.plans.iter().map(|p| p.current_instances).sum();
        // Every series covers the same horizon: the days of each month come
        // from the players' forecast.
        let mut months: BTreeMap<Month, MonthFigures> = BTreeMap::new();
        for (day, players) in &self.daily_players {
            let month = Month::of(*day);
            let m = months.entry(month).or_insert(MonthFigures {
                month,
                days: 0,
                whole: false,
                cost: 0.0,
                peak_players: 0.0,
                instances: 0.0,
                current_instances: current,
                extra_cost: 0.0,
            });
            m.days += 1;
            m.whole = i64::from(m.days) == month.days();
            m.peak_players = m.peak_players.max(*players);
        }
        for (day, cost) in &self.daily_cost {
            if let Some(m) = months.get_mut(&Month::of(*day)) {
                m.cost += cost;
            }
        }
        let mut instances_by_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for p in &self.plans {
            for (day, required) in &p.daily_required {
                *instances_by_day.entry(*day).or_default() += required;
                if let Some(m) = months.get_mut(&Month::of(*day)) {
                    m.extra_cost +=
                        (required - p.current_instances).max(0.0) * p.cost_per_instance_day;
                }
            }
        }
        for (day, instances) in instances_by_day {
            if let Some(m) = months.get_mut(&Month::of(day)) {
                m.instances = m.instances.max(instances);
            }
        }
        months.into_values().collect()
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
        // The horizon's total and its 80 % band from sample paths, as the
        // Forecast page gives it (daily bounds do not add up).
        cost: cost
            .hierarchy
            .find(None, None)
            .map(|n| {
                let band = n.forecast.total(n.forecast.points.len());
                (band.mean, band.lower80, band.upper80)
            })
            .unwrap_or((0.0, 0.0, 0.0)),
        peak,
        daily_players: players.iter().map(|p| (p.date, p.mean)).collect(),
        daily_cost: total(&cost.hierarchy)
            .iter()
            .map(|p| (p.date, p.mean))
            .collect(),
        plans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_horizon_month_by_month_sums_cost_and_splits_the_extra_cost() {
        // 30 Jan to 2 Mar: two days of January, all of February, one of March.
        let days: Vec<NaiveDate> = (0..32)
            .map(|i| day("2027-01-30") + chrono::Duration::days(i))
            .collect();
        let plan = RegionPlan {
            region: "us-east-1".into(),
            current_instances: 10.0,
            players_per_instance: 100.0,
            peak_players_forecast: 1_500.0,
            peak_day: Some(day("2027-02-14")),
            required_instances: 15.0,
            required_instances_upper80: 17.0,
            short_on: Some(day("2027-02-14")),
            cost_per_instance_day: 24.0,
            extra_cost: 5.0 * 24.0,
            daily_required: days
                .iter()
                .map(|d| (*d, if *d == day("2027-02-14") { 15.0 } else { 8.0 }))
                .collect(),
        };
        let o = Outcome {
            scenario: None,
            cost: (0.0, 0.0, 0.0),
            peak: (1_500.0, Some(day("2027-02-14"))),
            daily_players: days.iter().map(|d| (*d, 800.0)).collect(),
            daily_cost: days.iter().map(|d| (*d, 100.0)).collect(),
            plans: vec![plan],
        };
        let months = o.monthly();
        assert_eq!(months.len(), 3);
        assert_eq!((months[0].days, months[0].whole), (2, false));
        assert_eq!((months[1].days, months[1].whole), (28, true));
        assert_eq!((months[2].days, months[2].whole), (2, false));
        assert_eq!(months[1].cost, 2_800.0);
        assert_eq!(months[1].instances, 15.0);
        assert_eq!(months[0].instances, 8.0);
        // Only February needs more than today's ten: 5 instance-days.
        assert_eq!(months[1].extra_cost, 120.0);
        let split: f64 = months.iter().map(|m| m.extra_cost).sum();
        assert_eq!(split, o.extra_cost());
    }
}
