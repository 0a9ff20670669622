//! The log of imports: one row per file or pull, shown on the Data sources
//! page and used to tell where the data came from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::ingest_runs;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = ingest_runs)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewIngestRun {
    pub source: String,
    pub file_name: String,
    pub file_hash: String,
    pub billing_period: String,
    pub rows_read: i64,
    pub rows_kept: i64,
    pub rows_rejected: i64,
    pub status: String,
    pub message: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl NewIngestRun {
    /// A run that stored `rows` rows (none rejected), finished now.
    pub fn succeeded(
        source: &str,
        file_name: &str,
        file_hash: &str,
        billing_period: &str,
        rows: usize,
        started_at: NaiveDateTime,
        message: String,
    ) -> NewIngestRun {
        NewIngestRun {
            source: source.to_string(),
            file_name: file_name.to_string(),
            file_hash: file_hash.to_string(),
            billing_period: billing_period.to_string(),
            rows_read: rows as i64,
            rows_kept: rows as i64,
            rows_rejected: 0,
            status: crate::model::Status::Ok.as_str().to_string(),
            message,
            started_at,
            finished_at: Some(crate::clock::now()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = ingest_runs)]
pub struct IngestRun {
    pub id: i64,
    pub source: String,
    pub file_name: String,
    pub file_hash: String,
    pub billing_period: String,
    pub rows_read: i64,
    pub rows_kept: i64,
    pub rows_rejected: i64,
    pub status: String,
    pub message: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// Stores a finished run; returns its id. (`runs::record` is what writers
/// call: it also writes the audit entry and the metrics.)
pub fn insert(conn: &mut DbConnection, run: &NewIngestRun) -> Result<i64, DbError> {
    Ok(diesel::insert_into(ingest_runs::table)
        .values(run)
        .returning(ingest_runs::id)
        .get_result(conn)?)
}

pub fn latest(conn: &mut DbConnection, limit: i64) -> Result<Vec<IngestRun>, DbError> {
    Ok(ingest_runs::table
        .select(IngestRun::as_select())
        .order(ingest_runs::id.desc())
        .limit(limit)
        .load(conn)?)
}

/// The version of the stored data: the id of the latest import. Every write
/// of cost, activity or utilisation data records an import, so caches keyed
/// by this see every change.
pub fn data_version(conn: &mut DbConnection) -> Result<Option<i64>, DbError> {
    Ok(ingest_runs::table
        .select(diesel::dsl::max(ingest_runs::id))
        .first(conn)?)
}

/// The latest run of one source.
pub fn latest_of(conn: &mut DbConnection, source: &str) -> Result<Option<IngestRun>, DbError> {
    Ok(ingest_runs::table
        .select(IngestRun::as_select())
        .filter(ingest_runs::source.eq(source))
        .order(ingest_runs::id.desc())
        .first(conn)
        .optional()?)
}

/// The latest successful run of one source.
pub fn latest_succeeded_of(
    conn: &mut DbConnection,
    source: &str,
) -> Result<Option<IngestRun>, DbError> {
    Ok(ingest_runs::table
        .select(IngestRun::as_select())
        .filter(ingest_runs::source.eq(source))
        .filter(ingest_runs::status.eq("ok"))
        .order(ingest_runs::id.desc())
        .first(conn)
        .optional()?)
}

/// Failed runs that started at or after `since`, oldest first.
pub fn failed_since(
    conn: &mut DbConnection,
    since: chrono::NaiveDateTime,
) -> Result<Vec<IngestRun>, DbError> {
    Ok(ingest_runs::table
        .filter(ingest_runs::status.eq("failed"))
        .filter(ingest_runs::started_at.ge(since))
        .select(IngestRun::as_select())
        .order(ingest_runs::id)
        .load(conn)?)
}

/// Runs after run `id`, oldest first.
pub fn after(conn: &mut DbConnection, id: i64) -> Result<Vec<IngestRun>, DbError> {
    Ok(ingest_runs::table
        .filter(ingest_runs::id.gt(id))
        .select(IngestRun::as_select())
        .order(ingest_runs::id)
        .load(conn)?)
}
