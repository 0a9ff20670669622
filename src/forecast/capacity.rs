//! The capacity plan: from the forecast of peak concurrent players per
//! region and a headroom policy, the instances each region needs, the day
//! it runs short of what runs today, and what the plan costs.
//!
//! Players per instance are measured, not assumed: over the last 28 days
//! of data, each day's peak players divided by the game-server instances
//! running (instances with a player platform; all instances where none
//! has one) and their busy-hour CPU (the day's p95, or the maximum where
//! there is no p95): players an instance would carry at 100 % CPU. The
//! median of those days is used. Required instances on a day are
//! peak players ÷ (players per instance × target utilisation); during a
//! launch the target is divided by (1 + launch buffer).

use chrono::NaiveDate;
use diesel::sql_types::{Double, Text};
use diesel::QueryableByName;

use super::hierarchy::{Hierarchy, NodeForecast};
use super::series::{self, Metric, SeriesRequest};
use crate::calendar::{CalendarEvent, EventKind};
use crate::db::{DbConnection, DbError, Sql};

/// The headroom policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Fraction of an instance's CPU the plan fills at peak (0.7: 70 %).
    pub target_utilisation: f64,
    /// Extra headroom during launches (0.25: a quarter more capacity).
    pub launch_buffer: f64,
    pub horizon_days: i64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            target_utilisation: 0.7,
            launch_buffer: 0.25,
            horizon_days: 120,
        }
    }
}

/// What the plan says for one region.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RegionPlan {
    pub region: String,
    /// Instances running on average over the last 7 days of data.
    pub current_instances: f64,
    /// Measured players per instance at 100 % CPU.
    pub players_per_instance: f64,
    pub peak_players_forecast: f64,
    pub peak_day: Option<NaiveDate>,
    /// Instances needed on the peak day (mean forecast; upper 80 % bound).
    pub required_instances: f64,
    pub required_instances_upper80: f64,
    /// First day the forecast needs more than runs today.
    pub short_on: Option<NaiveDate>,
    /// Cost of one instance-day, measured (compute cost ÷ instance-days).
    pub cost_per_instance_day: f64,
    /// Cost of the extra instance-days the plan adds over the horizon.
    pub extra_cost: f64,
    /// Daily required instances (mean), for the chart.
    pub daily_required: Vec<(NaiveDate, f64)>,
}

/// Errors that keep a region out of the plan, said per region.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Skipped {
    pub region: String,
    pub reason: String,
}

#[derive(QueryableByName)]
struct DayFleet {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Double)]
    instances: f64,
    #[diesel(sql_type = Double)]
    cpu_peak: f64,
}

#[derive(QueryableByName)]
struct Amount {
    #[diesel(sql_type = Double)]
    value: f64,
}

fn fleet(conn: &mut DbConnection, region: &str) -> Result<Vec<(NaiveDate, f64, f64)>, DbError> {
    let servers = fleet_of(conn, region, true)?;
    if servers.is_empty() {
        fleet_of(conn, region, false)
    } else {
        Ok(servers)
    }
}

fn fleet_of(
    conn: &mut DbConnection,
    region: &str,
    game_servers: bool,
) -> Result<Vec<(NaiveDate, f64, f64)>, DbError> {
    let dialect = conn.dialect();
    let day = dialect.date_text("period_start");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT SUBSTR({day}, 1, 10) AS day, \
         CAST(SUM(running_hours) AS DOUBLE PRECISION) / 24.0 AS instances, \
         CAST(SUM(COALESCE(cpu_p95, cpu_max) * running_hours) / NULLIF(SUM(running_hours), 0) AS DOUBLE PRECISION) AS cpu_peak \
         FROM utilisation WHERE region = "
    ))
    .bind_text(region);
    if game_servers {
        sql.push(" AND platform NOT IN ('shared', 'unallocated', '')");
    }
    sql.push(" GROUP BY 1 ORDER BY 1");
    let rows: Vec<DayFleet> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                NaiveDate::parse_from_str(r.day.get(..10)?, "%Y-%m-%d").ok()?,
                r.instances,
                r.cpu_peak,
            ))
        })
        .collect())
}

