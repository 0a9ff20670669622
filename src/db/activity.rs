//! Player activity per day × platform × region: the demand driver and the
//! denominator of unit costs.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

use super::schema::player_activity;
use super::sql::{Granularity, Sql};
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = player_activity)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewActivity {
    pub day: NaiveDate,
    pub platform: String,
    pub region: String,
    pub peak_concurrent_players: i64,
    pub player_hours: f64,
    pub source: String,
    pub ingest_run_id: Option<i64>,
}

pub fn insert_activity(conn: &mut DbConnection, rows: &[NewActivity]) -> Result<usize, DbError> {
    let mut n = 0;
    for chunk in rows.chunks(2000) {
        n += crate::with_backend!(conn, |c| diesel::insert_into(player_activity::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

pub fn delete_source(conn: &mut DbConnection, source: &str) -> Result<usize, DbError> {
    Ok(
        diesel::delete(player_activity::table.filter(player_activity::source.eq(source)))
            .execute(conn)?,
    )
}

/// Player-hours and peak concurrent players for one platform (and period).
#[derive(Clone, Debug, PartialEq)]
pub struct ActivitySum {
    pub period: Option<NaiveDate>,
    pub platform: String,
    pub player_hours: f64,
    /// Highest daily sum of regional peaks in the period.
    pub peak_concurrent_players: i64,
}

#[derive(QueryableByName)]
struct DailyPlatformRow {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Text)]
    platform: String,
    #[diesel(sql_type = Double)]
    hours: f64,
    #[diesel(sql_type = BigInt)]
    peak: i64,
}

/// First day of the bucket `day` falls in.
fn bucket(day: NaiveDate, granularity: Granularity) -> NaiveDate {
    use chrono::Datelike;
    match granularity {
        Granularity::Day => day,
        Granularity::Week => super::costs::week_start(day),
        Granularity::Month => day.with_day(1).unwrap_or(day),
    }
}

/// Sums activity per platform (and per time bucket when given) over
/// `[from, to]`, optionally restricted to some platforms and regions.
/// Player-hours add up; the peak is the highest day's sum of regional peaks.
pub fn sum_activity(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    platforms: &[String],
    regions: &[String],
    granularity: Option<Granularity>,
) -> Result<Vec<ActivitySum>, DbError> {
    let dialect = conn.dialect();
    let day_text = dialect.date_text("day");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT {day_text} AS day, platform, \
         CAST(SUM(player_hours) AS DOUBLE PRECISION) AS hours, \
         CAST(SUM(peak_concurrent_players) AS BIGINT) AS peak \
         FROM player_activity WHERE day >= "
    ))
    .bind_date(from)
    .push(" AND day <= ")
    .bind_date(to);
    sql.and_in("platform", platforms).and_in("region", regions);
    sql.push(&format!(
        " GROUP BY day, platform ORDER BY {day_text}, platform"
    ));
    let rows: Vec<DailyPlatformRow> = sql.load(conn)?;
    let mut out: Vec<ActivitySum> = Vec::new();
    let mut index: std::collections::HashMap<(Option<NaiveDate>, String), usize> =
        Default::default();
    for r in rows {
        let day = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok();
        let period = match (day, granularity) {
            (Some(d), Some(g)) => Some(bucket(d, g)),
            _ => None,
        };
        let slot = *index
            .entry((period, r.platform.clone()))
            .or_insert_with(|| {
                out.push(ActivitySum {
                    period,
                    platform: r.platform.clone(),
                    player_hours: 0.0,
                    peak_concurrent_players: 0,
                });
                out.len() - 1
            });
        out[slot].player_hours += r.hours;
        out[slot].peak_concurrent_players = out[slot].peak_concurrent_players.max(r.peak);
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct DriverRow {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Text)]
    platform: String,
    #[diesel(sql_type = Text)]
    region: String,
    #[diesel(sql_type = Double)]
    hours: f64,
    #[diesel(sql_type = BigInt)]
    peak: i64,
}

/// One day's activity of a platform in a region: what shared costs are
/// split by.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverValue {
    pub day: NaiveDate,
    pub platform: String,
    pub region: String,
    pub player_hours: f64,
    pub peak_concurrent_players: i64,
}

/// Activity per day × platform × region over `[from, to]`.
pub fn daily_drivers(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DriverValue>, DbError> {
    let dialect = conn.dialect();
    let day_text = dialect.date_text("day");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT {day_text} AS day, platform, region, \
         CAST(SUM(player_hours) AS DOUBLE PRECISION) AS hours, \
         CAST(SUM(peak_concurrent_players) AS BIGINT) AS peak \
         FROM player_activity WHERE day >= "
    ))
    .bind_date(from)
    .push(" AND day <= ")
    .bind_date(to)
    .push(" GROUP BY day, platform, region");
    let rows: Vec<DriverRow> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(DriverValue {
                day: NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?,
                platform: r.platform,
                region: r.region,
                player_hours: r.hours,
                peak_concurrent_players: r.peak,
            })
        })
        .collect())
}
