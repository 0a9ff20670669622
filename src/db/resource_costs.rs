//! Imported billing data before allocation (resource × day), and the
//! scopes an import replaces: one source's data for one provider, billing
//! account and billing period.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{cost_daily, cost_resource_daily};
use super::{DbConnection, DbError};
use crate::model::ResourceDay;
use crate::money::Micros;

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = cost_resource_daily)]
#[diesel(treat_none_as_default_value = false)]
struct NewResourceCost<'a> {
    day: NaiveDate,
    billing_period: &'a str,
    billing_account: &'a str,
    provider: &'a str,
    account_id: &'a str,
    region: &'a str,
    service: &'a str,
    charge_category: &'a str,
    source: &'a str,
    currency: &'a str,
    resource: &'a str,
    tags: &'a str,
    allocated_to: &'a str,
    commitment_id: &'a str,
    commitment_type: &'a str,
    commitment_status: &'a str,
    billed_micros: i64,
    effective_micros: i64,
    list_micros: Option<i64>,
    usage_quantity: Option<f64>,
    usage_unit: Option<&'a str>,
    usage_class: &'a str,
    instance_type: &'a str,
    commitment_end: &'a str,
    estimated: i32,
    ingest_run_id: Option<i64>,
}

/// What one import replaces.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Scope {
    pub source: String,
    pub provider: String,
    pub billing_account: String,
    pub billing_period: String,
}

/// Deletes a scope's rows before and after allocation. Returns the number
/// of resource rows deleted.
pub fn delete_scope(conn: &mut DbConnection, scope: &Scope) -> Result<usize, DbError> {
    use cost_resource_daily::dsl as r;
    let n = diesel::delete(
        r::cost_resource_daily
            .filter(r::source.eq(&scope.source))
            .filter(r::provider.eq(&scope.provider))
            .filter(r::billing_account.eq(&scope.billing_account))
            .filter(r::billing_period.eq(&scope.billing_period)),
    )
    .execute(conn)?;
    use cost_daily::dsl as c;
    diesel::delete(
        c::cost_daily
            .filter(c::source.eq(&scope.source))
            .filter(c::provider.eq(&scope.provider))
            .filter(c::billing_account.eq(&scope.billing_account))
            .filter(c::billing_period.eq(&scope.billing_period)),
    )
    .execute(conn)?;
    Ok(n)
}

/// Deletes what the runs `runs` stored (resource and daily rows); returns
/// the resource rows deleted.
pub fn delete_runs(conn: &mut DbConnection, runs: &[i64]) -> Result<usize, DbError> {
    if runs.is_empty() {
        return Ok(0);
    }
    use cost_resource_daily::dsl as r;
    let n = diesel::delete(r::cost_resource_daily.filter(r::ingest_run_id.eq_any(runs)))
        .execute(conn)?;
    use cost_daily::dsl as c;
    diesel::delete(c::cost_daily.filter(c::ingest_run_id.eq_any(runs))).execute(conn)?;
    Ok(n)
}

const INSERT_CHUNK: usize = 1000;

/// Inserts resource rows with what allocation made of each
/// (`allocated_to[i]` for `rows[i]`). Call inside a transaction.
#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut DbConnection,
    source: &str,
    rows: &[ResourceDay],
    allocated_to: &[String],
    estimated: bool,
    ingest_run_id: Option<i64>,
    progress: &mut dyn FnMut(usize),
) -> Result<usize, DbError> {
    let mut inserted = 0;
    for (chunk, allocations) in rows
        .chunks(INSERT_CHUNK)
        .zip(allocated_to.chunks(INSERT_CHUNK))
    {
        let values: Vec<NewResourceCost> = chunk
            .iter()
            .zip(allocations)
            .map(|(r, a)| NewResourceCost {
                day: r.day,
                billing_period: &r.billing_period,
                billing_account: &r.billing_account,
                provider: &r.provider,
                account_id: &r.account_id,
                region: &r.region,
                service: &r.service,
                charge_category: &r.charge_category,
                source,
                currency: &r.currency,
                resource: &r.resource,
                tags: &r.tags,
                allocated_to: a,
                commitment_id: &r.commitment_id,
                commitment_type: &r.commitment_type,
                commitment_status: &r.commitment_status,
                billed_micros: r.billed.0,
                effective_micros: r.effective.0,
                list_micros: r.list.map(|m| m.0),
                usage_quantity: r.usage_quantity,
                usage_unit: r.usage_unit.as_deref(),
                usage_class: r.usage_class.as_str(),
                instance_type: &r.instance_type,
                commitment_end: &r.commitment_end,
                estimated: i32::from(estimated),
                ingest_run_id,
            })
            .collect();
        inserted +=
            crate::with_backend!(conn, |c| diesel::insert_into(cost_resource_daily::table)
                .values(&values)
                .execute(c))?;
        progress(inserted);
    }
    Ok(inserted)
}

