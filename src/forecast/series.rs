//! The stored daily series a forecast is made of: cost, peak concurrent
//! players or capacity, for all data or one platform and/or region, and
//! the calendar events that apply to it.

use chrono::{Datelike, NaiveDate};
use diesel::sql_types::{Double, Text};
use diesel::QueryableByName;

use crate::calendar::CalendarEvent;
use crate::db::{DbConnection, DbError, Sql};

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Effective cost per day, in the billing currency.
    Cost,
    /// Peak concurrent players per day (sum of regional peaks).
    Ccu,
    /// Instance-hours per day.
    Capacity,
}

impl Metric {
    pub fn parse(text: &str) -> Option<Metric> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cost" => Some(Metric::Cost),
            "ccu" | "players" | "peak_players" => Some(Metric::Ccu),
            "capacity" | "instance_hours" => Some(Metric::Capacity),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Cost => "cost",
            Metric::Ccu => "ccu",
            Metric::Capacity => "capacity",
        }
    }
}

/// Which series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRequest {
    pub metric: Metric,
    pub platform: Option<String>,
    pub region: Option<String>,
}

#[derive(QueryableByName)]
struct DayValue {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Double)]
    value: f64,
}

#[derive(QueryableByName)]
struct DimDayValue {
    #[diesel(sql_type = Text)]
    platform: String,
    #[diesel(sql_type = Text)]
    region: String,
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Double)]
    value: f64,
}

