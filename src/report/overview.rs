//! Overview: spend for a period by platform and region, the trend stacked
//! by platform, top movers against the previous period, the unallocated
//! share and the cost per player-hour.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::period::previous_range;
use super::{Amounts, Change, Metric, ReportError};
use crate::db::activity;
use crate::db::costs::{sum_costs, CostFilter, CostSum, Dim};
use crate::db::sql::Granularity;
use crate::db::DbConnection;
use crate::dims::{self, UNALLOCATED};
use crate::money::Micros;

#[derive(Clone, Debug, PartialEq)]
pub struct OverviewRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub metric: Metric,
    pub platforms: Vec<String>,
    pub regions: Vec<String>,
}

/// One line of a breakdown, with the previous period for comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakdownLine {
    pub key: String,
    pub current: Amounts,
    pub previous: Amounts,
    /// Change of the chosen metric.
    pub change: Change,
    /// Share of the period's total (chosen metric), percent.
    pub share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mover {
    pub platform: String,
    /// The regions where this platform's service moved beyond the overall
    /// trend, largest first ("us-east-1, eu-west-1 and 3 more").
    pub region: String,
    pub service: String,
    pub current: Micros,
    pub previous: Micros,
    pub change: Change,
    /// The change beyond what the overall trend explains: current minus
    /// previous scaled by the total's own change.
    pub beyond_trend: Micros,
}

/// Most movers listed.
pub const MAX_MOVERS: usize = 10;

type LineKey = (String, String, String);