type StoredRow = (
    NaiveDate,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<f64>,
    Option<String>,
);

/// Commitment id, type and status, the usage class and the instance
/// type, as stored.
type StoredCommitment = (String, String, String, String, String, String);

/// Rows of one import that share how they were stored.
pub struct StoredPart {
    pub estimated: bool,
    pub ingest_run_id: Option<i64>,
    pub rows: Vec<ResourceDay>,
}

/// A scope's stored resource rows (for re-allocation), in parts by
/// estimated flag and import.
pub fn load_scope(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<StoredPart>, DbError> {
    use cost_resource_daily::dsl as r;
    let rows: Vec<(StoredRow, StoredCommitment, i32, Option<i64>)> = r::cost_resource_daily
        .filter(r::source.eq(&scope.source))
        .filter(r::provider.eq(&scope.provider))
        .filter(r::billing_account.eq(&scope.billing_account))
        .filter(r::billing_period.eq(&scope.billing_period))
        .select((
            (
                r::day,
                r::billing_period,
                r::billing_account,
                r::provider,
                r::account_id,
                r::region,
                r::service,
                r::charge_category,
                r::currency,
                r::resource,
                r::tags,
                r::billed_micros,
                r::effective_micros,
                r::list_micros,
                r::usage_quantity,
                r::usage_unit,
            ),
            (
                r::commitment_id,
                r::commitment_type,
                r::commitment_status,
                r::usage_class,
                r::instance_type,
                r::commitment_end,
            ),
            r::estimated,
            r::ingest_run_id,
        ))
        .load(conn)?;
    let mut parts: std::collections::BTreeMap<(bool, Option<i64>), Vec<ResourceDay>> =
        Default::default();
    for (t, commitment, estimated, run) in rows {
        parts
            .entry((estimated != 0, run))
            .or_default()
            .push(ResourceDay {
                day: t.0,
                billing_period: t.1,
                billing_account: t.2,
                provider: t.3,
                account_id: t.4,
                region: t.5,
                service: t.6,
                charge_category: t.7,
                currency: t.8,
                resource: t.9,
                tags: t.10,
                billed: Micros(t.11),
                effective: Micros(t.12),
                list: t.13.map(Micros),
                usage_quantity: t.14,
                usage_unit: t.15,
                usage_class: crate::usage_class::UsageClass::parse(&commitment.3),
                instance_type: commitment.4,
                commitment_end: commitment.5,
                commitment_id: commitment.0,
                commitment_type: commitment.1,
                commitment_status: commitment.2,
            });
    }
    Ok(parts
        .into_iter()
        .map(|((estimated, ingest_run_id), rows)| StoredPart {
            estimated,
            ingest_run_id,
            rows,
        })
        .collect())
}

/// Deletes the days `[from, to)` of one source, provider and billing
/// account (a pull replaces the days it covers). Returns resource rows
/// deleted.
pub fn delete_days(
    conn: &mut DbConnection,
    source: &str,
    provider: &str,
    billing_account: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<usize, DbError> {
    use cost_resource_daily::dsl as r;
    let n = diesel::delete(
        r::cost_resource_daily
            .filter(r::source.eq(source))
            .filter(r::provider.eq(provider))
            .filter(r::billing_account.eq(billing_account))
            .filter(r::day.ge(from))
            .filter(r::day.lt(to)),
    )
    .execute(conn)?;
    use cost_daily::dsl as c;
    diesel::delete(
        c::cost_daily
            .filter(c::source.eq(source))
            .filter(c::provider.eq(provider))
            .filter(c::billing_account.eq(billing_account))
            .filter(c::day.ge(from))
            .filter(c::day.lt(to)),
    )
    .execute(conn)?;
    Ok(n)
}

/// The earliest stored estimated day of a source, if any (the next pull
/// starts there at the latest, so estimates get replaced).
pub fn first_estimated_day(
    conn: &mut DbConnection,
    source: &str,
) -> Result<Option<NaiveDate>, DbError> {
    use cost_resource_daily::dsl as r;
    Ok(r::cost_resource_daily
        .filter(r::source.eq(source))
        .filter(r::estimated.ne(0))
        .select(diesel::dsl::min(r::day))
        .first(conn)?)
}

/// Every stored scope.
pub fn all_scopes(conn: &mut DbConnection) -> Result<Vec<Scope>, DbError> {
    use cost_resource_daily::dsl as r;
    let rows: Vec<(String, String, String, String)> = r::cost_resource_daily
        .select((
            r::source,
            r::provider,
            r::billing_account,
            r::billing_period,
        ))
        .distinct()
        .order((
            r::source,
            r::provider,
            r::billing_account,
            r::billing_period,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(source, provider, billing_account, billing_period)| Scope {
                source,
                provider,
                billing_account,
                billing_period,
            },
        )
        .collect())
}

/// The largest unallocated resources over `[from, to]` (what a new rule
/// should cover): resource, account, service, tags and billed cost.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UnallocatedResource {
    pub resource: String,
    pub account_id: String,
    pub region: String,
    pub service: String,
    pub tags: String,
    pub currency: String,
    pub billed: Micros,
}

#[derive(diesel::QueryableByName)]
struct UnallocatedRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    resource: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    account_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    region: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    service: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    tags: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    currency: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    billed: i64,
}

