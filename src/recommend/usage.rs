//! The usage a commitment would cover, as daily on-demand-equivalent
//! spend: for a Compute Savings Plan, the billed eligible compute (EC2
//! instance hours, Fargate, Lambda: lines of an eligible
//! [`UsageClass`], never EBS, snapshots or transfer billed under EC2) at
//! list price; for an EC2 Instance
//! Savings Plan or Reserved Instances, the instance-hours of one family
//! in one region priced at the catalog's on-demand rate.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Double, Text};

use crate::db::{DbConnection, DbError, Sql};
use crate::pricing::PriceCatalog;
use crate::usage_class::UsageClass;

#[derive(QueryableByName)]
struct DayValue {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = Double)]
    value: f64,
}

/// Instance-hours by (region, instance type) and day.
pub type TypeHours = BTreeMap<(String, String), BTreeMap<NaiveDate, f64>>;

/// A daily series of on-demand-equivalent spend.
pub type Daily = Vec<(NaiveDate, f64)>;

/// Daily Savings-Plan-eligible compute spend at on-demand rates (list
/// cost where the bill has it), in the reporting currency
/// (`crate::currency`).
pub fn eligible_compute(conn: &mut DbConnection) -> Result<(Daily, String), DbError> {
    let dialect = conn.dialect();
    let day = dialect.date_text("day");
    let eligible = UsageClass::SAVINGS_PLAN_ELIGIBLE
        .map(|c| format!("'{}'", c.as_str()))
        .join(", ");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT {day} AS day, currency, CAST(SUM(COALESCE(list_micros, effective_micros)) AS DOUBLE PRECISION) / 1000000.0 AS value \
         FROM cost_daily WHERE charge_category = 'Usage' AND usage_class IN ({eligible}) \
         GROUP BY 1, 2 ORDER BY 1"
    ));
    let rows: Vec<DayValue> = sql.load(conn)?;
    let mut by_currency: BTreeMap<String, Daily> = BTreeMap::new();
    for r in rows {
        if let Some(d) = r
            .day
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            by_currency
                .entry(r.currency)
                .or_default()
                .push((d, r.value));
        }
    }
    let currency = crate::currency::reporting(conn)?;
    let series = by_currency.remove(&currency).unwrap_or_default();
    Ok((series, currency))
}

#[derive(QueryableByName)]
struct TypeDayHours {
    #[diesel(sql_type = Text)]
    region: String,
    #[diesel(sql_type = Text)]
    instance_type: String,
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Double)]
    hours: f64,
}

/// Instance-hours per day of each (region, instance type) of EC2: from
/// utilisation where it covers the type in the region, else from the
/// bill's instance-hour lines (on-demand and dedicated; not Spot).
pub fn instance_hours(conn: &mut DbConnection) -> Result<TypeHours, DbError> {
    let mut hours = utilisation_hours(conn)?;
    for (key, days) in billed_hours(conn)? {
        hours.entry(key).or_insert(days);
    }
    Ok(hours)
}

/// Instance-hours per day of each (region, instance type), as billed.
pub fn billed_hours(conn: &mut DbConnection) -> Result<TypeHours, DbError> {
    let dialect = conn.dialect();
    let day = dialect.date_text("day");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT region, instance_type, SUBSTR({day}, 1, 10) AS day, CAST(SUM(usage_quantity) AS DOUBLE PRECISION) AS hours \
         FROM cost_resource_daily WHERE usage_class = '{}' AND instance_type <> '' \
         AND charge_category = 'Usage' AND usage_quantity IS NOT NULL GROUP BY 1, 2, 3",
        UsageClass::ComputeInstance.as_str()
    ));
    let rows: Vec<TypeDayHours> = sql.load(conn)?;
    Ok(type_hours(rows))
}

#[derive(QueryableByName)]
struct TypeRate {
    #[diesel(sql_type = Text)]
    region: String,
    #[diesel(sql_type = Text)]
    instance_type: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    list_micros: i64,
    #[diesel(sql_type = Double)]
    hours: f64,
}

/// Days of the bill the on-demand rates are read from (the latest).
pub const RATE_DAYS: i64 = 30;

/// The public on-demand rate per hour of each (region, instance type) on
/// the bill: list cost ÷ instance-hours of its instance-hour lines over
/// the last [`RATE_DAYS`] days billed (in the reporting currency).
pub fn billed_on_demand_rates(
    conn: &mut DbConnection,
) -> Result<BTreeMap<(String, String), crate::money::Micros>, DbError> {
    use crate::db::schema::cost_resource_daily as r;
    let last: Option<NaiveDate> = r::table
        .filter(r::usage_class.eq(UsageClass::ComputeInstance.as_str()))
        .select(diesel::dsl::max(r::day))
        .first(conn)?;
    let Some(last) = last else {
        return Ok(BTreeMap::new());
    };
    let currency = crate::currency::reporting(conn)?;
    let from = last - chrono::Duration::days(RATE_DAYS - 1);
    let dialect = conn.dialect();
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT region, instance_type, CAST(SUM(list_micros) AS BIGINT) AS list_micros, \
         CAST(SUM(usage_quantity) AS DOUBLE PRECISION) AS hours FROM cost_resource_daily \
         WHERE usage_class = '{}' AND instance_type <> '' AND charge_category = 'Usage' \
         AND list_micros IS NOT NULL AND usage_quantity > 0 AND currency = ",
        UsageClass::ComputeInstance.as_str()
    ));
    sql.bind_text(&currency);
    sql.push(" AND day >= ");
    sql.bind_date(from);
    sql.push(" GROUP BY 1, 2");
    let rows: Vec<TypeRate> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.hours > 0.0 && r.list_micros > 0)
        .map(|r| {
            (
                (r.region, r.instance_type),
                crate::money::Micros((r.list_micros as f64 / r.hours).round() as i64),
            )
        })
        .collect())
}

