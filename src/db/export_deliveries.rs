//! Per S3 export and billing period, the delivery last imported: its
//! manifest's key and ETag and the delivery's id (Data Exports'
//! `executionId`, the legacy report's `assemblyId`), so that a pull
//! re-imports a period only when its manifest changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::export_deliveries;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = export_deliveries)]
pub struct Imported {
    pub export_uri: String,
    pub billing_period: String,
    pub manifest_key: String,
    pub manifest_etag: String,
    pub delivery_id: String,
    pub files: i64,
    pub bytes: i64,
    pub ingest_run_id: i64,
    pub imported_at: NaiveDateTime,
}

/// Every period imported from `export_uri`.
pub fn of_export(conn: &mut DbConnection, export_uri: &str) -> Result<Vec<Imported>, DbError> {
    Ok(export_deliveries::table
        .filter(export_deliveries::export_uri.eq(export_uri))
        .select(Imported::as_select())
        .order(export_deliveries::billing_period)
        .load(conn)?)
}

/// Records (or replaces) the delivery imported for a period.
pub fn record(conn: &mut DbConnection, imported: &Imported) -> Result<(), DbError> {
    diesel::delete(
        export_deliveries::table
            .filter(export_deliveries::export_uri.eq(&imported.export_uri))
            .filter(export_deliveries::billing_period.eq(&imported.billing_period)),
    )
    .execute(conn)?;
    diesel::insert_into(export_deliveries::table)
        .values(imported)
        .execute(conn)?;
    Ok(())
}

/// Every period imported from any export, newest export first.
pub fn all(conn: &mut DbConnection) -> Result<Vec<Imported>, DbError> {
    Ok(export_deliveries::table
        .select(Imported::as_select())
        .order((
            export_deliveries::export_uri,
            export_deliveries::billing_period.desc(),
        ))
        .load(conn)?)
}
