//! How each budget of a month stands: spend so far, the forecast to the
//! end of the month and of the quarter, and the day the forecast (or the
//! actual spend) crosses it.
//!
//! The forecast is the calendar-aware daily forecast of the budget's own
//! scope (platform, region, service) on its basis; where a scope has too
//! little history to forecast, the last seven days' run rate.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::period::quarter_of;
use super::BudgetError;
use crate::calendar::CalendarEvent;
use crate::db::budgets::{budgets_between, Budget, ALL};
use crate::db::costs::{date_range, sum_costs, CostFilter};
use crate::db::sql::Granularity;
use crate::db::DbConnection;
use crate::money::Micros;
use crate::report::period::Month;

/// The method of a tag budget no billing line carries the tag of.
pub const NO_TAGGED_LINES: &str = "no tagged lines";

/// Days of history the forecast of a scope is made from.
const HISTORY_DAYS: i64 = 400;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BudgetStatus {
    pub budget: Budget,
    pub label: String,
    /// Spend in the month through `data_through`.
    pub actual: Micros,
    pub data_through: Option<NaiveDate>,
    /// Actual plus the forecast of the month's remaining days.
    pub forecast_month: Micros,
    /// How it was forecast: "forecast" or "run rate".
    pub method: &'static str,
    /// The day spend passes the budget: already (actual) or by forecast.
    pub crosses_on: Option<NaiveDate>,
    /// The actual spend has passed the budget already.
    pub crossed: bool,
    /// The quarter's budgets of the same scope, its actual and forecast.
    pub quarter_budget: Option<Micros>,
    pub quarter_forecast: Micros,
    pub quarter_label: String,
}

impl BudgetStatus {
    pub fn used(&self) -> Option<f64> {
        self.actual.percent_of(self.budget.amount())
    }

    pub fn forecast_used(&self) -> Option<f64> {
        self.forecast_month.percent_of(self.budget.amount())
    }

    pub fn forecast_over(&self) -> bool {
        self.forecast_month > self.budget.amount()
    }
}

/// A scope's daily spend on a basis, and the forecast days after it.
struct ScopeDays {
    actual: BTreeMap<NaiveDate, Micros>,
    forecast: BTreeMap<NaiveDate, f64>,
    method: &'static str,
}

fn scope_days(
    conn: &mut DbConnection,
    b: &Budget,
    last_data: NaiveDate,
    until: NaiveDate,
    events: &[CalendarEvent],
) -> Result<ScopeDays, BudgetError> {
    let one = |v: &str| {
        if v == ALL {
            Vec::new()
        } else {
            vec![v.to_string()]
        }
    };
    let filter = CostFilter {
        platforms: one(&b.platform),
        regions: one(&b.region),
        services: one(&b.service),
        ..CostFilter::new(
            last_data - Duration::days(HISTORY_DAYS - 1),
            last_data,
            &b.currency,
        )
    };
    let billed = b.basis == "billed";
    let mut actual = BTreeMap::new();
    if let Some((key, value)) = b.tag.split_once('=') {
        // A tag's spend is in the resource-level lines of billing files.
        fn opt(v: &str) -> Option<&str> {
            (v != ALL).then_some(v)
        }
        let days = crate::db::resource_costs::tagged_daily(
            conn,
            &crate::db::resource_costs::TagScope {
                key,
                value,
                platform: opt(&b.platform),
                region: opt(&b.region),
                service: opt(&b.service),
                currency: &b.currency,
            },
            filter.from,
            filter.to,
        )?;
        if days.is_empty() {
            return Ok(ScopeDays {
                actual,
                forecast: BTreeMap::new(),
                method: NO_TAGGED_LINES,
            });
        }
        for (day, billed_sum, effective_sum) in days {
            actual.insert(day, if billed { billed_sum } else { effective_sum });
        }
    } else {
        let sums = sum_costs(conn, &filter, Some(Granularity::Day), &[])?;
        for s in sums {
            if let Some(day) = s.period {
                *actual.entry(day).or_insert(Micros::ZERO) +=
                    if billed { s.billed } else { s.effective };
            }
        }
    }
    // A day without a row in the scope spent nothing.
    let first = actual.keys().next().copied().unwrap_or(last_data);
    let mut history: Vec<(NaiveDate, f64)> = Vec::new();
    let mut d = first;
    while d <= last_data {
        history.push((d, actual.get(&d).map_or(0.0, |m| m.as_units_f64())));
        d += Duration::days(1);
    }
    let horizon = (until - last_data).num_days();
    let mut forecast = BTreeMap::new();
    let mut method = "forecast";
    if horizon > 0 {
        let applicable: Vec<CalendarEvent> = events
            .iter()
            .filter(|e| {
                b.platform == ALL || e.platforms.is_empty() || e.platforms.contains(&b.platform)
            })
            .filter(|e| b.region == ALL || e.regions.is_empty() || e.regions.contains(&b.region))
            .cloned()
            .collect();
        match crate::forecast::forecast(
            &history,
            &applicable,
            horizon,
            &crate::forecast::model::ModelOptions::default(),
        ) {
            Ok(f) => {
                for p in f.points {
                    forecast.insert(p.date, p.mean.max(0.0));
                }
            }
            Err(_) => {
                method = "run rate";
                let recent: Vec<f64> = history.iter().rev().take(7).map(|(_, v)| *v).collect();
                let rate = recent.iter().sum::<f64>() / recent.len().max(1) as f64;
                for k in 1..=horizon {
                    forecast.insert(last_data + Duration::days(k), rate);
                }
            }
        }
    }
    Ok(ScopeDays {
        actual,
        forecast,
        method,
    })
}