/// Top movers told once per story: every platform × region × service
/// line is measured against the overall trend (its previous cost scaled
/// by the total's change), lines of one platform and service are grouped
/// across regions, and the groups that moved most beyond the trend come
/// first. When everything fell 7 % with a shorter month, the list shows
/// what fell more or less than that, not the ten biggest lines each down
/// 7 %.
pub fn grouped_movers(
    current: &BTreeMap<LineKey, Amounts>,
    previous: &BTreeMap<LineKey, Amounts>,
    metric: Metric,
    total: Amounts,
    previous_total: Amounts,
) -> Vec<Mover> {
    let (now_total, before_total) = (total.get(metric), previous_total.get(metric));
    let trend = if before_total.is_zero() {
        1.0
    } else {
        now_total.0 as f64 / before_total.0 as f64
    };
    struct Group {
        current: Micros,
        previous: Micros,
        beyond: f64,
        regions: Vec<(String, f64)>,
    }
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    let keys: std::collections::BTreeSet<&LineKey> =
        current.keys().chain(previous.keys()).collect();
    for k in keys {
        let cur = current.get(k).copied().unwrap_or_default().get(metric);
        let prev = previous.get(k).copied().unwrap_or_default().get(metric);
        let beyond = cur.0 as f64 - prev.0 as f64 * trend;
        let g = groups.entry((k.0.clone(), k.2.clone())).or_insert(Group {
            current: Micros::ZERO,
            previous: Micros::ZERO,
            beyond: 0.0,
            regions: Vec::new(),
        });
        g.current += cur;
        g.previous += prev;
        g.beyond += beyond;
        g.regions.push((k.1.clone(), beyond));
    }
    let mut movers: Vec<Mover> = groups
        .into_iter()
        .filter(|(_, g)| Micros(g.beyond.round() as i64).round_to_cents() != 0)
        .map(|((platform, service), mut g)| {
            // The regions that moved the group's way, most first.
            let sign = g.beyond.signum();
            g.regions.retain(|(_, b)| b * sign > 0.0);
            g.regions
                .sort_by(|a, b| (b.1 * sign).total_cmp(&(a.1 * sign)));
            let names: Vec<&str> = g.regions.iter().map(|(r, _)| r.as_str()).collect();
            let region = match names.len() {
                0 => String::new(),
                1..=2 => names.join(", "),
                n => format!("{}, {} and {} more", names[0], names[1], n - 2),
            };
            Mover {
                platform,
                region,
                service,
                current: g.current,
                previous: g.previous,
                change: Change::between(g.current, g.previous),
                beyond_trend: Micros(g.beyond.round() as i64),
            }
        })
        .collect();
    movers.sort_by_key(|m| std::cmp::Reverse(m.beyond_trend.abs()));
    movers.truncate(MAX_MOVERS);
    movers
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitCost {
    pub platform: String,
    pub cost: Micros,
    pub player_hours: f64,
    pub peak_players: i64,
    /// Cost per 1,000 player-hours.
    pub per_thousand_hours: Option<Micros>,
    pub previous_per_thousand_hours: Option<Micros>,
}

/// Values per period for a few series (one per key), periods contiguous.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeSeries {
    pub granularity: Granularity,
    pub periods: Vec<NaiveDate>,
    pub series: Vec<SeriesValues>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesValues {
    pub key: String,
    pub values: Vec<Micros>,
}

impl TimeSeries {
    /// Builds series from sums grouped by period and one key, filling
    /// periods without data with zero.
    pub fn from_sums(
        sums: &[CostSum],
        metric: Metric,
        granularity: Granularity,
        from: NaiveDate,
        to: NaiveDate,
    ) -> TimeSeries {
        let periods = bucket_starts(granularity, from, to);
        let index: BTreeMap<NaiveDate, usize> =
            periods.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let mut by_key: BTreeMap<String, Vec<Micros>> = BTreeMap::new();
        for s in sums {
            let (Some(period), Some(key)) = (s.period, s.keys.first()) else {
                continue;
            };
            let Some(&i) = index.get(&period) else {
                continue;
            };
            let values = by_key
                .entry(key.clone())
                .or_insert_with(|| vec![Micros::ZERO; periods.len()]);
            values[i] += Amounts {
                billed: s.billed,
                effective: s.effective,
            }
            .get(metric);
        }
        let series = by_key
            .into_iter()
            .map(|(key, values)| SeriesValues { key, values })
            .collect();
        TimeSeries {
            granularity,
            periods,
            series,
        }
    }

    pub fn totals(&self) -> Vec<Micros> {
        (0..self.periods.len())
            .map(|i| self.series.iter().map(|s| s.values[i]).sum())
            .collect()
    }
}

/// First day of every bucket overlapping `[from, to]`.
pub fn bucket_starts(granularity: Granularity, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = match granularity {
        Granularity::Day => from,
        Granularity::Week => {
            from - Duration::days(i64::from(from.weekday().num_days_from_monday()))
        }
        Granularity::Month => from.with_day(1).unwrap_or(from),
    };
    while d <= to {
        out.push(d);
        d = match granularity {
            Granularity::Day => d + Duration::days(1),
            Granularity::Week => d + Duration::days(7),
            Granularity::Month => d
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX),
        };
    }
    out
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    pub currency: String,
    pub metric: Metric,
    pub total: Amounts,
    pub previous_total: Amounts,
    pub total_change: Change,
    pub platforms: Vec<BreakdownLine>,
    pub regions: Vec<BreakdownLine>,
    pub movers: Vec<Mover>,
    pub unallocated: Amounts,
    pub unallocated_share: Option<f64>,
    pub unit_costs: Vec<UnitCost>,
    /// Weekly cost by platform over the year up to the period's end.
    pub trend: TimeSeries,
}

/// Above this share of unallocated cost the overview flags it.
pub const UNALLOCATED_HIGH_PERCENT: f64 = 10.0;

impl Overview {
    /// Cost per 1,000 player-hours over every platform with activity.
    pub fn overall_cost_per_thousand(&self) -> Option<Micros> {
        let cost: Micros = self.unit_costs.iter().map(|u| u.cost).sum();
        per_thousand(cost, self.player_hours())
    }

    /// Player-hours over every platform with activity.
    pub fn player_hours(&self) -> f64 {
        self.unit_costs.iter().map(|u| u.player_hours).sum()
    }

    /// Too much of the cost has no platform.
    pub fn unallocated_is_high(&self) -> bool {
        self.unallocated_share.unwrap_or(0.0) > UNALLOCATED_HIGH_PERCENT
    }

    /// Nothing in the range.
    pub fn is_empty(&self) -> bool {
        self.total.billed.is_zero() && self.total.effective.is_zero() && self.platforms.is_empty()
    }
}

type Key3 = (String, String, String);

fn sums_by_key3(sums: &[CostSum]) -> BTreeMap<Key3, Amounts> {
    let mut out = BTreeMap::new();
    for s in sums {
        let key = (s.keys[0].clone(), s.keys[1].clone(), s.keys[2].clone());
        *out.entry(key).or_insert_with(Amounts::default) += Amounts {
            billed: s.billed,
            effective: s.effective,
        };
    }
    out
}