/// `SELECT [platform, region,] day, value FROM … WHERE …` for a metric,
/// open for more conditions, and the metric's unit.
fn metric_query(
    conn: &mut DbConnection,
    metric: Metric,
    by_dims: bool,
) -> Result<(Sql, String), DbError> {
    let dialect = conn.dialect();
    let dims = if by_dims { "platform, region, " } else { "" };
    let mut sql = Sql::new(dialect);
    let unit = match metric {
        Metric::Cost => {
            let day = dialect.date_text("day");
            // One currency, never a sum of several.
            let currency = crate::currency::reporting(conn)?;
            sql.push(&format!(
                "SELECT {dims}{day} AS day, CAST(SUM(effective_micros) AS DOUBLE PRECISION) / 1000000.0 AS value FROM cost_daily WHERE currency = "
            ))
            .bind_text(&currency);
            currency
        }
        Metric::Ccu => {
            let day = dialect.date_text("day");
            sql.push(&format!(
                "SELECT {dims}{day} AS day, CAST(SUM(peak_concurrent_players) AS DOUBLE PRECISION) AS value FROM player_activity WHERE 1 = 1"
            ));
            "players".to_string()
        }
        Metric::Capacity => {
            let day = dialect.date_text("period_start");
            sql.push(&format!(
                "SELECT {dims}SUBSTR({day}, 1, 10) AS day, CAST(SUM(running_hours) AS DOUBLE PRECISION) AS value FROM utilisation WHERE 1 = 1"
            ));
            "instance-hours".to_string()
        }
    };
    Ok((sql, unit))
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// The history of the series and its unit (a currency, `players` or
/// `instance-hours`).
pub fn load_history(
    conn: &mut DbConnection,
    req: &SeriesRequest,
) -> Result<(Vec<(NaiveDate, f64)>, String), DbError> {
    let (mut sql, unit) = metric_query(conn, req.metric, false)?;
    if let Some(p) = &req.platform {
        sql.push(" AND platform = ").bind_text(p);
    }
    if let Some(r) = &req.region {
        sql.push(" AND region = ").bind_text(r);
    }
    sql.push(" GROUP BY 1 ORDER BY 1");
    let rows: Vec<DayValue> = sql.load(conn)?;
    let history = rows
        .into_iter()
        .filter_map(|r| Some((parse_day(&r.day)?, r.value)))
        .collect();
    Ok((history, unit))
}

/// One daily history per platform × region (the bottom of the forecast
/// hierarchy), and the metric's unit.
pub type BottomSeries = std::collections::BTreeMap<(String, String), Vec<(NaiveDate, f64)>>;

pub fn load_bottom(
    conn: &mut DbConnection,
    metric: Metric,
) -> Result<(BottomSeries, String), DbError> {
    let (mut sql, unit) = metric_query(conn, metric, true)?;
    sql.push(" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
    let rows: Vec<DimDayValue> = sql.load(conn)?;
    let mut out = BottomSeries::new();
    for r in rows {
        if let Some(d) = parse_day(&r.day) {
            out.entry((r.platform, r.region))
                .or_default()
                .push((d, r.value));
        }
    }
    Ok((out, unit))
}

/// Events that apply to the series (all, when it is not one platform or
/// region).
pub fn events_for(events: &[CalendarEvent], req: &SeriesRequest) -> Vec<CalendarEvent> {
    events
        .iter()
        .filter(|e| {
            req.platform
                .as_ref()
                .is_none_or(|p| e.platforms.is_empty() || e.platforms.contains(p))
                && req
                    .region
                    .as_ref()
                    .is_none_or(|r| e.regions.is_empty() || e.regions.contains(r))
        })
        .cloned()
        .collect()
}

/// A forecast point as reported: daily for the first 90 days, then one per
/// calendar month (sums of the daily values; the interval bounds are
/// summed too, which makes monthly intervals conservative).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReportedPoint {
    pub date: NaiveDate,
    /// `day` or `month`.
    pub period: &'static str,
    pub mean: f64,
    pub lower80: f64,
    pub upper80: f64,
    pub lower95: f64,
    pub upper95: f64,
}

/// Daily days this many days ahead are reported one by one.
pub const DAILY_DAYS: usize = 90;

/// How a month is reported beyond the daily days: the sum of its days
/// (cost, instance-hours) or its highest day (peak concurrent players).
pub fn peak_metric(metric: Metric) -> bool {
    metric == Metric::Ccu
}

/// The first `DAILY_DAYS` days one by one, then whole months: each
/// month's total (or highest day) with bands from sample paths.
pub fn reported_points(f: &super::SeriesForecast, peak: bool) -> Vec<ReportedPoint> {
    let daily = f.points.len().min(DAILY_DAYS);
    let mut out: Vec<ReportedPoint> = f.points[..daily]
        .iter()
        .map(|p| ReportedPoint {
            date: p.date,
            period: "day",
            mean: p.mean,
            lower80: p.lower80,
            upper80: p.upper80,
            lower95: p.lower95,
            upper95: p.upper95,
        })
        .collect();
    let months = super::paths::group_bands(&f.points[daily..], f.rho, peak, |d| {
        d.with_day(1).unwrap_or(d)
    });
    out.extend(months.into_iter().map(|(month, b)| ReportedPoint {
        date: month,
        period: "month",
        mean: b.mean,
        lower80: b.lower80,
        upper80: b.upper80,
        lower95: b.lower95,
        upper95: b.upper95,
    }));
    out
}

/// Every point of a weekly or monthly forecast, one row each.
pub fn reported_points_each(f: &super::SeriesForecast) -> Vec<ReportedPoint> {
    f.points
        .iter()
        .map(|p| ReportedPoint {
            date: p.date,
            period: f.frequency.as_str(),
            mean: p.mean,
            lower80: p.lower80,
            upper80: p.upper80,
            lower95: p.lower95,
            upper95: p.upper95,
        })
        .collect()
}

/// One series of a reconciled forecast as JSON: its points (reconciled)
/// and its backtest figures (of its own model).
pub fn node_json(
    metric: Metric,
    unit: &str,
    node: &super::hierarchy::NodeForecast,
) -> serde_json::Value {
    serde_json::json!({
        "metric": metric.as_str(),
        "platform": node.platform,
        "region": node.region,
        "unit": unit,
        "history_days": node.history.len(),
        "learned_event_kinds": node.forecast.learned_kinds,
        "note": node.problem,
        "points": reported_points(&node.forecast, peak_metric(metric)),
        "backtest": node.forecast.backtest,
    })
}

/// The JSON of one series' forecast (a file's series, not reconciled).
pub fn forecast_json(
    req: &SeriesRequest,
    unit: &str,
    f: &super::SeriesForecast,
) -> serde_json::Value {
    serde_json::json!({
        "series": [{
            "metric": req.metric.as_str(),
            "platform": req.platform,
            "region": req.region,
            "unit": unit,
            "learned_event_kinds": f.learned_kinds,
            "points": reported_points(f, peak_metric(req.metric)),
            "backtest": f.backtest,
        }]
    })
}