/// Every budget of `month` in `currency`, how it stands.
pub fn month_status(
    conn: &mut DbConnection,
    month: Month,
    currency: &str,
) -> Result<Vec<BudgetStatus>, BudgetError> {
    month_status_where(conn, month, currency, |_| true)
}

/// The budgets of `month` in `currency` that `keep` keeps, how they stand.
pub fn month_status_where(
    conn: &mut DbConnection,
    month: Month,
    currency: &str,
    keep: impl Fn(&Budget) -> bool,
) -> Result<Vec<BudgetStatus>, BudgetError> {
    let (q_first, q_last) = quarter_of(month.first_day());
    let quarter_budgets = budgets_between(
        conn,
        &Month::of(q_first).to_string(),
        &Month::of(q_last).to_string(),
    )?;
    let mut budgets: Vec<&Budget> = quarter_budgets
        .iter()
        .filter(|b| b.month == month.to_string() && b.currency == currency && keep(b))
        .collect();
    // The total first, then platforms in their usual order.
    budgets.sort_by_key(|b| {
        (
            !b.is_total(),
            crate::dims::platform_order(&b.platform),
            b.region.clone(),
            b.service.clone(),
            b.tag.clone(),
            b.basis.clone(),
        )
    });
    if budgets.is_empty() {
        return Ok(Vec::new());
    }
    let last_data = date_range(conn)?.map(|r| r.1);
    let events = crate::db::calendar::all_events(conn)?;
    let quarter_label = format!(
        "Q{} {}",
        (chrono::Datelike::month(&q_first) - 1) / 3 + 1,
        chrono::Datelike::year(&q_first)
    );
    let mut out = Vec::with_capacity(budgets.len());
    for b in budgets {
        let same_scope: Vec<&Budget> = quarter_budgets
            .iter()
            .filter(|o| {
                o.platform == b.platform
                    && o.region == b.region
                    && o.service == b.service
                    && o.tag == b.tag
                    && o.basis == b.basis
                    && o.currency == b.currency
            })
            .collect();
        let quarter_budget =
            (same_scope.len() == 3).then(|| same_scope.iter().map(|o| o.amount()).sum::<Micros>());
        let days = match last_data {
            Some(last) => Some(scope_days(conn, b, last, q_last, &events)?),
            None => None,
        };
        let status = status_of(b, month, q_first, q_last, last_data, days.as_ref());
        out.push(BudgetStatus {
            quarter_budget,
            quarter_label: quarter_label.clone(),
            ..status
        });
    }
    Ok(out)
}

/// An amount to the cent.
fn cents(units: f64) -> Micros {
    Micros(Micros::from_units_f64(units).round_to_cents() * 10_000)
}

