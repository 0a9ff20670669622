//! `finops catalog import FILE`: replaces the instance catalog (types and
//! prices, the format of `src/pricing/data/aws-instances.csv`) as a
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

/// What `finops catalog import-aws` did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PriceListSummary {
    pub files: Vec<pricing::aws_price_list::ListFile>,
    pub ingest_run_id: i64,
    pub merge: pricing::ListMerge,
    /// Price rows the catalog now holds.
    pub prices: usize,
}

/// How far a price list import is: checking a file (UTF-8, hash, gzip),
/// then reading its prices.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PriceListProgress {
    Checking { file: usize, bytes: u64, total: u64 },
    Reading { file: usize, bytes: u64, total: u64 },
}

/// `finops catalog import-aws FILE...`: reads AWS Price List files (EC2
/// offer files of regions, JSON or CSV, and Savings Plans rate files) as
/// streams and lays their prices over the catalog in use, all files in
/// one change: if any file is refused, the catalog is unchanged.
pub fn import_aws(
    conn: &mut DbConnection,
    inputs: &[Input],
    progress: &mut dyn FnMut(PriceListProgress),
) -> Result<PriceListSummary, ImportError> {
    let names: Vec<&str> = inputs.iter().map(|i| i.label.as_str()).collect();
    let Some(first) = inputs.first() else {
        return Err(ImportError::Format {
            file: "-".to_string(),
            message: "give at least one price list file".to_string(),
        });
    };
    let label = format!("AWS Price List: {}", names.join(", "));
    let combined = first.clone().named(label.clone());
    super::recorded(conn, SOURCE, &combined, |conn, _, started| {
        let mut list = pricing::aws_price_list::PriceList::default();
        let mut hashes = Vec::new();
        for (k, input) in inputs.iter().enumerate() {
            let file = input.label.as_str();
            let size = std::fs::metadata(&input.path).map(|m| m.len()).unwrap_or(0);
            let prepared = super::file::prepare(input, &mut |bytes| {
                progress(PriceListProgress::Checking {
                    file: k,
                    bytes,
                    total: size,
                })
            })?;
            hashes.push(prepared.sha256.clone());
            let io = |e: std::io::Error| ImportError::Io {
                file: file.to_string(),
                message: e.to_string(),
            };
            let total = std::fs::metadata(&prepared.path).map_err(io)?.len();
            let reader = std::fs::File::open(&prepared.path).map_err(io)?;
            let read = list
                .read(file, reader, &mut |bytes| {
                    progress(PriceListProgress::Reading {
                        file: k,
                        bytes,
                        total,
                    })
                })
                .map_err(|e| super::file::format_error(file, e))?;
            tracing::info!(file, prices = read.prices, offer = %read.offer_code, "price list read");
        }
        let base = crate::db::instance_catalog::stored_or_built_in(conn)
            .map_err(|e| started.db_error(e))?;
        let (mut merged, merge) = base.with_price_list(&list);
        merged.source = label.clone();
        conn.transaction::<_, DbError, _>(|conn| {
            let prices = crate::db::instance_catalog::replace(conn, &merged)?;
            let ingest_run_id = crate::runs::record(
                conn,
                &started.succeeded(&hashes.join("+"), "", merge.on_demand + merge.commitments),
            )?;
            Ok(PriceListSummary {
                files: list.files.clone(),
                ingest_run_id,
                merge,
                prices,
            })
        })
        .map_err(|e| started.db_error(e))
    })
}
