//! Month review: platform × region billed and effective cost against the
//! previous month and the budget, with a drill-down to services.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::overview::TimeSeries;
use super::period::Month;
use super::{Amounts, Change, Metric, ReportError};
use crate::db::budgets::{self, budgets_for_month};
use crate::db::costs::{date_range, sum_costs, CostFilter, Dim};
use crate::db::sql::Granularity;
use crate::db::DbConnection;
use crate::dims;
use crate::money::Micros;

#[derive(Clone, Debug, PartialEq)]
pub struct MonthRequest {
    pub month: Month,
    pub currency: String,
    /// Drill-down: services of this platform (and region, if given).
    pub platform: Option<String>,
    pub region: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthLine {
    pub key: String,
    pub current: Amounts,
    pub previous: Amounts,
    /// Change of effective cost.
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlatformMonth {
    pub platform: String,
    pub current: Amounts,
    pub previous: Amounts,
    pub change: Change,
    pub budget: Option<Micros>,
    /// Effective cost as a percentage of the budget.
    pub budget_used: Option<f64>,
    /// Effective cost projected to the whole month at the current run rate.
    pub projected: Micros,
    pub regions: Vec<MonthLine>,
}

impl PlatformMonth {
    pub fn over_budget(&self) -> bool {
        self.budget.map(|b| self.projected > b).unwrap_or(false)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Drill {
    pub platform: String,
    pub region: Option<String>,
    pub services: Vec<MonthLine>,
}

impl Drill {
    /// The drilled scope's cost this month and its effective cost in the
    /// compared range of the previous month.
    pub fn totals(&self) -> (Amounts, Micros) {
        let mut current = Amounts::default();
        let mut previous = Micros::ZERO;
        for s in &self.services {
            current += s.current;
            previous += s.previous.effective;
        }
        (current, previous)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthReview {
    pub month: String,
    pub month_name: String,
    pub previous_month: String,
    pub currency: String,
    /// Last day with data inside the month.
    pub data_through: Option<NaiveDate>,
    /// The month has days after the last day with data.
    pub partial: bool,
    /// The compared range of the previous month (same days when partial).
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    pub platforms: Vec<PlatformMonth>,
    pub total: Amounts,
    pub previous_total: Amounts,
    pub total_change: Change,
    /// The top-down total budget (every platform, region and service).
    pub total_budget: Option<Micros>,
    /// The sum of the platform budgets, when any is set: what the Total
    /// row's budget column adds up to.
    pub platform_budgets: Option<Micros>,
    /// Spend of platforms without a budget of their own.
    pub unbudgeted: Micros,
    pub total_projected: Micros,
    pub drill: Option<Drill>,
    /// Effective cost per day by platform.
    pub daily: TimeSeries,
}

impl MonthReview {
    /// Effective cost as a percentage of the month's budget.
    pub fn budget_used(&self) -> Option<f64> {
        self.total_budget
            .and_then(|b| self.total.effective.percent_of(b))
    }

    /// Platforms whose month, projected at its run rate, ends over their
    /// own budget.
    pub fn platforms_over(&self) -> Vec<&str> {
        self.platforms
            .iter()
            .filter(|p| p.over_budget())
            .map(|p| p.platform.as_str())
            .collect()
    }

    /// Spend of the budgeted platforms as a percentage of their budgets.
    pub fn platform_budgets_used(&self) -> Option<f64> {
        let spent: Micros = self
            .platforms
            .iter()
            .filter(|p| p.budget.is_some())
            .map(|p| p.current.effective)
            .sum();
        self.platform_budgets.and_then(|b| spent.percent_of(b))
    }

    /// The month, projected at its run rate, ends over the budget.
    pub fn projected_over_budget(&self) -> bool {
        self.total_budget
            .map(|b| self.total_projected > b)
            .unwrap_or(false)
    }
}

fn amounts(billed: Micros, effective: Micros) -> Amounts {
    Amounts { billed, effective }
}

pub fn month_review(
    conn: &mut DbConnection,
    req: &MonthRequest,
) -> Result<MonthReview, ReportError> {
    let month = req.month;
    let from = month.first_day();
    let mut to = month.last_day();
    let last_data = date_range(conn)?.map(|r| r.1);
    let partial = matches!(last_data, Some(last) if last >= from && last < to);
    if partial {
        to = last_data.unwrap_or(to);
    }
    let prev = month.prev();
    let prev_from = prev.first_day();
    let prev_to = if partial {
        let same_day = prev_from.with_day(to.day()).unwrap_or(prev.last_day());
        same_day.min(prev.last_day())
    } else {
        prev.last_day()
    };

    let current = sum_costs(
        conn,
        &CostFilter::new(from, to, &req.currency),
        None,
        &[Dim::Platform, Dim::Region],
    )?;
    let previous = sum_costs(
        conn,
        &CostFilter::new(prev_from, prev_to, &req.currency),
        None,
        &[Dim::Platform, Dim::Region],
    )?;
    let mut cells: BTreeMap<(String, String), (Amounts, Amounts)> = BTreeMap::new();
    for s in &current {
        cells
            .entry((s.keys[0].clone(), s.keys[1].clone()))
            .or_default()
            .0 += amounts(s.billed, s.effective);
    }
    for s in &previous {
        cells
            .entry((s.keys[0].clone(), s.keys[1].clone()))
            .or_default()
            .1 += amounts(s.billed, s.effective);
    }

    let budget_rows = budgets_for_month(conn, &month.to_string())?;
    let budget_of = |platform: &str| {
        budget_rows
            .iter()
            .filter(|b| {
                b.platform == platform
                    && b.region == budgets::ALL
                    && b.service == budgets::ALL
                    && b.tag.is_empty()
                    && b.basis == "effective"
                    && b.currency == req.currency
            })
            .map(|b| b.amount())
            .next()
    };
    let elapsed = (to - from).num_days() + 1;
    let project = |m: Micros| {
        if partial && elapsed > 0 {
            Micros((m.0 as f64 * month.days() as f64 / elapsed as f64).round() as i64)
        } else {
            m
        }
    };

    let mut platforms: BTreeMap<String, PlatformMonth> = BTreeMap::new();
    for ((platform, region), (cur, prev)) in cells {
        let entry = platforms
            .entry(platform.clone())
            .or_insert_with(|| PlatformMonth {
                platform: platform.clone(),
                current: Amounts::default(),
                previous: Amounts::default(),
                change: Change::between(Micros::ZERO, Micros::ZERO),
                budget: budget_of(&platform),
                budget_used: None,
                projected: Micros::ZERO,
                regions: Vec::new(),
            });
        entry.current += cur;
        entry.previous += prev;
        entry.regions.push(MonthLine {
            key: region,
            current: cur,
            previous: prev,
            change: Change::between(cur.effective, prev.effective),
        });
    }
    let mut platforms: Vec<PlatformMonth> = platforms
        .into_values()
        .map(|mut p| {
            p.change = Change::between(p.current.effective, p.previous.effective);
            p.projected = project(p.current.effective);
            p.budget_used = p.budget.and_then(|b| p.current.effective.percent_of(b));
            p.regions
                .sort_by_key(|r| std::cmp::Reverse(r.current.effective));
            p
        })
        .collect();
    platforms.sort_by_key(|p| dims::platform_order(&p.platform));

    let mut total = Amounts::default();
    let mut previous_total = Amounts::default();
    for p in &platforms {
        total += p.current;
        previous_total += p.previous;
    }

    let drill = match &req.platform {
        None => None,
        Some(platform) => {
            let filter = |from, to| CostFilter {
                platforms: vec![platform.clone()],
                regions: req.region.iter().cloned().collect(),
                ..CostFilter::new(from, to, &req.currency)
            };
            let cur = sum_costs(conn, &filter(from, to), None, &[Dim::Service])?;
            let prev = sum_costs(conn, &filter(prev_from, prev_to), None, &[Dim::Service])?;
            let mut lines: BTreeMap<String, (Amounts, Amounts)> = BTreeMap::new();
            for s in &cur {
                lines.entry(s.keys[0].clone()).or_default().0 += amounts(s.billed, s.effective);
            }
            for s in &prev {
                lines.entry(s.keys[0].clone()).or_default().1 += amounts(s.billed, s.effective);
            }
            let mut services: Vec<MonthLine> = lines
                .into_iter()
                .map(|(key, (c, p))| MonthLine {
                    key,
                    change: Change::between(c.effective, p.effective),
                    current: c,
                    previous: p,
                })
                .collect();
            services.sort_by_key(|s| std::cmp::Reverse(s.current.effective));
            Some(Drill {
                platform: platform.clone(),
                region: req.region.clone(),
                services,
            })
        }
    };

    let daily_sums = sum_costs(
        conn,
        &CostFilter::new(from, to, &req.currency),
        Some(Granularity::Day),
        &[Dim::Platform],
    )?;
    let mut daily =
        TimeSeries::from_sums(&daily_sums, Metric::Effective, Granularity::Day, from, to);
    daily.series.sort_by_key(|s| dims::platform_order(&s.key));

    let total_budget = budget_of(budgets::ALL);
    let budgeted: Vec<&PlatformMonth> = platforms.iter().filter(|p| p.budget.is_some()).collect();
    let platform_budgets =
        (!budgeted.is_empty()).then(|| budgeted.iter().filter_map(|p| p.budget).sum());
    let unbudgeted = platforms
        .iter()
        .filter(|p| p.budget.is_none())
        .map(|p| p.current.effective)
        .sum();
    Ok(MonthReview {
        month: month.to_string(),
        month_name: month.long_name(),
        previous_month: prev.to_string(),
        currency: req.currency.clone(),
        data_through: last_data
            .filter(|d| *d >= from)
            .map(|d| d.min(month.last_day())),
        partial,
        previous_from: prev_from,
        previous_to: prev_to,
        total_change: Change::between(total.effective, previous_total.effective),
        total_projected: project(total.effective),
        total,
        previous_total,
        total_budget,
        platform_budgets,
        unbudgeted,
        platforms,
        drill,
        daily,
    })
}