#[derive(QueryableByName)]
struct CommitmentRate {
    #[diesel(sql_type = Text)]
    region: String,
    #[diesel(sql_type = Text)]
    instance_type: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    term_years: i32,
    #[diesel(sql_type = Text)]
    payment: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    effective_micros: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    list_micros: i64,
}

/// What a commitment held pays for an instance hour, as a share of the
/// public on-demand rate, by (region, instance type) and (offer, term,
/// payment): the effective cost ÷ list cost of the instance-hour lines it
/// covered over the last [`RATE_DAYS`] days billed (CUR
/// `SavingsPlanCoveredUsage` and `DiscountedUsage` lines; FOCUS lines with
/// a used commitment discount). The offer, term and payment come from the
/// list of commitments held (`finops ingest commitments`), matched by id.
pub fn billed_commitment_ratios(conn: &mut DbConnection) -> Result<BilledRatios, DbError> {
    use crate::db::schema::cost_resource_daily as r;
    let last: Option<NaiveDate> = r::table
        .filter(r::usage_class.eq(UsageClass::ComputeInstance.as_str()))
        .filter(r::commitment_status.eq("Used"))
        .select(diesel::dsl::max(r::day))
        .first(conn)?;
    let Some(last) = last else {
        return Ok(BilledRatios::new());
    };
    let currency = crate::currency::reporting(conn)?;
    let from = last - chrono::Duration::days(RATE_DAYS - 1);
    let mut sql = Sql::new(conn.dialect());
    sql.push(&format!(
        "SELECT r.region, r.instance_type, c.kind, c.term_years, c.payment, \
         CAST(SUM(r.effective_micros) AS BIGINT) AS effective_micros, \
         CAST(SUM(r.list_micros) AS BIGINT) AS list_micros \
         FROM cost_resource_daily r JOIN commitments c ON c.commitment_id = r.commitment_id \
         WHERE r.usage_class = '{}' AND r.instance_type <> '' AND r.commitment_status = 'Used' \
         AND r.list_micros > 0 AND r.currency = ",
        UsageClass::ComputeInstance.as_str()
    ));
    sql.bind_text(&currency);
    sql.push(" AND r.day >= ");
    sql.bind_date(from);
    sql.push(" GROUP BY r.region, r.instance_type, c.kind, c.term_years, c.payment");
    let rows: Vec<CommitmentRate> = sql.load(conn)?;
    let mut out = BilledRatios::new();
    for row in rows {
        let (Some(offer), Some(payment)) = (
            crate::pricing::Offer::parse(&row.kind),
            crate::pricing::Payment::parse(&row.payment),
        ) else {
            continue;
        };
        if row.list_micros <= 0
            || row.effective_micros <= 0
            || row.effective_micros >= row.list_micros
        {
            continue;
        }
        out.entry((row.region, row.instance_type))
            .or_default()
            .insert(
                (offer, row.term_years, payment),
                row.effective_micros as f64 / row.list_micros as f64,
            );
    }
    Ok(out)
}

/// Commitment rate ÷ on demand paid on the bill, by (region, instance
/// type) and (offer, term, payment).
pub type BilledRatios = BTreeMap<(String, String), BTreeMap<crate::pricing::RateKey, f64>>;

fn type_hours(rows: Vec<TypeDayHours>) -> TypeHours {
    let mut out = TypeHours::new();
    for r in rows {
        if let Some(d) = r
            .day
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            *out.entry((r.region, r.instance_type))
                .or_default()
                .entry(d)
                .or_insert(0.0) += r.hours;
        }
    }
    out
}

/// Instance-hours per day of each (region, instance type), as utilisation
/// exports measured them.
fn utilisation_hours(conn: &mut DbConnection) -> Result<TypeHours, DbError> {
    let dialect = conn.dialect();
    let day = dialect.date_text("period_start");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT region, instance_type, SUBSTR({day}, 1, 10) AS day, CAST(SUM(running_hours) AS DOUBLE PRECISION) AS hours \
         FROM utilisation WHERE resource_kind <> 'fleet' GROUP BY 1, 2, 3"
    ));
    let rows: Vec<TypeDayHours> = sql.load(conn)?;
    Ok(type_hours(rows))
}

