//! Detection over the stored costs: every platform × region × service,
//! each platform, and the total, daily usage only (purchases, fees,
//! credits, refunds and tax are not usage and are left out), with the
//! calendar's events that apply to each and the feedback given so far;
//! each anomaly stored with the lines that explain it.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::detect::{detect, DetectOptions, Episode, Feedback};
use crate::calendar::CalendarEvent;
use crate::db::anomalies::{self, Anomaly, NewAnomaly};
use crate::db::budgets::ALL;
use crate::db::costs::{date_range, sum_costs, CostFilter, Dim};
use crate::db::resource_costs::{usage_by, ResourceKey};
use crate::db::sql::Granularity;
use crate::db::{DbConnection, DbError};
use crate::money::Micros;

/// Days of history before the first day checked.
pub const HISTORY_DAYS: i64 = 120;
/// Days checked when no start is given.
pub const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, thiserror::Error)]
pub enum AnomalyError {
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AnomalyError {
    fn from(e: diesel::result::Error) -> AnomalyError {
        AnomalyError::Db(e.into())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    /// First day checked (default: 90 days before the last day of data).
    pub from: Option<NaiveDate>,
    pub detect: DetectOptions,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            from: None,
            detect: DetectOptions {
                min_impact: 50.0,
                ..DetectOptions::default()
            },
        }
    }
}

/// A scope anomalies are looked for in: `all` or one value each.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cell {
    pub platform: String,
    pub region: String,
    pub service: String,
}

impl Cell {
    fn applies(&self, e: &CalendarEvent) -> bool {
        (self.platform == ALL || e.platforms.is_empty() || e.platforms.contains(&self.platform))
            && (self.region == ALL || e.regions.is_empty() || e.regions.contains(&self.region))
    }

    fn filter(&self, from: NaiveDate, to: NaiveDate, currency: &str) -> CostFilter {
        let one = |v: &str| {
            if v == ALL {
                Vec::new()
            } else {
                vec![v.to_string()]
            }
        };
        CostFilter {
            platforms: one(&self.platform),
            regions: one(&self.region),
            services: one(&self.service),
            charge_categories: vec!["Usage".to_string()],
            ..CostFilter::new(from, to, currency)
        }
    }
}

/// Finds the anomalies from `options.from` to the last day of data in
/// `currency`, stores them (replacing those nobody reviewed) and returns
/// how many were stored.
pub fn run(
    conn: &mut DbConnection,
    currency: &str,
    options: &RunOptions,
) -> Result<usize, AnomalyError> {
    let Some((first, last)) = date_range(conn)? else {
        return Ok(0);
    };
    let from = options
        .from
        .unwrap_or(last - Duration::days(DEFAULT_DAYS - 1))
        .max(first);
    let history_from = (from - Duration::days(HISTORY_DAYS)).max(first);
    let sums = sum_costs(
        conn,
        &Cell {
            platform: ALL.into(),
            region: ALL.into(),
            service: ALL.into(),
        }
        .filter(history_from, last, currency),
        Some(Granularity::Day),
        &[Dim::Platform, Dim::Region, Dim::Service],
    )?;
    let mut cells: BTreeMap<Cell, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for s in &sums {
        let Some(day) = s.period else { continue };
        let v = s.effective.as_units_f64();
        let (p, r, sv) = (&s.keys[0], &s.keys[1], &s.keys[2]);
        for cell in [
            Cell {
                platform: p.clone(),
                region: r.clone(),
                service: sv.clone(),
            },
            Cell {
                platform: p.clone(),
                region: ALL.into(),
                service: ALL.into(),
            },
            Cell {
                platform: ALL.into(),
                region: ALL.into(),
                service: ALL.into(),
            },
        ] {
            *cells.entry(cell).or_default().entry(day).or_insert(0.0) += v;
        }
    }
    let events = crate::db::calendar::all_events(conn)?;
    let reviewed = anomalies::reviewed(conn)?;
    let now = crate::clock::now();
    let mut found = Vec::new();
    for (cell, days) in &cells {
        let Some(&start) = days.keys().next() else {
            continue;
        };
        let mut series = Vec::new();
        let mut d = start;
        while d <= last {
            series.push((d, days.get(&d).copied().unwrap_or(0.0)));
            d += Duration::days(1);
        }
        let applicable: Vec<CalendarEvent> =
            events.iter().filter(|e| cell.applies(e)).cloned().collect();
        let said: Vec<(NaiveDate, NaiveDate, Feedback)> = reviewed
            .iter()
            .filter(|a| {
                a.platform == cell.platform
                    && a.region == cell.region
                    && a.service == cell.service
                    && a.currency == currency
            })
            .filter_map(|a| Feedback::parse(&a.feedback).map(|f| (a.start_day, a.end_day, f)))
            .collect();
        let (_, episodes) = detect(&series, &applicable, &said, &options.detect);
        for e in episodes.iter().filter(|e| e.end >= from) {
            let explanation = explain(conn, cell, e, currency)?;
            found.push(new_anomaly(cell, e, currency, explanation, now));
        }
    }
    use diesel::Connection;
    let stored = conn.transaction::<_, AnomalyError, _>(|conn| {
        let n = anomalies::replace_unreviewed(conn, from, &found)?;
        crate::runs::record_change(
            conn,
            crate::runs::Source::Anomalies,
            "anomaly detection",
            n,
            now,
            format!("{n} anomalies from {from} to {last} in {currency}"),
        )?;
        Ok(n)
    })?;
    Ok(stored)
}

