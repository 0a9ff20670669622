//! Daily cost rows: bulk loading with replace semantics, and the grouped
//! sums every report is built from.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::cost_daily;
use super::sql::{Granularity, Sql};
use super::{DbConnection, DbError};
use crate::money::Micros;

/// One row of `cost_daily`: a day × provider × account × platform × region
/// × service × charge category × source (× billing period, currency).
#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = cost_daily)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewCost {
    pub day: NaiveDate,
    pub billing_period: String,
    pub billing_account: String,
    pub provider: String,
    pub account_id: String,
    pub platform: String,
    pub region: String,
    pub service: String,
    pub charge_category: String,
    pub source: String,
    pub currency: String,
    pub billed_micros: i64,
    pub effective_micros: i64,
    pub list_micros: Option<i64>,
    pub usage_quantity: Option<f64>,
    pub usage_unit: Option<String>,
    /// [`crate::usage_class::UsageClass`] as text.
    pub usage_class: String,
    pub estimated: i32,
    pub ingest_run_id: Option<i64>,
}

/// Rows per INSERT statement: well under SQLite's and PostgreSQL's limits
/// on bound parameters (19 columns × 1000 rows).
const INSERT_CHUNK: usize = 1000;

/// Inserts rows in chunks. Call inside a transaction.
pub fn insert_costs(conn: &mut DbConnection, rows: &[NewCost]) -> Result<usize, DbError> {
    let mut inserted = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        inserted += crate::with_backend!(conn, |c| diesel::insert_into(cost_daily::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(inserted)
}

/// Deletes every row of a source (used when the demo is regenerated).
pub fn delete_source(conn: &mut DbConnection, source: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(cost_daily::table.filter(cost_daily::source.eq(source))).execute(conn)?)
}

pub fn count_rows(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(cost_daily::table.count().get_result(conn)?)
}

/// Dimensions costs can be grouped by.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Platform,
    Region,
    Service,
    Provider,
    Account,
    ChargeCategory,
}

impl Dim {
    pub const ALL: [Dim; 6] = [
        Dim::Platform,
        Dim::Region,
        Dim::Service,
        Dim::Provider,
        Dim::Account,
        Dim::ChargeCategory,
    ];

    pub fn column(self) -> &'static str {
        match self {
            Dim::Platform => "platform",
            Dim::Region => "region",
            Dim::Service => "service",
            Dim::Provider => "provider",
            Dim::Account => "account_id",
            Dim::ChargeCategory => "charge_category",
        }
    }

    /// Name used in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Account => "account",
            other => other.column(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dim::Platform => "Platform",
            Dim::Region => "Region",
            Dim::Service => "Service",
            Dim::Provider => "Provider",
            Dim::Account => "Account",
            Dim::ChargeCategory => "Charge category",
        }
    }

    pub fn parse(text: &str) -> Option<Dim> {
        match text.trim().to_ascii_lowercase().as_str() {
            "platform" => Some(Dim::Platform),
            "region" => Some(Dim::Region),
            "service" => Some(Dim::Service),
            "provider" => Some(Dim::Provider),
            "account" | "account_id" => Some(Dim::Account),
            "charge_category" | "category" => Some(Dim::ChargeCategory),
            _ => None,
        }
    }
}

/// Which rows a report covers. `to` is inclusive.
#[derive(Clone, Debug, PartialEq)]
pub struct CostFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub platforms: Vec<String>,
    pub regions: Vec<String>,
    pub services: Vec<String>,
    /// FOCUS charge categories (`Usage`, `Purchase`, `Tax`, `Credit`,
    /// `Adjustment`); empty: all.
    pub charge_categories: Vec<String>,
}

impl CostFilter {
    pub fn new(from: NaiveDate, to: NaiveDate, currency: &str) -> CostFilter {
        CostFilter {
            from,
            to,
            currency: currency.to_string(),
            platforms: Vec::new(),
            regions: Vec::new(),
            services: Vec::new(),
            charge_categories: Vec::new(),
        }
    }

    fn push_where(&self, sql: &mut Sql) {
        sql.push(" WHERE day >= ")
            .bind_date(self.from)
            .push(" AND day <= ")
            .bind_date(self.to)
            .push(" AND currency = ")
            .bind_text(&self.currency);
        sql.and_in("platform", &self.platforms)
            .and_in("region", &self.regions)
            .and_in("service", &self.services)
            .and_in("charge_category", &self.charge_categories);
    }
}

/// Up to this many dimensions in one grouping.
pub const MAX_GROUP_DIMS: usize = 3;

/// A grouped sum: the bucket's first day (empty without a time bucket),
/// the values of the grouping dimensions, and the two cost measures.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CostSum {
    pub period: Option<NaiveDate>,
    pub keys: Vec<String>,
    pub billed: Micros,
    pub effective: Micros,
}

#[derive(QueryableByName)]
struct CostSumRow {
    #[diesel(sql_type = Text)]
    period: String,
    #[diesel(sql_type = Text)]
    k1: String,
    #[diesel(sql_type = Text)]
    k2: String,
    #[diesel(sql_type = Text)]
    k3: String,
    #[diesel(sql_type = BigInt)]
    billed: i64,
    #[diesel(sql_type = BigInt)]
    effective: i64,
}

