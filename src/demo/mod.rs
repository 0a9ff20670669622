//! `finops demo`: a deterministic, believable data set for one online game
//! on six platforms and eight AWS regions, shaped by the demo marketing
//! calendar in `forecasts/demo-calendar.toml`.

mod costs;
mod demand;
mod model;
mod noise;
mod utilisation;

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use diesel::Connection;

use crate::calendar::{self, CalendarEvent};
use crate::db::activity::{self, NewActivity};
use crate::db::budgets::{self, NewBudget};
use crate::db::costs::{self as cost_store, NewCost};
use crate::db::ingest_runs::NewIngestRun;
use crate::db::utilisation::{self as util_store, NewUtilisation};
use crate::db::{self, DbConnection, DbError};
use crate::dims::{Platform, UNALLOCATED};

use demand::{Demand, DemandModel};
use noise::Noise;

/// The demo marketing calendar, built into the binary so the demo works
/// from any directory.
pub const DEMO_CALENDAR: &str = include_str!("../../forecasts/demo-calendar.toml");
pub const DEMO_CALENDAR_FILE: &str = "demo-calendar.toml";

/// The demo's forecast scenarios (`forecasts/scenarios/`), built in too.
pub const DEMO_SCENARIOS: [(&str, &str); 3] = [
    (
        "expansion-slips.toml",
        include_str!("../../forecasts/scenarios/expansion-slips.toml"),
    ),
    (
        "bigger-expansion.toml",
        include_str!("../../forecasts/scenarios/bigger-expansion.toml"),
    ),
    (
        "middle-east-region.toml",
        include_str!("../../forecasts/scenarios/middle-east-region.toml"),
    ),
];
pub const SOURCE: &str = costs::SOURCE;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    pub seed: u64,
    /// Whole months of history before the month `end` falls in (that month
    /// is included up to `end`).
    pub months: u32,
    /// Last day of data.
    pub end: NaiveDate,
}

impl DemoOptions {
    pub fn default_end(today: NaiveDate) -> NaiveDate {
        today.pred_opt().unwrap_or(today)
    }

    /// First day of data: `months` whole months before `end`'s month, or
    /// exactly `months` months when `end` is a month's last day.
    pub fn start(&self) -> NaiveDate {
        let month_start = self.end.with_day(1).unwrap_or(self.end);
        let months_back = if is_month_end(self.end) {
            self.months.saturating_sub(1)
        } else {
            self.months
        };
        month_start
            .checked_sub_months(Months::new(months_back))
            .unwrap_or(month_start)
    }
}

fn is_month_end(day: NaiveDate) -> bool {
    day.succ_opt().map(|d| d.day() == 1).unwrap_or(true)
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("--months must be between 1 and 120, got {0}")]
    Months(u32),
    #[error("the demo calendar is invalid: {0}")]
    Calendar(#[from] calendar::CalendarError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for DemoError {
    fn from(e: diesel::result::Error) -> DemoError {
        DemoError::Db(DbError::Query(e))
    }
}

/// Everything the demo writes.
pub struct DemoData {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub costs: Vec<NewCost>,
    pub activity: Vec<NewActivity>,
    pub utilisation: Vec<NewUtilisation>,
    pub budgets: Vec<NewBudget>,
    pub events: Vec<CalendarEvent>,
}