/// Unallocated cost over `[from, to]` by resource, largest first.
pub fn unallocated(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<UnallocatedResource>, DbError> {
    let keys = "resource, account_id, region, service, tags, currency";
    let mut sql = super::Sql::new(conn.dialect());
    sql.push(&format!(
        "SELECT {keys}, CAST(SUM(billed_micros) AS BIGINT) AS billed FROM cost_resource_daily \
         WHERE allocated_to = 'unallocated' AND day >= "
    ))
    .bind_date(from)
    .push(" AND day <= ")
    .bind_date(to)
    .push(&format!(
        " GROUP BY {keys} ORDER BY ABS(SUM(billed_micros)) DESC, {keys} LIMIT {}",
        limit.clamp(1, 10_000)
    ));
    let rows: Vec<UnallocatedRow> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| UnallocatedResource {
            resource: r.resource,
            account_id: r.account_id,
            region: r.region,
            service: r.service,
            tags: r.tags,
            currency: r.currency,
            billed: Micros(r.billed),
        })
        .collect())
}

/// What a resource-level breakdown groups by.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ResourceKey {
    Resource,
    /// The instance type, else the usage class (what the usage is).
    UsageType,
}

#[derive(diesel::QueryableByName)]
struct KeyedRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    effective: i64,
}