fn status_of(
    b: &Budget,
    month: Month,
    q_first: NaiveDate,
    q_last: NaiveDate,
    last_data: Option<NaiveDate>,
    days: Option<&ScopeDays>,
) -> BudgetStatus {
    let (from, to) = (month.first_day(), month.last_day());
    let mut actual = Micros::ZERO;
    let mut forecast_rest = 0.0;
    let mut running = 0.0;
    let mut crosses_on = None;
    let mut crossed = false;
    let budget = b.amount().as_units_f64();
    let mut quarter_actual = Micros::ZERO;
    let mut quarter_rest = 0.0;
    if let Some(days) = days {
        let mut d = q_first;
        while d <= q_last {
            let in_month = d >= from && d <= to;
            if let Some(a) = days
                .actual
                .get(&d)
                .filter(|_| last_data.is_some_and(|l| d <= l))
            {
                quarter_actual += *a;
                if in_month {
                    actual += *a;
                    running += a.as_units_f64();
                    if crosses_on.is_none() && running > budget {
                        crosses_on = Some(d);
                        crossed = true;
                    }
                }
            } else if let Some(f) = days.forecast.get(&d) {
                quarter_rest += f;
                if in_month {
                    forecast_rest += f;
                    running += f;
                    if crosses_on.is_none() && running > budget {
                        crosses_on = Some(d);
                    }
                }
            }
            d += Duration::days(1);
        }
    }
    BudgetStatus {
        budget: b.clone(),
        label: b.label(),
        actual,
        data_through: last_data.filter(|l| *l >= from).map(|l| l.min(to)),
        forecast_month: actual + cents(forecast_rest),
        method: days.map_or("none", |d| d.method),
        crosses_on,
        crossed,
        quarter_budget: None,
        quarter_forecast: quarter_actual + cents(quarter_rest),
        quarter_label: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(amount: i64) -> Budget {
        Budget {
            id: 1,
            month: "2026-11".into(),
            platform: "PC".into(),
            region: ALL.into(),
            service: ALL.into(),
            tag: String::new(),
            basis: "effective".into(),
            amount_micros: amount * 1_000_000,
            currency: "USD".into(),
            note: String::new(),
        }
    }

    #[test]
    fn the_crossing_day_comes_from_actuals_then_the_forecast() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let month: Month = "2026-11".parse().unwrap();
        let mut actual = BTreeMap::new();
        let mut day = d(11, 1);
        while day <= d(11, 10) {
            actual.insert(day, Micros::from_units(100));
            day += Duration::days(1);
        }
        let mut forecast = BTreeMap::new();
        let mut day = d(11, 11);
        while day <= d(12, 31) {
            forecast.insert(day, 100.0);
            day += Duration::days(1);
        }
        let days = ScopeDays {
            actual,
            forecast,
            method: "forecast",
        };
        // 1,000 spent by the 10th; 100 a day: passes 2,500 on the 26th.
        let s = status_of(
            &budget(2_500),
            month,
            d(10, 1),
            d(12, 31),
            Some(d(11, 10)),
            Some(&days),
        );
        assert_eq!(s.actual, Micros::from_units(1_000));
        assert_eq!(s.forecast_month, Micros::from_units(3_000));
        assert_eq!(s.crosses_on, Some(d(11, 26)));
        assert!(!s.crossed && s.forecast_over());
        // Already past: crossed on the 6th by actual spend.
        let s = status_of(
            &budget(550),
            month,
            d(10, 1),
            d(12, 31),
            Some(d(11, 10)),
            Some(&days),
        );
        assert_eq!(s.crosses_on, Some(d(11, 6)));
        assert!(s.crossed);
        // Within budget: no crossing.
        let s = status_of(
            &budget(5_000),
            month,
            d(10, 1),
            d(12, 31),
            Some(d(11, 10)),
            Some(&days),
        );
        assert_eq!(s.crosses_on, None);
        // The quarter: 1,000 actual plus 51 forecast days of 100 (October had no rows).
        assert_eq!(s.quarter_forecast, Micros::from_units(6_100));
    }
}

/// A month's top-down total and its parts, never mixed: the total budget,
/// the sum of the platform budgets, and the spend of platforms that have
/// no budget of their own (effective cost, one currency).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Parts {
    pub total: Option<Micros>,
    pub platforms_sum: Micros,
    pub platforms_budgeted: usize,
    /// Spend so far of the platforms without a budget.
    pub unbudgeted_actual: Micros,
    /// Every platform (and `unallocated`) without a budget of its own.
    pub unbudgeted_platforms: Vec<String>,
}

impl Parts {
    /// The top-down total less the platform budgets: what the total leaves
    /// for unbudgeted platforms (negative: the parts exceed the total).
    pub fn total_less_parts(&self) -> Option<Micros> {
        self.total.map(|t| t - self.platforms_sum)
    }
}

/// The parts of `month`'s effective-cost budgets in `currency`.
pub fn parts(conn: &mut DbConnection, month: Month, currency: &str) -> Result<Parts, BudgetError> {
    let rows = budgets_between(conn, &month.to_string(), &month.to_string())?;
    let effective: Vec<&Budget> = rows
        .iter()
        .filter(|b| b.currency == currency && b.basis == "effective")
        .collect();
    let total = effective.iter().find(|b| b.is_total()).map(|b| b.amount());
    let platform_budgets: Vec<&&Budget> =
        effective.iter().filter(|b| b.is_platform_only()).collect();
    let budgeted: Vec<&str> = platform_budgets
        .iter()
        .map(|b| b.platform.as_str())
        .collect();
    let spent = sum_costs(
        conn,
        &CostFilter::new(month.first_day(), month.last_day(), currency),
        None,
        &[crate::db::costs::Dim::Platform],
    )?;
    let mut unbudgeted_actual = Micros::ZERO;
    let mut unbudgeted_platforms: Vec<String> = crate::dims::Platform::ALL
        .iter()
        .map(|p| p.as_str().to_string())
        .chain(std::iter::once(crate::dims::UNALLOCATED.to_string()))
        .filter(|p| !budgeted.contains(&p.as_str()))
        .collect();
    for s in &spent {
        let p = &s.keys[0];
        if !budgeted.contains(&p.as_str()) {
            unbudgeted_actual += s.effective;
            if !unbudgeted_platforms.contains(p) {
                unbudgeted_platforms.push(p.clone());
            }
        }
    }
    unbudgeted_platforms.sort_by_key(|p| crate::dims::platform_order(p));
    Ok(Parts {
        total,
        platforms_sum: platform_budgets.iter().map(|b| b.amount()).sum(),
        platforms_budgeted: platform_budgets.len(),
        unbudgeted_actual,
        unbudgeted_platforms,
    })
}