fn cents(units: f64) -> i64 {
    Micros::from_units_f64(units).round_to_cents() * 10_000
}

fn new_anomaly(
    cell: &Cell,
    e: &Episode,
    currency: &str,
    explanation: Vec<String>,
    now: chrono::NaiveDateTime,
) -> NewAnomaly {
    NewAnomaly {
        platform: cell.platform.clone(),
        region: cell.region.clone(),
        service: cell.service.clone(),
        currency: currency.to_string(),
        start_day: e.start,
        end_day: e.end,
        actual_micros: cents(e.actual),
        expected_micros: cents(e.expected),
        impact_micros: cents(e.impact),
        why: e.why.to_string(),
        event: e.event.clone().unwrap_or_default(),
        explanation: serde_json::to_string(&explanation).unwrap_or_default(),
        feedback: String::new(),
        feedback_by: String::new(),
        detected_at: now,
    }
}

/// The lines that explain an episode: within its scope, the services,
/// regions and accounts whose usage rose most against the 28 days before
/// it (per day), each with its share of the rise.
fn explain(
    conn: &mut DbConnection,
    cell: &Cell,
    e: &Episode,
    currency: &str,
) -> Result<Vec<String>, AnomalyError> {
    let days = (e.end - e.start).num_days() + 1;
    let before_to = e.start - Duration::days(1);
    let before_from = e.start - Duration::days(28);
    let mut out = Vec::new();
    let dims: Vec<(Dim, &str)> = [
        (Dim::Service, "service", cell.service == ALL),
        (Dim::Region, "region", cell.region == ALL),
        (Dim::Account, "account", true),
    ]
    .into_iter()
    .filter(|(_, _, open)| *open)
    .map(|(d, n, _)| (d, n))
    .collect();
    let pairs = |sums: Vec<crate::db::costs::CostSum>| -> Vec<(String, Micros)> {
        sums.into_iter()
            .map(|s| (s.keys[0].clone(), s.effective))
            .collect()
    };
    for (dim, name) in dims {
        let during = sum_costs(conn, &cell.filter(e.start, e.end, currency), None, &[dim])?;
        let before = sum_costs(
            conn,
            &cell.filter(before_from, before_to, currency),
            None,
            &[dim],
        )?;
        out.extend(rise_lines(
            name,
            &pairs(during),
            &pairs(before),
            days,
            currency,
        ));
    }
    // What rose underneath: the resources and usage types of the
    // resource-level bill (files only; Cost Explorer pulls have none).
    let opt = |v: &str| (v != ALL).then(|| v.to_string());
    let (platform, region, service) = (opt(&cell.platform), opt(&cell.region), opt(&cell.service));
    for (key, name) in [
        (ResourceKey::UsageType, "usage"),
        (ResourceKey::Resource, "resource"),
    ] {
        let mut by = |from: NaiveDate, to: NaiveDate| {
            usage_by(
                conn,
                key,
                platform.as_deref(),
                region.as_deref(),
                service.as_deref(),
                currency,
                from,
                to,
                500,
            )
        };
        let during = by(e.start, e.end)?;
        let before = by(before_from, before_to)?;
        out.extend(rise_lines(name, &during, &before, days, currency));
    }
    Ok(out)
}

/// The three keys whose daily cost rose most over the episode's `days`
/// against the 28 days `before`, each with its share of the rise.
fn rise_lines(
    name: &str,
    during: &[(String, Micros)],
    before: &[(String, Micros)],
    days: i64,
    currency: &str,
) -> Vec<String> {
    let mut rises: Vec<(&str, f64)> = during
        .iter()
        .map(|(k, m)| {
            let prior = before
                .iter()
                .find(|(b, _)| b == k)
                .map_or(0.0, |(_, m)| m.as_units_f64() / 28.0);
            (k.as_str(), m.as_units_f64() / days as f64 - prior)
        })
        .filter(|(_, r)| *r > 0.0)
        .collect();
    rises.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total_rise: f64 = rises.iter().map(|r| r.1).sum();
    rises
        .iter()
        .take(3)
        .map(|(k, r)| {
            format!(
                "{name} {k}: +{} a day ({:.0} % of the rise)",
                Micros::from_units_f64(*r).display(currency),
                100.0 * r / total_rise.max(f64::MIN_POSITIVE)
            )
        })
        .collect()
}

/// Stored anomalies overlapping `from..=to`, largest impact first.
pub fn list(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Anomaly>, AnomalyError> {
    Ok(anomalies::between(conn, from, to)?)
}

/// Records feedback on an anomaly and the change as a run.
pub fn feedback(
    conn: &mut DbConnection,
    id: i64,
    verdict: Feedback,
    by: &str,
) -> Result<Anomaly, AnomalyError> {
    use diesel::Connection;
    conn.transaction::<_, AnomalyError, _>(|conn| {
        let a = anomalies::set_feedback(conn, id, verdict.as_str(), by)?
            .ok_or_else(|| AnomalyError::BadInput(format!("there is no anomaly {id}")))?;
        crate::runs::record_change(
            conn,
            crate::runs::Source::Anomalies,
            "anomaly feedback",
            1,
            crate::clock::now(),
            format!("anomaly {id} marked {}", verdict.as_str()),
        )?;
        Ok(a)
    })
}
