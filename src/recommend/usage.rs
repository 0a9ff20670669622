//! The usage a commitment would cover, as daily on-demand-equivalent
//! spend: for a Compute Savings Plan, the billed eligible compute (EC2
//! instance hours, Fargate, Lambda) at list price; for an EC2 Instance
//! Savings Plan or Reserved Instances, the instance-hours of one family
//! in one region priced at the catalog's on-demand rate.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Double, Text};

use super::catalog::Catalog;
use crate::db::{DbConnection, DbError, Sql};

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
/// cost where the bill has it), in the most used currency.
pub fn eligible_compute(conn: &mut DbConnection) -> Result<(Daily, String), DbError> {
    let dialect = conn.dialect();
    let day = dialect.date_text("day");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT {day} AS day, currency, CAST(SUM(COALESCE(list_micros, effective_micros)) AS DOUBLE PRECISION) / 1000000.0 AS value \
         FROM cost_daily WHERE charge_category = 'Usage' \
         AND (service LIKE 'Amazon Elastic Compute Cloud%' OR service IN ('AWS Lambda', 'AWS Fargate', 'Amazon Elastic Container Service')) \
         AND (usage_unit IS NULL OR usage_unit IN ('Hrs', 'Hours', 'Hour', 'hours', 'Lambda-GB-Second', 'vCPU-Hours')) \
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
    let (currency, series) = by_currency
        .into_iter()
        .max_by_key(|(_, s)| s.len())
        .unwrap_or_else(|| ("USD".to_string(), Vec::new()));
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

/// Instance-hours per day of each (region, instance type) of EC2.
pub fn instance_hours(conn: &mut DbConnection) -> Result<TypeHours, DbError> {
    let dialect = conn.dialect();
    let day = dialect.date_text("period_start");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT region, instance_type, SUBSTR({day}, 1, 10) AS day, CAST(SUM(running_hours) AS DOUBLE PRECISION) AS hours \
         FROM utilisation WHERE resource_kind <> 'fleet' GROUP BY 1, 2, 3"
    ));
    let rows: Vec<TypeDayHours> = sql.load(conn)?;
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
    Ok(out)
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
pub fn by_family(hours: &TypeHours, catalog: &Catalog) -> Vec<FamilyUsage> {
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