/// Generates the demo in memory. Same options, same data, on any machine.
pub fn generate(opts: &DemoOptions) -> Result<DemoData, DemoError> {
    if opts.months == 0 || opts.months > 120 {
        return Err(DemoError::Months(opts.months));
    }
    let events = calendar::parse_calendar(DEMO_CALENDAR_FILE, DEMO_CALENDAR)?;
    let noise = Noise::new(opts.seed);
    let model = DemandModel::new(noise, &events);
    let start = opts.start();
    let end = opts.end;

    let mut costs = Vec::new();
    let mut activity_rows = Vec::new();
    let mut demand_by_day: Vec<[[Demand; 8]; 6]> = Vec::new();
    let mut day = start;
    while day <= end {
        let mut demand = [[Demand::default(); 8]; 6];
        for (pi, &p) in Platform::ALL.iter().enumerate() {
            for (r, (region, _)) in model::REGIONS.iter().enumerate() {
                let d = model.demand(p, r, day);
                demand[pi][r] = d;
                if d.peak_players > 0.0 {
                    activity_rows.push(NewActivity {
                        day,
                        platform: p.as_str().to_string(),
                        region: region.to_string(),
                        peak_concurrent_players: d.peak_players as i64,
                        player_hours: d.player_hours,
                        source: SOURCE.to_string(),
                        ingest_run_id: None,
                    });
                }
            }
        }
        costs.extend(costs::day_rows(&noise, &model, day, &demand));
        demand_by_day.push(demand);
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }

    let baseline = |pi: usize, r: usize| {
        let p = Platform::ALL[pi];
        model::BASE_PEAK_PLAYERS * model::platform_share(p) * model::region_share(p)[r]
    };
    let demand_index = |r: usize, p: Option<Platform>, day: NaiveDate| -> f64 {
        let i = (day - start)
            .num_days()
            .clamp(0, demand_by_day.len() as i64 - 1) as usize;
        let today = &demand_by_day[i];
        match p {
            Some(p) => {
                let pi = Platform::ALL.iter().position(|q| *q == p).unwrap_or(0);
                let b = baseline(pi, r);
                if b > 0.0 {
                    today[pi][r].peak_players / b
                } else {
                    1.0
                }
            }
            None => {
                let now: f64 = (0..6).map(|pi| today[pi][r].peak_players).sum();
                let base: f64 = (0..6).map(|pi| baseline(pi, r)).sum();
                now / base
            }
        }
    };
    let utilisation = utilisation::rows(opts.seed, start, end, &demand_index);
    let budgets = budgets_from(&costs, opts.seed, end);

    Ok(DemoData {
        start,
        end,
        costs,
        activity: activity_rows,
        utilisation,
        budgets,
        events,
    })
}

/// The demo studio's Savings Plans as a commitments inventory.
pub fn demo_commitments() -> Vec<db::commitments::Commitment> {
    model::savings_plans()
        .into_iter()
        .map(|p| db::commitments::Commitment {
            commitment_id: format!("sp-demo-{}", p.start.format("%Y%m%d")),
            kind: "compute_sp".to_string(),
            region: String::new(),
            family: String::new(),
            instance_type: String::new(),
            instance_count: 0,
            hourly_commitment_micros: p.hourly_commitment,
            term_years: 1,
            payment: if p.upfront_share > 0.0 {
                "partial"
            } else {
                "no"
            }
            .to_string(),
            start_date: p.start,
            end_date: p.end,
            source: SOURCE.to_string(),
        })
        .collect()
}

