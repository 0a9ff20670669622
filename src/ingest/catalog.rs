//! `finops catalog import FILE`: replaces the instance catalog (types and
//! prices, the format of `src/recommend/data/aws-instances.csv`) as a
//! whole. A file with any bad cell changes nothing.

use diesel::Connection;

use super::errors::ImportError;
use super::file::Input;
use crate::db::ingest_runs;
use crate::db::{DbConnection, DbError};
use crate::recommend::catalog::{self, Catalog};

pub const SOURCE: &str = "catalog";

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CatalogSummary {
    pub file: String,
    pub ingest_run_id: i64,
    pub types: usize,
    pub prices: usize,
}

pub fn import(conn: &mut DbConnection, input: &Input) -> Result<CatalogSummary, ImportError> {
    super::recorded(conn, SOURCE, input, |conn, started_at| {
        let label = input.label.as_str();
        let (prepared, text) = super::file::prepared_text(input)?;
        let parsed =
            catalog::parse(label, &text).map_err(|e| super::file::format_error(label, e))?;
        conn.transaction::<_, DbError, _>(|conn| {
            let prices = crate::db::instance_catalog::replace(conn, &parsed)?;
            let ingest_run_id = ingest_runs::record(
                conn,
                &ingest_runs::NewIngestRun::succeeded(
                    SOURCE,
                    label,
                    &prepared.sha256,
                    "",
                    prices,
                    started_at,
                    String::new(),
                ),
            )?;
            Ok(CatalogSummary {
                file: label.to_string(),
                ingest_run_id,
                types: parsed.types.len(),
                prices,
            })
        })
        .map_err(|e| ImportError::Db {
            file: label.to_string(),
            source: e,
        })
    })
}

/// The catalog in use: the last imported one, or the built-in one.
pub fn current(conn: &mut DbConnection) -> Result<Catalog, DbError> {
    let label = ingest_runs::latest_succeeded_of(conn, SOURCE)?
        .map(|r| r.file_name)
        .unwrap_or_else(|| catalog::BUILT_IN_NAME.to_string());
    Ok(crate::db::instance_catalog::load(conn, &label)?.unwrap_or_else(catalog::built_in))
}