/// One family in one region: its daily on-demand-equivalent spend and
/// the type it runs most (RIs are counted in it).
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyUsage {
    pub region: String,
    pub family: String,
    pub main_type: String,
    pub daily: Daily,
}

/// Per (region, family) daily spend at the catalog's on-demand prices.
/// Types the catalog does not price are left out.
pub fn by_family(hours: &TypeHours, catalog: &PriceCatalog) -> Vec<FamilyUsage> {
    let mut spend: BTreeMap<(String, String), BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    let mut type_hours: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    for ((region, itype), days) in hours {
        let (Some(spec), Some(price)) = (
            catalog.spec("ec2", itype),
            catalog.prices("ec2", itype, region),
        ) else {
            continue;
        };
        let key = (region.clone(), spec.family.clone());
        let hourly = price.on_demand.as_units_f64();
        let series = spend.entry(key.clone()).or_default();
        for (d, h) in days {
            *series.entry(*d).or_insert(0.0) += h * hourly;
        }
        *type_hours
            .entry(key)
            .or_default()
            .entry(itype.clone())
            .or_insert(0.0) += days.values().sum::<f64>();
    }
    spend
        .into_iter()
        .map(|((region, family), days)| {
            let main_type = type_hours
                .get(&(region.clone(), family.clone()))
                .and_then(|t| t.iter().max_by(|a, b| a.1.total_cmp(b.1)))
                .map(|(t, _)| t.clone())
                .unwrap_or_default();
            FamilyUsage {
                region,
                family,
                main_type,
                daily: fill_days(&days),
            }
        })
        .collect()
}

/// A daily series with missing days as zero (a family not running on a
/// day spent nothing), from its first to its last day.
pub fn fill_days(days: &BTreeMap<NaiveDate, f64>) -> Daily {
    let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|d| d <= last)
        .map(|d| (d, days.get(&d).copied().unwrap_or(0.0)))
        .collect()
}

/// Days of hourly utilisation a within-day profile needs.
pub const PROFILE_MIN_DAYS: usize = 7;

/// The within-day profile of the fleet's running instance-hours over the
/// last 28 days of hourly utilisation: 24 factors (UTC hours) averaging 1,
/// or `None` with under a week of hourly data (daily data says nothing
/// about the hours).
pub fn hourly_profile(conn: &mut DbConnection) -> Result<Option<Vec<f64>>, DbError> {
    use crate::db::schema::utilisation;
    let last: Option<chrono::NaiveDateTime> = utilisation::table
        .filter(utilisation::granularity.eq("hour"))
        .select(diesel::dsl::max(utilisation::period_start))
        .first(conn)?;
    let Some(last) = last else {
        return Ok(None);
    };
    let from = last - chrono::Duration::days(28);
    let rows: Vec<(chrono::NaiveDateTime, f64)> = utilisation::table
        .filter(utilisation::granularity.eq("hour"))
        .filter(utilisation::period_start.gt(from))
        .select((utilisation::period_start, utilisation::running_hours))
        .load(conn)?;
    Ok(profile_of(&rows))
}

/// The profile of hourly (time, instance-hours) rows.
pub fn profile_of(rows: &[(chrono::NaiveDateTime, f64)]) -> Option<Vec<f64>> {
    use chrono::Timelike;
    let mut by_slot: BTreeMap<chrono::NaiveDateTime, f64> = BTreeMap::new();
    for (t, h) in rows {
        *by_slot.entry(*t).or_insert(0.0) += h;
    }
    let days: std::collections::BTreeSet<NaiveDate> = by_slot.keys().map(|t| t.date()).collect();
    if days.len() < PROFILE_MIN_DAYS {
        return None;
    }
    let mut sum = [0.0; 24];
    let mut n = [0usize; 24];
    for (t, h) in &by_slot {
        let hour = t.hour() as usize;
        sum[hour] += h;
        n[hour] += 1;
    }
    let means: Vec<f64> = (0..24)
        .map(|h| if n[h] > 0 { sum[h] / n[h] as f64 } else { 0.0 })
        .collect();
    let overall = means.iter().sum::<f64>() / 24.0;
    if overall <= 0.0 || n.contains(&0) {
        return None;
    }
    Some(means.iter().map(|m| m / overall).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_averages_one_and_needs_a_week() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_time(chrono::NaiveTime::MIN);
        let rows: Vec<(chrono::NaiveDateTime, f64)> = (0..24 * 10)
            .map(|i| {
                let t = start + chrono::Duration::hours(i);
                // Busy evenings: 30 instances 18:00–23:00 UTC, 10 otherwise.
                let busy = (18..24).contains(&(i % 24));
                (t, if busy { 30.0 } else { 10.0 })
            })
            .collect();
        let p = profile_of(&rows).expect("ten days");
        assert_eq!(p.len(), 24);
        assert!((p.iter().sum::<f64>() / 24.0 - 1.0).abs() < 1e-12);
        assert!((p[20] / p[3] - 3.0).abs() < 1e-12);
        assert!(profile_of(&rows[..24 * 5]).is_none());
    }
}