/// Effective usage cost over `[from, to]` in `currency` by resource or
/// usage type, within a platform (allocated to it), region and service;
/// `None` is every value. Largest first, at most `limit`.
#[allow(clippy::too_many_arguments)]
pub fn usage_by(
    conn: &mut DbConnection,
    key: ResourceKey,
    platform: Option<&str>,
    region: Option<&str>,
    service: Option<&str>,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<(String, Micros)>, DbError> {
    let expr = match key {
        ResourceKey::Resource => "resource",
        ResourceKey::UsageType => {
            "CASE WHEN instance_type <> '' THEN instance_type ELSE usage_class END"
        }
    };
    let mut sql = super::Sql::new(conn.dialect());
    sql.push(&format!(
        "SELECT {expr} AS key, CAST(SUM(effective_micros) AS BIGINT) AS effective \
         FROM cost_resource_daily WHERE charge_category = 'Usage' AND currency = "
    ))
    .bind_text(currency)
    .push(" AND day >= ")
    .bind_date(from)
    .push(" AND day <= ")
    .bind_date(to);
    for (column, value) in [
        ("allocated_to", platform),
        ("region", region),
        ("service", service),
    ] {
        if let Some(v) = value {
            sql.push(&format!(" AND {column} = ")).bind_text(v);
        }
    }
    sql.push(&format!(
        " GROUP BY {expr} ORDER BY SUM(effective_micros) DESC LIMIT {}",
        limit.clamp(1, 10_000)
    ));
    let rows: Vec<KeyedRow> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| !r.key.is_empty())
        .map(|r| (r.key, Micros(r.effective)))
        .collect())
}

/// A tag value within a platform (allocated to it), region and service
/// (`None`: every value), in one currency.
#[derive(Clone, Copy, Debug)]
pub struct TagScope<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub platform: Option<&'a str>,
    pub region: Option<&'a str>,
    pub service: Option<&'a str>,
    pub currency: &'a str,
}

#[derive(diesel::QueryableByName)]
struct TaggedRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    day: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    tags: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    billed: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    effective: i64,
}

/// Billed and effective cost per day over `[from, to]` of the lines whose
/// tags carry `scope.key` = `scope.value` (all charge categories, as a
/// budget counts them). The database narrows to lines that mention the
/// key; the tags are then read as JSON, so a value is matched exactly.
pub fn tagged_daily(
    conn: &mut DbConnection,
    scope: &TagScope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, Micros, Micros)>, DbError> {
    let day_text = match conn.dialect() {
        super::Dialect::Postgres => "CAST(day AS TEXT)",
        super::Dialect::Sqlite => "day",
    };
    let mut sql = super::Sql::new(conn.dialect());
    sql.push(&format!(
        "SELECT {day_text} AS day, tags, CAST(SUM(billed_micros) AS BIGINT) AS billed, \
         CAST(SUM(effective_micros) AS BIGINT) AS effective FROM cost_resource_daily \
         WHERE currency = "
    ))
    .bind_text(scope.currency)
    .push(" AND day >= ")
    .bind_date(from)
    .push(" AND day <= ")
    .bind_date(to)
    .push(" AND tags LIKE ")
    .bind_text(&format!("%{}%", like_escape(scope.key)))
    .push(" ESCAPE '\\'");
    for (column, value) in [
        ("allocated_to", scope.platform),
        ("region", scope.region),
        ("service", scope.service),
    ] {
        if let Some(v) = value {
            sql.push(&format!(" AND {column} = ")).bind_text(v);
        }
    }
    sql.push(" GROUP BY day, tags");
    let rows: Vec<TaggedRow> = sql.load(conn)?;
    let mut by_day: std::collections::BTreeMap<NaiveDate, (Micros, Micros)> = Default::default();
    let mut matches: std::collections::HashMap<String, bool> = Default::default();
    for r in rows {
        let hit = *matches.entry(r.tags.clone()).or_insert_with(|| {
            crate::ingest::allocate::parse_tags(&r.tags)
                .get(scope.key)
                .is_some_and(|v| v == scope.value)
        });
        if !hit {
            continue;
        }
        let Ok(day) = NaiveDate::parse_from_str(&r.day[..r.day.len().min(10)], "%Y-%m-%d") else {
            continue;
        };
        let e = by_day.entry(day).or_default();
        e.0 += Micros(r.billed);
        e.1 += Micros(r.effective);
    }
    Ok(by_day.into_iter().map(|(d, (b, e))| (d, b, e)).collect())
}

/// `%`, `_` and `\` matched literally in a LIKE pattern (with ESCAPE '\').
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