/// Sums billed and effective cost over the filter, grouped by an optional
/// time bucket and up to three dimensions; ordered by period then keys.
///
/// Weeks are folded from daily sums here rather than in SQL: SQLite's date
/// arithmetic per row costs more than the fold.
pub fn sum_costs(
    conn: &mut DbConnection,
    filter: &CostFilter,
    granularity: Option<Granularity>,
    dims: &[Dim],
) -> Result<Vec<CostSum>, DbError> {
    assert!(
        dims.len() <= MAX_GROUP_DIMS,
        "at most three grouping dimensions"
    );
    let dialect = conn.dialect();
    let sql_granularity = match granularity {
        Some(Granularity::Week) => Some(Granularity::Day),
        other => other,
    };
    let period_expr = match sql_granularity {
        Some(g) => dialect.date_bucket("day", g),
        None => "''".to_string(),
    };
    let mut group_cols: Vec<String> = Vec::new();
    if sql_granularity.is_some() {
        group_cols.push(period_expr.clone());
    }
    let mut select = format!("SELECT {period_expr} AS period");
    for i in 0..MAX_GROUP_DIMS {
        match dims.get(i) {
            Some(d) => {
                select.push_str(&format!(", {} AS k{}", d.column(), i + 1));
                group_cols.push(d.column().to_string());
            }
            None => select.push_str(&format!(", '' AS k{}", i + 1)),
        }
    }
    select.push_str(
        ", CAST(COALESCE(SUM(billed_micros), 0) AS BIGINT) AS billed, \
         CAST(COALESCE(SUM(effective_micros), 0) AS BIGINT) AS effective FROM cost_daily",
    );
    let mut sql = Sql::new(dialect);
    sql.push(&select);
    filter.push_where(&mut sql);
    if !group_cols.is_empty() {
        let list = group_cols.join(", ");
        sql.push(" GROUP BY ")
            .push(&list)
            .push(" ORDER BY ")
            .push(&list);
    }
    let rows: Vec<CostSumRow> = sql.load(conn)?;
    let ndims = dims.len();
    let sums = rows
        .into_iter()
        // Without GROUP BY an empty range still yields one all-zero row.
        .filter(|r| !(group_cols.is_empty() && r.billed == 0 && r.effective == 0))
        .map(|r| CostSum {
            period: NaiveDate::parse_from_str(&r.period, "%Y-%m-%d").ok(),
            keys: [r.k1, r.k2, r.k3].into_iter().take(ndims).collect(),
            billed: Micros(r.billed),
            effective: Micros(r.effective),
        });
    if granularity == Some(Granularity::Week) {
        Ok(fold_into_weeks(sums))
    } else {
        Ok(sums.collect())
    }
}

/// Monday of the ISO week `day` falls in.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

fn fold_into_weeks(daily: impl Iterator<Item = CostSum>) -> Vec<CostSum> {
    let mut weeks: std::collections::BTreeMap<(Option<NaiveDate>, Vec<String>), (Micros, Micros)> =
        std::collections::BTreeMap::new();
    for s in daily {
        let entry = weeks.entry((s.period.map(week_start), s.keys)).or_default();
        entry.0 += s.billed;
        entry.1 += s.effective;
    }
    weeks
        .into_iter()
        .map(|((period, keys), (billed, effective))| CostSum {
            period,
            keys,
            billed,
            effective,
        })
        .collect()
}

/// A line of the monthly export: every dimension finance ties out on.
#[derive(Clone, Debug, PartialEq, QueryableByName)]
pub struct ExportLine {
    #[diesel(sql_type = Text)]
    pub platform: String,
    #[diesel(sql_type = Text)]
    pub region: String,
    #[diesel(sql_type = Text)]
    pub service: String,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub provider: String,
    #[diesel(sql_type = Text)]
    pub account_id: String,
    #[diesel(sql_type = Text)]
    pub charge_category: String,
    #[diesel(sql_type = Text)]
    pub billing_period: String,
    #[diesel(sql_type = BigInt)]
    pub billed: i64,
    #[diesel(sql_type = BigInt)]
    pub effective: i64,
}

/// Every cost row charged in `[from, to]`, summed per export line, in a
/// stable order (so two exports of the same data are byte-identical).
pub fn export_lines(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ExportLine>, DbError> {
    let keys = "platform, region, service, currency, provider, account_id, charge_category, billing_period";
    let mut sql = Sql::new(conn.dialect());
    sql.push(&format!(
        "SELECT {keys}, CAST(SUM(billed_micros) AS BIGINT) AS billed, \
         CAST(SUM(effective_micros) AS BIGINT) AS effective FROM cost_daily WHERE day >= "
    ))
    .bind_date(from)
    .push(" AND day <= ")
    .bind_date(to)
    .push(&format!(" GROUP BY {keys} ORDER BY {keys}"));
    Ok(sql.load(conn)?)
}

/// First and last day with cost data, if any. Two single-ended lookups:
/// each is one index probe, where MIN and MAX together scan.
pub fn date_range(conn: &mut DbConnection) -> Result<Option<(NaiveDate, NaiveDate)>, DbError> {
    use diesel::dsl::{max, min};
    let first: Option<NaiveDate> = cost_daily::table.select(min(cost_daily::day)).first(conn)?;
    let last: Option<NaiveDate> = cost_daily::table.select(max(cost_daily::day)).first(conn)?;
    Ok(first.zip(last))
}

#[derive(QueryableByName)]
struct ValueCount {
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Distinct values of a dimension (or `currency`) with their row counts,
/// most frequent first.
pub fn distinct_values(
    conn: &mut DbConnection,
    column: &str,
) -> Result<Vec<(String, i64)>, DbError> {
    let allowed = Dim::ALL.iter().any(|d| d.column() == column) || column == "currency";
    assert!(allowed, "not a cost dimension: {column}");
    let mut sql = Sql::new(conn.dialect());
    sql.push(&format!(
        "SELECT {column} AS value, COUNT(*) AS n FROM cost_daily GROUP BY {column} ORDER BY n DESC, {column}"
    ));
    let rows: Vec<ValueCount> = sql.load(conn)?;
    Ok(rows.into_iter().map(|r| (r.value, r.n)).collect())
}
