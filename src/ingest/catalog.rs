//! `finops catalog import FILE`: replaces the instance catalog (types and
//! prices, the format of `src/recommend/data/aws-instances.csv`) as a
//! whole. A file with any bad cell changes nothing.

use diesel::Connection;

use super::errors::ImportError;
use super::file::Input;
use crate::db::{DbConnection, DbError};
use crate::pricing;

pub const SOURCE: &str = crate::runs::Source::Catalog.as_str();

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CatalogSummary {
    pub file: String,
    pub ingest_run_id: i64,
    pub types: usize,
    pub prices: usize,
}

pub fn import(conn: &mut DbConnection, input: &Input) -> Result<CatalogSummary, ImportError> {
    super::recorded(conn, SOURCE, input, |conn, input, started| {
        let label = input.label.as_str();
        let (prepared, text) = super::file::prepared_text(input)?;
        let parsed =
            pricing::parse(label, &text).map_err(|e| super::file::format_error(label, e))?;
        conn.transaction::<_, DbError, _>(|conn| {
            let prices = crate::db::instance_catalog::replace(conn, &parsed)?;
            let ingest_run_id =
                crate::runs::record(conn, &started.succeeded(&prepared.sha256, "", prices))?;
            Ok(CatalogSummary {
                file: label.to_string(),
                ingest_run_id,
                types: parsed.types.len(),
                prices,
            })
        })
        .map_err(|e| started.db_error(e))
    })
}
