//! Costs explorer: any date range, filters on platform, region and service,
//! a time granularity and up to two group-by dimensions. The page and
//! `/api/v1/costs` share it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::overview::{bucket_starts, SeriesValues, TimeSeries};
use super::{Amounts, Metric, ReportError};
use crate::db::costs::{sum_costs, CostFilter, CostSum, Dim};
use crate::db::sql::Granularity;
use crate::db::DbConnection;
use crate::dims;
use crate::money::Micros;

/// At most this many group-by dimensions.
pub const MAX_GROUP_BY: usize = 2;
/// At most this many time buckets in one answer.
pub const MAX_PERIODS: usize = 1200;

#[derive(Clone, Debug, PartialEq)]
pub struct ExplorerRequest {
    pub filter: CostFilter,
    pub granularity: Granularity,
    pub group_by: Vec<Dim>,
    pub metric: Metric,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupLine {
    pub keys: Vec<String>,
    pub total: Amounts,
    /// Share of the total of the chosen metric, percent.
    pub share: Option<f64>,
    /// Chosen metric per period.
    pub values: Vec<Micros>,
}

impl GroupLine {
    pub fn label(&self) -> String {
        if self.keys.is_empty() {
            "Total".to_string()
        } else {
            self.keys
                .iter()
                .map(|k| dims::service_label(k))
                .collect::<Vec<_>>()
                .join(" · ")
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explorer {
    pub periods: Vec<NaiveDate>,
    /// Whether each period is cut by the range (a partial week or month).
    pub partial: Vec<bool>,
    /// Sums per period and group, as queried (for the API).
    pub rows: Vec<CostSum>,
    /// Groups, largest first.
    pub groups: Vec<GroupLine>,
    pub total: Amounts,
    pub period_totals: Vec<Micros>,
}

impl Explorer {
    /// The largest `max` groups as series, the rest folded into "Other".
    pub fn chart_series(&self, granularity: Granularity, max: usize) -> TimeSeries {
        let mut series: Vec<SeriesValues> = self
            .groups
            .iter()
            .take(max)
            .map(|g| SeriesValues {
                key: g.label(),
                values: g.values.clone(),
            })
            .collect();
        // Platforms stack in their usual order, whatever their size.
        if series
            .iter()
            .all(|s| s.key.parse::<dims::Platform>().is_ok() || s.key == dims::UNALLOCATED)
        {
            series.sort_by_key(|s| dims::platform_order(&s.key));
        }
        if self.groups.len() > max {
            let mut other = vec![Micros::ZERO; self.periods.len()];
            for g in &self.groups[max..] {
                for (o, v) in other.iter_mut().zip(&g.values) {
                    *o += *v;
                }
            }
            series.push(SeriesValues {
                key: format!("Other ({} more)", self.groups.len() - max),
                values: other,
            });
        }
        TimeSeries {
            granularity,
            periods: self.periods.clone(),
            series,
        }
    }
}

/// Last day of the bucket starting on `start`.
pub fn bucket_end(granularity: Granularity, start: NaiveDate) -> NaiveDate {
    match granularity {
        Granularity::Day => start,
        Granularity::Week => start + chrono::Duration::days(6),
        Granularity::Month => start
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(start),
    }
}

pub fn validate(req: &ExplorerRequest) -> Result<(), ReportError> {
    let f = &req.filter;
    if f.to < f.from {
        return Err(ReportError::BadInput(format!(
            "'to' ({}) is before 'from' ({})",
            f.to, f.from
        )));
    }
    if req.group_by.len() > MAX_GROUP_BY {
        return Err(ReportError::BadInput(format!(
            "'group_by' takes at most {MAX_GROUP_BY} dimensions, got {}",
            req.group_by.len()
        )));
    }
    let periods = bucket_starts(req.granularity, f.from, f.to).len();
    if periods > MAX_PERIODS {
        return Err(ReportError::BadInput(format!(
            "{} to {} by {} is {periods} periods; at most {MAX_PERIODS}: choose a coarser granularity or a shorter range",
            f.from,
            f.to,
            req.granularity.as_str()
        )));
    }
    Ok(())
}

pub fn explore(conn: &mut DbConnection, req: &ExplorerRequest) -> Result<Explorer, ReportError> {
    validate(req)?;
    let rows = sum_costs(conn, &req.filter, Some(req.granularity), &req.group_by)?;
    let periods = bucket_starts(req.granularity, req.filter.from, req.filter.to);
    let index: BTreeMap<NaiveDate, usize> =
        periods.iter().enumerate().map(|(i, d)| (*d, i)).collect();

    let mut groups: BTreeMap<Vec<String>, (Amounts, Vec<Micros>)> = BTreeMap::new();
    let mut total = Amounts::default();
    let mut period_totals = vec![Micros::ZERO; periods.len()];
    for r in &rows {
        let a = Amounts {
            billed: r.billed,
            effective: r.effective,
        };
        total += a;
        let entry = groups
            .entry(r.keys.clone())
            .or_insert_with(|| (Amounts::default(), vec![Micros::ZERO; periods.len()]));
        entry.0 += a;
        if let Some(&i) = r.period.as_ref().and_then(|p| index.get(p)) {
            entry.1[i] += a.get(req.metric);
            period_totals[i] += a.get(req.metric);
        }
    }
    let grand = total.get(req.metric);
    let mut groups: Vec<GroupLine> = groups
        .into_iter()
        .map(|(keys, (t, values))| GroupLine {
            share: t.get(req.metric).percent_of(grand),
            keys,
            total: t,
            values,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.total
            .get(req.metric)
            .cmp(&a.total.get(req.metric))
            .then_with(|| a.keys.cmp(&b.keys))
    });
    let partial = periods
        .iter()
        .map(|start| {
            let end = bucket_end(req.granularity, *start);
            *start < req.filter.from || end > req.filter.to
        })
        .collect();
    Ok(Explorer {
        partial,
        periods,
        rows,
        groups,
        total,
        period_totals,
    })
}
