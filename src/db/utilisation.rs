//! Utilisation per resource (instance or fleet) per hour or day.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::utilisation;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = utilisation)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewUtilisation {
    pub period_start: NaiveDateTime,
    /// `hour` or `day`.
    pub granularity: String,
    pub resource_id: String,
    /// `instance` or `fleet`.
    pub resource_kind: String,
    pub instance_type: String,
    pub region: String,
    pub platform: String,
    /// Instance-hours in the period (up to 24 per instance-day).
    pub running_hours: f64,
    pub cpu_avg: f64,
    pub cpu_p95: Option<f64>,
    pub cpu_p99: Option<f64>,
    pub cpu_max: f64,
    pub mem_avg: Option<f64>,
    pub mem_max: Option<f64>,
    pub network_bytes: Option<f64>,
    pub source: String,
    pub ingest_run_id: Option<i64>,
}

pub fn insert_utilisation(
    conn: &mut DbConnection,
    rows: &[NewUtilisation],
) -> Result<usize, DbError> {
    let mut n = 0;
    for chunk in rows.chunks(1000) {
        n += crate::with_backend!(conn, |c| diesel::insert_into(utilisation::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

pub fn delete_source(conn: &mut DbConnection, source: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(utilisation::table.filter(utilisation::source.eq(source))).execute(conn)?)
}

/// Number of distinct resources with utilisation data.
pub fn count_resources(conn: &mut DbConnection) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut sql = super::Sql::new(conn.dialect());
    sql.push("SELECT COUNT(DISTINCT resource_id) AS n FROM utilisation");
    Ok(sql.load::<Count>(conn)?.first().map(|c| c.n).unwrap_or(0))
}