fn compute_cost(
    conn: &mut DbConnection,
    region: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<f64, DbError> {
    // One currency: the reporting one (never a sum of several).
    let currency = crate::currency::reporting(conn)?;
    let mut sql = Sql::new(conn.dialect());
    sql.push(
        "SELECT COALESCE(CAST(SUM(effective_micros) AS DOUBLE PRECISION), 0) / 1000000.0 AS value FROM cost_daily \
         WHERE (service LIKE '%Compute%' OR service LIKE '%GameLift%' OR service LIKE '%EC2%') AND currency = ",
    )
    .bind_text(&currency)
    .push(" AND region = ")
    .bind_text(region)
    .push(" AND day >= ")
    .bind_date(from)
    .push(" AND day <= ")
    .bind_date(to);
    let rows: Vec<Amount> = sql.load(conn)?;
    Ok(rows.first().map(|r| r.value).unwrap_or(0.0))
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite() && *x > 0.0);
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// Required instances for `players` on `day`, under the policy.
pub fn required(
    players: f64,
    per_instance: f64,
    day: NaiveDate,
    launches: &[&CalendarEvent],
    policy: &Policy,
) -> f64 {
    let launch = launches.iter().any(|e| day >= e.start && day <= e.end);
    let target = if launch {
        policy.target_utilisation / (1.0 + policy.launch_buffer)
    } else {
        policy.target_utilisation
    };
    // A hair below the exact quotient, so 100.000000001 is 100 instances.
    (players / (per_instance * target.max(0.01)) - 1e-9).ceil()
}

/// What the fleet of a region measured over the last weeks of data.
struct Measured {
    current: f64,
    per_instance: f64,
    cost_per_instance_day: f64,
}

fn measure(
    conn: &mut DbConnection,
    region: &str,
    players: &[(NaiveDate, f64)],
) -> Result<Result<Measured, String>, DbError> {
    let fleet = fleet(conn, region)?;
    let (Some(last_fleet), Some(last_players)) =
        (fleet.last().map(|f| f.0), players.last().map(|p| p.0))
    else {
        return Ok(Err("no utilisation or no player activity".to_string()));
    };
    let recent: Vec<&(NaiveDate, f64, f64)> = fleet
        .iter()
        .filter(|f| f.0 > last_fleet - chrono::Duration::days(7))
        .collect();
    let current = recent.iter().map(|f| f.1).sum::<f64>() / recent.len().max(1) as f64;
    let window_from = last_fleet.min(last_players) - chrono::Duration::days(28);
    let by_day: std::collections::HashMap<NaiveDate, f64> = players.iter().cloned().collect();
    let ratios: Vec<f64> = fleet
        .iter()
        .filter(|f| f.0 > window_from)
        .filter_map(|(d, instances, cpu)| {
            let p = by_day.get(d)?;
            Some(p / (instances * (cpu / 100.0)))
        })
        .collect();
    let Some(per_instance) = median(ratios) else {
        return Ok(Err(
            "no day with both utilisation and player activity in the last 28 days".to_string(),
        ));
    };
    let cost_days = 28;
    let cost = compute_cost(
        conn,
        region,
        last_fleet - chrono::Duration::days(cost_days - 1),
        last_fleet,
    )?;
    let instance_days: f64 = fleet
        .iter()
        .filter(|f| f.0 > last_fleet - chrono::Duration::days(cost_days))
        .map(|f| f.1)
        .sum();
    Ok(Ok(Measured {
        current,
        per_instance,
        cost_per_instance_day: if instance_days > 0.0 {
            cost / instance_days
        } else {
            0.0
        },
    }))
}

/// Plans every region of the reconciled forecast of peak concurrent
/// players (`ccu`, possibly with a scenario applied). A region without a
/// fleet yet (a scenario's new region) is planned from the median players
/// per instance and instance-day cost of the measured regions, from zero
/// instances.
/// The regions that run short inside the horizon.
pub fn short_regions(plans: &[RegionPlan]) -> Vec<&RegionPlan> {
    plans.iter().filter(|p| p.short_on.is_some()).collect()
}

/// The region that runs short first as planned ("REGION on DATE").
pub fn first_short(plans: &[RegionPlan]) -> Option<(&str, NaiveDate)> {
    plans
        .iter()
        .find_map(|p| p.short_on.map(|d| (p.region.as_str(), d)))
}

/// What the instances above today's fleet cost over the horizon.
pub fn extra_cost(plans: &[RegionPlan]) -> f64 {
    plans.iter().map(|p| p.extra_cost).sum()
}

pub fn plan(
    conn: &mut DbConnection,
    ccu: &Hierarchy,
    events: &[CalendarEvent],
    policy: &Policy,
) -> Result<(Vec<RegionPlan>, Vec<Skipped>), DbError> {
    let regions: Vec<&NodeForecast> = ccu
        .nodes
        .iter()
        .filter(|n| n.platform.is_none() && n.region.is_some())
        .collect();
    let mut measured: Vec<(&NodeForecast, Option<Measured>)> = Vec::new();
    let mut skipped = Vec::new();
    for node in regions {
        let region = node.region.clone().unwrap_or_default();
        if node.history.is_empty() {
            measured.push((node, None));
            continue;
        }
        match measure(conn, &region, &node.history)? {
            Ok(m) => measured.push((node, Some(m))),
            Err(reason) => skipped.push(Skipped { region, reason }),
        }
    }
    let fallback_per_instance = median(
        measured
            .iter()
            .filter_map(|m| m.1.as_ref().map(|m| m.per_instance))
            .collect(),
    );
    let fallback_cost = median(
        measured
            .iter()
            .filter_map(|m| m.1.as_ref().map(|m| m.cost_per_instance_day))
            .collect(),
    )
    .unwrap_or(0.0);
    let mut plans = Vec::new();
    for (node, m) in measured {
        let region = node.region.clone().unwrap_or_default();
        let (current, per_instance, per_day) = match (m, fallback_per_instance) {
            (Some(m), _) => (m.current, m.per_instance, m.cost_per_instance_day),
            (None, Some(per)) => (0.0, per, fallback_cost),
            (None, None) => {
                skipped.push(Skipped {
                    region,
                    reason: "a new region, and no measured region to size it from".to_string(),
                });
                continue;
            }
        };
        let req = SeriesRequest {
            metric: Metric::Ccu,
            platform: None,
            region: Some(region.clone()),
        };
        let region_events = series::events_for(events, &req);
        let launches: Vec<&CalendarEvent> = region_events
            .iter()
            .filter(|e| e.kind == EventKind::Launch)
            .collect();
        let daily: Vec<(NaiveDate, f64, f64, f64)> = node
            .forecast
            .points
            .iter()
            .take(policy.horizon_days.max(0) as usize)
            .map(|p| {
                (
                    p.date,
                    p.mean,
                    required(p.mean, per_instance, p.date, &launches, policy),
                    required(p.upper80, per_instance, p.date, &launches, policy),
                )
            })
            .collect();
        let peak =
            daily
                .iter()
                .cloned()
                .fold(
                    None,
                    |best: Option<(NaiveDate, f64, f64, f64)>, d| match best {
                        Some(b) if b.2 >= d.2 => Some(b),
                        _ => Some(d),
                    },
                );
        let short_on = daily.iter().find(|d| d.2 > current.ceil()).map(|d| d.0);
        let extra: f64 = daily.iter().map(|d| (d.2 - current).max(0.0)).sum::<f64>() * per_day;
        plans.push(RegionPlan {
            region,
            current_instances: current,
            players_per_instance: per_instance,
            peak_players_forecast: peak.map(|p| p.1).unwrap_or(0.0),
            peak_day: peak.map(|p| p.0),
            required_instances: peak.map(|p| p.2).unwrap_or(0.0),
            required_instances_upper80: daily.iter().map(|d| d.3).fold(0.0, f64::max),
            short_on,
            cost_per_instance_day: per_day,
            extra_cost: extra,
            daily_required: daily.iter().map(|d| (d.0, d.2)).collect(),
        });
    }
    plans.sort_by(|a, b| match (a.short_on, b.short_on) {
        (Some(x), Some(y)) => x.cmp(&y).then(a.region.cmp(&b.region)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.region.cmp(&b.region),
    });
    Ok((plans, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launches_get_the_extra_buffer() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
        let launch = CalendarEvent {
            id: None,
            name: "L".into(),
            kind: EventKind::Launch,
            start: day,
            end: day,
            platforms: vec![],
            regions: vec![],
            expected_uplift: None,
            ramp_days: None,
            notes: String::new(),
            source: "t".into(),
        };
        let policy = Policy::default();
        // 7,000 players, 100 per instance at 100 % CPU, 70 % target: 100.
        assert_eq!(
            required(
                7000.0,
                100.0,
                day - chrono::Duration::days(1),
                &[&launch],
                &policy
            ),
            100.0
        );
        // During the launch: 70 % / 1.25 = 56 % target: 125.
        assert_eq!(required(7000.0, 100.0, day, &[&launch], &policy), 125.0);
    }
}