/// Monthly budgets per platform and in total: the plan finance would have
/// set, close to what was spent but not equal to it (some months over).
fn budgets_from(costs: &[NewCost], seed: u64, end: NaiveDate) -> Vec<NewBudget> {
    let noise = Noise::new(seed ^ 0x6275_6467);
    let mut by_month: BTreeMap<(String, String), i64> = BTreeMap::new();
    for c in costs {
        let month = c.billing_period.clone();
        if c.platform != UNALLOCATED {
            *by_month
                .entry((month.clone(), c.platform.clone()))
                .or_default() += c.effective_micros;
        }
        *by_month
            .entry((month, budgets::ALL.to_string()))
            .or_default() += c.effective_micros;
    }
    let current_month = format!("{:04}-{:02}", end.year(), end.month());
    let partial = !is_month_end(end);
    let mut out = Vec::new();
    let months: Vec<String> = {
        let mut m: Vec<String> = by_month.keys().map(|(m, _)| m.clone()).collect();
        m.dedup();
        m
    };
    for (i, month) in months.iter().enumerate() {
        for scope in Platform::ALL
            .iter()
            .map(|p| p.as_str().to_string())
            .chain(std::iter::once(budgets::ALL.to_string()))
        {
            // A partial month is budgeted from the month before it.
            let basis_month = if partial && *month == current_month && i > 0 {
                &months[i - 1]
            } else {
                month
            };
            let Some(actual) = by_month.get(&(basis_month.clone(), scope.clone())) else {
                continue;
            };
            let n = (i as i64) * 16 + scope.len() as i64;
            let plan = 1.03 + 0.055 * noise.normal(&format!("budget/{scope}"), n);
            let amount = (*actual as f64 * plan / 1e9).round() as i64 * 1_000_000_000;
            out.push(NewBudget::platform(
                month,
                &scope,
                crate::money::Micros(amount.max(0)),
                "USD",
            ));
        }
    }
    // The next quarter is budgeted too, from the last whole month with a
    // little growth: what finance sets ahead.
    let last_whole = months
        .iter()
        .rev()
        .find(|m| !(partial && **m == current_month))
        .cloned();
    if let Some(base) = last_whole {
        let mut month = crate::report::period::Month::of(end);
        for k in 1..=3 {
            month = month.next();
            for scope in Platform::ALL
                .iter()
                .map(|p| p.as_str().to_string())
                .chain(std::iter::once(budgets::ALL.to_string()))
            {
                let Some(actual) = by_month.get(&(base.clone(), scope.clone())) else {
                    continue;
                };
                let plan = 1.02 + 0.01 * k as f64;
                let amount = (*actual as f64 * plan / 1e9).round() as i64 * 1_000_000_000;
                out.push(NewBudget::platform(
                    &month.to_string(),
                    &scope,
                    crate::money::Micros(amount.max(0)),
                    "USD",
                ));
            }
        }
    }
    out
}

/// What a demo load wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub cost_rows: usize,
    pub activity_rows: usize,
    pub utilisation_rows: usize,
    pub budgets: usize,
    pub events: usize,
}