fn breakdown(
    current: &BTreeMap<Key3, Amounts>,
    previous: &BTreeMap<Key3, Amounts>,
    key_of: impl Fn(&Key3) -> String,
    metric: Metric,
    total: Micros,
) -> Vec<BreakdownLine> {
    let mut lines: BTreeMap<String, (Amounts, Amounts)> = BTreeMap::new();
    for (k, a) in current {
        lines.entry(key_of(k)).or_default().0 += *a;
    }
    for (k, a) in previous {
        lines.entry(key_of(k)).or_default().1 += *a;
    }
    lines
        .into_iter()
        .map(|(key, (cur, prev))| BreakdownLine {
            key,
            change: Change::between(cur.get(metric), prev.get(metric)),
            share: cur.get(metric).percent_of(total),
            current: cur,
            previous: prev,
        })
        .collect()
}

/// Cost per 1,000 player-hours.
fn per_thousand(cost: Micros, hours: f64) -> Option<Micros> {
    (hours > 0.0).then(|| Micros((cost.0 as f64 * 1000.0 / hours).round() as i64))
}

pub fn overview(conn: &mut DbConnection, req: &OverviewRequest) -> Result<Overview, ReportError> {
    if req.to < req.from {
        return Err(ReportError::BadInput(format!(
            "'to' ({}) is before 'from' ({})",
            req.to, req.from
        )));
    }
    let (prev_from, prev_to) = previous_range(req.from, req.to);
    let dims3 = [Dim::Platform, Dim::Region, Dim::Service];
    let filter = |from, to| CostFilter {
        platforms: req.platforms.clone(),
        regions: req.regions.clone(),
        ..CostFilter::new(from, to, &req.currency)
    };
    let current = sums_by_key3(&sum_costs(conn, &filter(req.from, req.to), None, &dims3)?);
    let previous = sums_by_key3(&sum_costs(conn, &filter(prev_from, prev_to), None, &dims3)?);

    let mut total = Amounts::default();
    current.values().for_each(|a| total += *a);
    let mut previous_total = Amounts::default();
    previous.values().for_each(|a| previous_total += *a);
    let metric = req.metric;

    let mut platforms = breakdown(
        &current,
        &previous,
        |k| k.0.clone(),
        metric,
        total.get(metric),
    );
    platforms.sort_by_key(|l| dims::platform_order(&l.key));
    let mut regions = breakdown(
        &current,
        &previous,
        |k| k.1.clone(),
        metric,
        total.get(metric),
    );
    regions.sort_by_key(|l| std::cmp::Reverse(l.current.get(metric)));

    let movers = grouped_movers(&current, &previous, metric, total, previous_total);

    let unallocated = platforms
        .iter()
        .find(|l| l.key == UNALLOCATED)
        .map(|l| l.current)
        .unwrap_or_default();
    let unallocated_share = unallocated.get(metric).percent_of(total.get(metric));

    let activity_now =
        activity::sum_activity(conn, req.from, req.to, &req.platforms, &req.regions, None)?;
    let activity_before =
        activity::sum_activity(conn, prev_from, prev_to, &req.platforms, &req.regions, None)?;
    let unit_costs = platforms
        .iter()
        .filter(|l| l.key != UNALLOCATED)
        .map(|l| {
            let now = activity_now.iter().find(|a| a.platform == l.key);
            let before = activity_before.iter().find(|a| a.platform == l.key);
            let hours = now.map(|a| a.player_hours).unwrap_or(0.0);
            UnitCost {
                platform: l.key.clone(),
                cost: l.current.get(metric),
                player_hours: hours,
                peak_players: now.map(|a| a.peak_concurrent_players).unwrap_or(0),
                per_thousand_hours: per_thousand(l.current.get(metric), hours),
                previous_per_thousand_hours: before
                    .and_then(|a| per_thousand(l.previous.get(metric), a.player_hours)),
            }
        })
        .collect();

    // A year of complete weeks up to the period's end.
    let trend_to =
        req.to - Duration::days(i64::from((req.to.weekday().num_days_from_monday() + 1) % 7));
    let trend_to = if trend_to < req.from {
        req.to
    } else {
        trend_to
    };
    let trend_from = trend_to - Duration::days(52 * 7 - 1);
    let trend_sums = sum_costs(
        conn,
        &filter(trend_from, trend_to),
        Some(Granularity::Week),
        &[Dim::Platform],
    )?;
    let mut trend =
        TimeSeries::from_sums(&trend_sums, metric, Granularity::Week, trend_from, trend_to);
    trend.series.sort_by_key(|s| dims::platform_order(&s.key));

    Ok(Overview {
        from: req.from,
        to: req.to,
        previous_from: prev_from,
        previous_to: prev_to,
        currency: req.currency.clone(),
        metric,
        total,
        previous_total,
        total_change: Change::between(total.get(metric), previous_total.get(metric)),
        platforms,
        regions,
        movers,
        unallocated,
        unallocated_share,
        unit_costs,
        trend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movers_tell_each_story_once_beyond_the_overall_trend() {
        let key = |p: &str, r: &str, s: &str| (p.to_string(), r.to_string(), s.to_string());
        let cost = |dollars: i64| Amounts {
            billed: Micros::from_units(dollars),
            effective: Micros::from_units(dollars),
        };
        let mut before = BTreeMap::new();
        let mut now = BTreeMap::new();
        // Ten big PC EC2 lines, every one down 10 % with the total...
        for r in 0..10 {
            before.insert(key("PC", &format!("region-{r}"), "EC2"), cost(1_000));
            now.insert(key("PC", &format!("region-{r}"), "EC2"), cost(900));
        }
        // ...and one small line that doubled: the real story.
        before.insert(key("iOS", "us-east-1", "S3"), cost(100));
        now.insert(key("iOS", "us-east-1", "S3"), cost(200));
        let total = |m: &BTreeMap<Key3, Amounts>| {
            let mut t = Amounts::default();
            m.values().for_each(|a| t += *a);
            t
        };
        let movers = grouped_movers(
            &now,
            &before,
            Metric::Effective,
            total(&now),
            total(&before),
        );
        // Two stories: PC's EC2 fell a little more than the total, iOS's S3
        // doubled against it.
        assert_eq!(movers.len(), 2, "{movers:?}");
        let ios = movers.iter().find(|m| m.platform == "iOS").unwrap();
        assert_eq!(ios.service, "S3");
        assert!(ios.beyond_trend > Micros::ZERO);
        // The ten PC lines are one group, not ten rows.
        let pc: Vec<&Mover> = movers.iter().filter(|m| m.platform == "PC").collect();
        assert!(pc.len() <= 1, "{movers:?}");
        if let Some(pc) = pc.first() {
            assert!(pc.region.contains("and 8 more"), "{}", pc.region);
            assert_eq!(pc.previous, Micros::from_units(10_000));
        }
        // What the trend leaves over sums to zero across all groups.
        let all = grouped_movers(
            &now,
            &before,
            Metric::Effective,
            total(&now),
            total(&before),
        );
        let left: i64 = all.iter().map(|m| m.beyond_trend.0).sum();
        assert!(left.abs() < 10, "{left}");
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn buckets_cover_the_range() {
        let w = bucket_starts(Granularity::Week, d("2026-11-04"), d("2026-11-20"));
        assert_eq!(w, vec![d("2026-11-02"), d("2026-11-09"), d("2026-11-16")]);
        let m = bucket_starts(Granularity::Month, d("2026-01-31"), d("2026-03-01"));
        assert_eq!(m, vec![d("2026-01-01"), d("2026-02-01"), d("2026-03-01")]);
        assert_eq!(
            bucket_starts(Granularity::Day, d("2026-01-01"), d("2026-01-03")).len(),
            3
        );
    }

    #[test]
    fn fills_missing_periods_with_zero() {
        let sums = vec![CostSum {
            period: Some(d("2026-01-02")),
            keys: vec!["PC".into()],
            billed: Micros(5),
            effective: Micros(7),
        }];
        let ts = TimeSeries::from_sums(
            &sums,
            Metric::Effective,
            Granularity::Day,
            d("2026-01-01"),
            d("2026-01-03"),
        );
        assert_eq!(ts.series[0].values, vec![Micros(0), Micros(7), Micros(0)]);
        assert_eq!(ts.totals(), vec![Micros(0), Micros(7), Micros(0)]);
    }
}