/// Writes the demo in one transaction, replacing any earlier demo data
/// (imported data from other sources is kept). `progress(done, total)` is
/// called as rows are written.
pub fn load(
    conn: &mut DbConnection,
    data: &DemoData,
    opts: &DemoOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DemoSummary, DemoError> {
    let total = data.costs.len() + data.activity.len() + data.utilisation.len();
    let started_at = crate::clock::now();
    conn.transaction::<_, DemoError, _>(|conn| {
        cost_store::delete_source(conn, SOURCE)?;
        activity::delete_source(conn, SOURCE)?;
        util_store::delete_source(conn, SOURCE)?;
        let mut done = 0;
        for chunk in data.costs.chunks(20_000) {
            done += cost_store::insert_costs(conn, chunk)?;
            progress(done, total);
        }
        for chunk in data.activity.chunks(20_000) {
            done += activity::insert_activity(conn, chunk)?;
            progress(done, total);
        }
        for chunk in data.utilisation.chunks(20_000) {
            done += util_store::insert_utilisation(conn, chunk)?;
            progress(done, total);
        }
        budgets::replace_budgets(conn, &data.budgets)?;
        db::calendar::replace_source(conn, DEMO_CALENDAR_FILE, &data.events)?;
        db::commitments::replace_source(conn, SOURCE, &demo_commitments())?;
        for (file, text) in DEMO_SCENARIOS {
            // Checked by a unit test; a bad built-in file is skipped.
            if let Ok(s) = crate::forecast::scenario::parse_scenario(file, text) {
                db::scenarios::save(conn, &s.name, file, text)?;
            }
        }
        crate::runs::record(
            conn,
            &NewIngestRun {
                source: SOURCE.to_string(),
                file_name: format!(
                    "finops demo --seed {} --months {} --end {}",
                    opts.seed, opts.months, opts.end
                ),
                file_hash: String::new(),
                billing_period: format!("{}..{}", data.start, data.end),
                rows_read: total as i64,
                rows_kept: total as i64,
                rows_rejected: 0,
                status: crate::runs::Status::Ok.as_str().to_string(),
                message: format!(
                    "{} cost rows, {} activity rows, {} utilisation rows",
                    data.costs.len(),
                    data.activity.len(),
                    data.utilisation.len()
                ),
                started_at,
                finished_at: Some(crate::clock::now()),
            },
        )?;
        Ok(())
    })?;
    db::analyze(conn)?;
    Ok(DemoSummary {
        start: data.start,
        end: data.end,
        cost_rows: data.costs.len(),
        activity_rows: data.activity.len(),
        utilisation_rows: data.utilisation.len(),
        budgets: data.budgets.len(),
        events: data.events.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(months: u32) -> DemoOptions {
        DemoOptions {
            seed: 42,
            months,
            end: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        }
    }

    #[test]
    fn built_in_scenarios_are_valid_and_name_calendar_events() {
        let events = calendar::parse_calendar(DEMO_CALENDAR_FILE, DEMO_CALENDAR).unwrap();
        for (file, text) in DEMO_SCENARIOS {
            let s = crate::forecast::scenario::parse_scenario(file, text).unwrap();
            s.apply_to_events(&events).unwrap();
        }
    }

    #[test]
    fn window_covers_whole_months() {
        assert_eq!(
            opts(24).start(),
            NaiveDate::from_ymd_opt(2024, 11, 1).unwrap()
        );
        let partial = DemoOptions {
            end: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            ..opts(24)
        };
        assert_eq!(
            partial.start(),
            NaiveDate::from_ymd_opt(2024, 11, 1).unwrap()
        );
    }

    #[test]
    fn is_deterministic() {
        let a = generate(&opts(2)).unwrap();
        let b = generate(&opts(2)).unwrap();
        assert_eq!(a.costs, b.costs);
        assert_eq!(a.activity, b.activity);
        assert_eq!(a.utilisation, b.utilisation);
        assert_eq!(a.budgets, b.budgets);
    }

    #[test]
    fn keys_are_unique() {
        let data = generate(&opts(3)).unwrap();
        let mut keys: Vec<_> = data
            .costs
            .iter()
            .map(|c| {
                (
                    c.day,
                    c.billing_period.clone(),
                    c.account_id.clone(),
                    c.platform.clone(),
                    c.region.clone(),
                    c.service.clone(),
                    c.charge_category.clone(),
                )
            })
            .collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    #[test]
    fn savings_plan_billed_equals_effective_over_each_day_without_upfront() {
        // Inside the first plan's term (no upfront), each day's billed and
        // effective totals agree; on the second plan's first day billed
        // carries the upfront payment.
        let data = generate(&DemoOptions {
            seed: 1,
            months: 1,
            end: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        })
        .unwrap();
        let mut per_day: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
        for c in &data.costs {
            let e = per_day.entry(c.day).or_default();
            e.0 += c.billed_micros;
            e.1 += c.effective_micros;
        }
        let jan10 = per_day[&NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()];
        assert_eq!(jan10.0, jan10.1);
        let jan15 = per_day[&NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()];
        assert!(
            jan15.0 > jan15.1 + 500_000_000_000,
            "upfront billed on day one"
        );
    }

    #[test]
    fn has_unallocated_spend_credits_and_all_platforms() {
        let data = generate(&opts(24)).unwrap();
        let total: i64 = data.costs.iter().map(|c| c.effective_micros).sum();
        let unallocated: i64 = data
            .costs
            .iter()
            .filter(|c| c.platform == UNALLOCATED)
            .map(|c| c.effective_micros)
            .sum();
        let share = unallocated as f64 / total as f64;
        assert!((0.01..0.12).contains(&share), "unallocated share {share}");
        assert!(data.costs.iter().any(|c| c.charge_category == "Credit"));
        assert!(data.costs.iter().any(|c| c.charge_category == "Purchase"));
        for p in Platform::ALL {
            assert!(data.costs.iter().any(|c| c.platform == p.as_str()), "{p}");
        }
        let resources: std::collections::HashSet<_> = data
            .utilisation
            .iter()
            .map(|u| u.resource_id.clone())
            .collect();
        assert!(resources.len() >= 200, "{} instances", resources.len());
        assert!(
            data.utilisation.iter().any(|u| u.cpu_max < 1.0),
            "some idle"
        );
    }
}
