//! Getting data in: billing files (FOCUS, AWS CUR), utilisation and player
//! activity exports, and the allocation of costs to player platforms.
//!
//! A billing import reads the file once to check it (encoding, gzip) and
//! once with polars in streaming mode to validate and aggregate it to the
//! resource × day grain; then, in one transaction, it replaces the billing
//! periods the file covers (same source, provider and billing account),
//! stores the resource rows, allocates them to platforms and stores the
//! daily rows reports read. A file with any bad row imports nothing.

pub mod activity;
pub mod allocate;
pub mod billing;
pub mod calendar;
pub mod catalog;
pub mod cloudwatch;
pub mod commitments;
pub mod csv_blocks;
pub mod cur;
pub mod errors;
pub mod file;
pub mod focus;
pub mod registry;
pub mod rules;
pub mod scenario;
pub mod small;
pub mod table;
pub mod utilisation;

use std::time::Instant;

use chrono::NaiveDate;
use diesel::Connection;

use crate::db::ingest_runs::{self, NewIngestRun};
use crate::db::resource_costs::{self, Scope};
use crate::db::{costs, DbConnection, DbError};
use crate::money::Micros;
pub use errors::{ImportError, RowProblem};
pub use file::{Input, Limits};

/// What can stop the storing transaction.
enum StoreError {
    Db(DbError),
    Import(ImportError),
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> StoreError {
        StoreError::Db(e)
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> StoreError {
        StoreError::Db(DbError::Query(e))
    }
}

impl From<ImportError> for StoreError {
    fn from(e: ImportError) -> StoreError {
        StoreError::Import(e)
    }
}

/// Resource-day rows converted, allocated and stored at a time.
const STORE_SLICE: usize = 50_000;

/// The billing file formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BillingFormat {
    Focus,
    Cur,
}

impl BillingFormat {
    /// The `source` its rows are stored under.
    pub fn source(self) -> &'static str {
        match self {
            BillingFormat::Focus => crate::runs::Source::Focus.as_str(),
            BillingFormat::Cur => crate::runs::Source::Cur.as_str(),
        }
    }
}

/// Progress of a long import, for a progress bar.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Bytes of the file read so far, of `total`.
    Reading { bytes: u64, total: u64 },
    /// Validating and aggregating a file of `bytes` bytes (polars).
    Aggregating { bytes: u64 },
    /// Rows stored so far, of `total`.
    Storing { rows: u64, total: u64 },
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ImportSummary {
    pub file: String,
    pub source: String,
    pub ingest_run_id: i64,
    pub rows_read: u64,
    /// Rows at the resource × day grain.
    pub resource_rows: u64,
    /// Rows at the report grain (day × platform × region × …).
    pub cost_rows: u64,
    pub scopes: Vec<Scope>,
    /// Resource rows of earlier imports the scopes replaced.
    pub replaced_rows: u64,
    /// Billed cost per currency, and how much of it is unallocated.
    pub totals: Vec<CurrencyTotal>,
    pub seconds: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub billed: Micros,
    pub effective: Micros,
    pub unallocated_billed: Micros,
}

/// Imports one billing file. On error nothing is stored but a failed
/// `ingest_runs` row (so the Data sources page lists every attempt).
pub fn import_billing(
    conn: &mut DbConnection,
    format: BillingFormat,
    input: &Input,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    let delivery = Delivery {
        label: input.label.clone(),
        inputs: std::slice::from_ref(input),
        format: Some(format),
        period: None,
        replaces_runs: None,
    };
    import_delivery(conn, &delivery, progress, &mut |_, _| Ok(()))
}

/// A file import under way: what it reads and when it started. It makes
/// the import's run record and names the file in a storage error.
pub struct Started<'a> {
    pub source: &'a str,
    pub label: &'a str,
    pub at: chrono::NaiveDateTime,
}

impl Started<'_> {
    /// The run record of a successful import of `rows` rows from a file
    /// with this SHA-256 covering `period` ("" for none).
    pub fn succeeded(&self, sha256: &str, period: &str, rows: usize) -> NewIngestRun {
        NewIngestRun::succeeded(
            self.source,
            self.label,
            sha256,
            period,
            rows,
            self.at,
            String::new(),
        )
    }

    /// A storage error, naming the file.
    pub fn db_error(&self, source: DbError) -> ImportError {
        ImportError::Db {
            file: self.label.to_string(),
            source,
        }
    }
}

/// Runs an import of `input` (`run` reads and stores it) and records a
/// failed attempt as a failed `ingest_runs` row.
pub fn recorded<T>(
    conn: &mut DbConnection,
    source: &str,
    input: &Input,
    run: impl FnOnce(&mut DbConnection, &Input, &Started) -> Result<T, ImportError>,
) -> Result<T, ImportError> {
    let started = Started {
        source,
        label: &input.label,
        at: crate::clock::now(),
    };
    let result = run(conn, input, &started);
    if let Err(e) = &result {
        record_failure(conn, source, &input.label, started.at, e);
    }
    result
}

/// Records a failed attempt; a failure to record is logged, not raised
/// (the import's own error is what the user needs).
pub fn record_failure(
    conn: &mut DbConnection,
    source: &str,
    label: &str,
    started_at: chrono::NaiveDateTime,
    error: &ImportError,
) {
    let rejected = match error {
        ImportError::BadRows { count, .. } => *count as i64,
        _ => 0,
    };
    let run = NewIngestRun {
        source: source.to_string(),
        file_name: label.to_string(),
        file_hash: String::new(),
        billing_period: String::new(),
        rows_read: 0,
        rows_kept: 0,
        rows_rejected: rejected,
        status: crate::runs::Status::Failed.as_str().to_string(),
        message: error.details().join("\n"),
        started_at,
        finished_at: Some(crate::clock::now()),
    };
    if let Err(e) = crate::runs::record(conn, &run) {
        tracing::warn!(error = %e, "could not record the failed import");
    }
}

/// One delivery of billing data in several files (an S3 export's parts
/// of one billing period): imported as one, in one transaction, replacing
/// the periods it covers. `format` `None` tells FOCUS from CUR by the
/// columns. `after_store` runs inside the transaction with the run's id
/// (to record what was imported, atomically with it).
pub struct Delivery<'a> {
    /// What the run is called (an S3 prefix and period).
    pub label: String,
    pub inputs: &'a [Input],
    pub format: Option<BillingFormat>,
    /// The billing period (`YYYY-MM`) every line must belong to (an
    /// export's partition); `None` takes what the files hold.
    pub period: Option<String>,
    /// What the delivery replaces: `None`, the billing periods it holds
    /// for its billing accounts (as a file import); `Some(runs)`, exactly
    /// the rows those earlier runs stored (an export's earlier delivery of
    /// the period, so that two exports of one payer account, such as
    /// member accounts' own exports, never replace each other).
    pub replaces_runs: Option<Vec<i64>>,
}

/// Imports a [`Delivery`]; on error nothing is stored but a failed run.
pub fn import_delivery(
    conn: &mut DbConnection,
    delivery: &Delivery,
    progress: &mut dyn FnMut(Progress),
    after_store: &mut dyn FnMut(&mut DbConnection, i64) -> Result<(), DbError>,
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let started_at = crate::clock::now();
    let result = import_inner(conn, delivery, progress, after_store, started_at);
    match result {
        Ok(mut summary) => {
            summary.seconds = started.elapsed().as_secs_f64();
            tracing::info!(
                file = %summary.file,
                files = delivery.inputs.len(),
                rows = summary.rows_read,
                seconds = summary.seconds,
                "billing data imported"
            );
            Ok(summary)
        }
        Err(e) => {
            let source = delivery.format.unwrap_or(BillingFormat::Cur).source();
            record_failure(conn, source, &delivery.label, started_at, &e);
            Err(e)
        }
    }
}

/// A file's format by its columns: FOCUS has `BilledCost`.
fn detect(table: &table::Table) -> BillingFormat {
    if table.has("BilledCost") {
        BillingFormat::Focus
    } else {
        BillingFormat::Cur
    }
}

/// Reads, checks and sums one file: its exact resource-day sums, format
/// and SHA-256.
fn group_file(
    input: &Input,
    format: Option<BillingFormat>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(billing::Grouped, BillingFormat, String), ImportError> {
    let label = input.label.as_str();
    let total = std::fs::metadata(&input.path).map(|m| m.len()).unwrap_or(0);
    let mut prepared = file::prepare_deferred(input, &mut |bytes| {
        progress(Progress::Reading { bytes, total })
    })?;
    if prepared.checked && prepared.format == file::Format::Csv && prepared.lines == 0 {
        return Err(ImportError::NoRows {
            file: label.to_string(),
        });
    }
    progress(Progress::Aggregating {
        bytes: prepared.bytes,
    });
    let mut found = format.unwrap_or(BillingFormat::Cur);
    let mut read = || -> Result<billing::Grouped, ImportError> {
        let table = table::scan(label, &prepared, false)?;
        found = format.unwrap_or_else(|| detect(&table));
        let fields = match found {
            BillingFormat::Focus => focus::fields(label, &table)?,
            BillingFormat::Cur => cur::fields(label, &table)?,
        };
        let numbered = || table::scan(label, &prepared, true);
        table::check_cell_sizes(label, &table, &numbered)?;
        match prepared.format {
            file::Format::Csv => {
                billing::group_csv_blocks(label, &table, &prepared.path, &numbered, &fields)
            }
            file::Format::Parquet => billing::group(label, &table, &numbered, &fields),
        }
    };
    let grouped = match read() {
        // The CSV reader refuses invalid UTF-8 without saying where: find it.
        Err(ImportError::Format { .. })
            if !prepared.checked && prepared.format == file::Format::Csv =>
        {
            match file::locate_invalid_utf8(&prepared.path) {
                Some((line, offset)) => Err(ImportError::Encoding {
                    file: label.to_string(),
                    line,
                    offset,
                }),
                None => read(),
            }
        }
        other => other,
    }?;
    let sha256 = prepared.finish_hash(label)?;
    Ok((grouped, found, sha256))
}

fn import_inner(
    conn: &mut DbConnection,
    delivery: &Delivery,
    progress: &mut dyn FnMut(Progress),
    after_store: &mut dyn FnMut(&mut DbConnection, i64) -> Result<(), DbError>,
    started_at: chrono::NaiveDateTime,
) -> Result<ImportSummary, ImportError> {
    let label = delivery.label.as_str();
    let clock = Instant::now();
    let mut parts = Vec::with_capacity(delivery.inputs.len());
    let mut hashes = Vec::with_capacity(delivery.inputs.len());
    let mut format = delivery.format;
    for input in delivery.inputs {
        let (grouped, found, sha256) = match group_file(input, format, progress) {
            // An export's part without lines (a period without charges).
            Err(ImportError::NoRows { .. } | ImportError::Empty { .. })
                if delivery.replaces_runs.is_some() =>
            {
                continue;
            }
            other => other?,
        };
        if let Some(f) = format {
            if f != found {
                return Err(ImportError::Format {
                    file: input.label.clone(),
                    message: format!(
                        "is a {} file but the delivery's other files are {}",
                        found.source(),
                        f.source()
                    ),
                });
            }
        }
        format = Some(found);
        parts.push(grouped);
        hashes.push(sha256);
    }
    let format = format.unwrap_or(BillingFormat::Cur);
    if parts.is_empty() {
        if let Some(runs) = &delivery.replaces_runs {
            return store_empty(conn, delivery, format, runs, after_store, started_at);
        }
    }
    let aggregated = billing::Grouped::merge(label, parts)?.finish(label)?;
    let sha256 = match hashes.as_slice() {
        [one] => one.clone(),
        many => {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            for one in many {
                h.update(one.as_bytes());
            }
            format!("{:x}", h.finalize())
        }
    };
    let aggregated_at = clock.elapsed();
    let source = format.source();
    let (scope_keys, span) = aggregated.scopes(label)?;
    let scopes: Vec<Scope> = scope_keys
        .into_iter()
        .map(|(provider, billing_account, billing_period)| Scope {
            source: source.to_string(),
            provider,
            billing_account,
            billing_period,
        })
        .collect();
    if let Some(period) = &delivery.period {
        if let Some(other) = scopes.iter().find(|s| &s.billing_period != period) {
            return Err(ImportError::Format {
                file: label.to_string(),
                message: format!(
                    "the delivery of billing period {period} holds lines of billing period {} (account {}); nothing imported",
                    other.billing_period, other.billing_account
                ),
            });
        }
    }
    let db_err = |e: DbError| ImportError::Db {
        file: label.to_string(),
        source: e,
    };
    let rules = rules::load(conn).map_err(|e| match e {
        rules::RulesError::Db(d) => db_err(d),
        other => ImportError::Format {
            file: label.to_string(),
            message: other.to_string(),
        },
    })?;
    let drivers = rules::drivers_between(conn, span).map_err(db_err)?;
    let periods: Vec<String> = {
        let mut p: Vec<String> = scopes.iter().map(|s| s.billing_period.clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    let stored_total = aggregated.len() as u64;
    let outcome = conn
        .transaction::<_, StoreError, _>(|conn| {
            let run_id = crate::runs::record(
                conn,
                &ingest_runs::NewIngestRun::succeeded(
                    source,
                    label,
                    &sha256,
                    &periods.join(","),
                    aggregated.rows_read as usize,
                    started_at,
                    String::new(),
                ),
            )?;
            let mut replaced = 0;
            match &delivery.replaces_runs {
                None => {
                    for scope in &scopes {
                        replaced += resource_costs::delete_scope(conn, scope)?;
                    }
                }
                Some(runs) => replaced += resource_costs::delete_runs(conn, runs)?,
            }
            // A slice at a time, so memory stays bounded by the slice.
            let mut merged = allocate::CostSums::default();
            let mut start = 0;
            while start < aggregated.len() {
                let end = (start + STORE_SLICE).min(aggregated.len());
                let rows = aggregated.rows(label, start, end)?;
                let allocation =
                    allocate::allocate(&rows, &rules, &drivers, source, Some(run_id), false);
                resource_costs::insert(
                    conn,
                    source,
                    &rows,
                    &allocation.allocated_to,
                    false,
                    Some(run_id),
                    &mut |n| {
                        progress(Progress::Storing {
                            rows: (start + n) as u64,
                            total: stored_total,
                        })
                    },
                )?;
                merged.add(allocation.costs);
                tracing::debug!(
                    stored = end,
                    total = aggregated.len(),
                    "stored a slice of resource-days"
                );
                start = end;
            }
            let costs = merged.into_costs();
            costs::insert_costs(conn, &costs)?;
            after_store(conn, run_id)?;
            Ok((run_id, replaced, costs))
        })
        .map_err(|e| match e {
            StoreError::Db(d) => db_err(d),
            StoreError::Import(i) => i,
        })?;
    let (run_id, replaced, costs) = outcome;
    tracing::debug!(
        read_seconds = aggregated_at.as_secs_f64(),
        store_seconds = (clock.elapsed() - aggregated_at).as_secs_f64(),
        "import phases"
    );
    let mut totals: std::collections::BTreeMap<String, CurrencyTotal> = Default::default();
    for c in &costs {
        let t = totals
            .entry(c.currency.clone())
            .or_insert_with(|| CurrencyTotal {
                currency: c.currency.clone(),
                billed: Micros::ZERO,
                effective: Micros::ZERO,
                unallocated_billed: Micros::ZERO,
            });
        t.billed += Micros(c.billed_micros);
        t.effective += Micros(c.effective_micros);
        if c.platform == crate::dims::UNALLOCATED {
            t.unallocated_billed += Micros(c.billed_micros);
        }
    }
    Ok(ImportSummary {
        file: label.to_string(),
        source: source.to_string(),
        ingest_run_id: run_id,
        rows_read: aggregated.rows_read,
        resource_rows: aggregated.len() as u64,
        cost_rows: costs.len() as u64,
        scopes,
        replaced_rows: replaced as u64,
        totals: totals.into_values().collect(),
        seconds: 0.0,
    })
}

/// An export's delivery without lines: what the earlier delivery stored is
/// removed, and the run says the period has no charges.
fn store_empty(
    conn: &mut DbConnection,
    delivery: &Delivery,
    format: BillingFormat,
    runs: &[i64],
    after_store: &mut dyn FnMut(&mut DbConnection, i64) -> Result<(), DbError>,
    started_at: chrono::NaiveDateTime,
) -> Result<ImportSummary, ImportError> {
    let label = delivery.label.as_str();
    let period = delivery.period.clone().unwrap_or_default();
    let (run_id, replaced) = conn
        .transaction::<_, DbError, _>(|conn| {
            let replaced = resource_costs::delete_runs(conn, runs)?;
            let run_id = crate::runs::record(
                conn,
                &ingest_runs::NewIngestRun::succeeded(
                    format.source(),
                    label,
                    "",
                    &period,
                    0,
                    started_at,
                    "the delivery has no lines: no charges in this billing period".to_string(),
                ),
            )?;
            after_store(conn, run_id)?;
            Ok((run_id, replaced))
        })
        .map_err(|e| ImportError::Db {
            file: label.to_string(),
            source: e,
        })?;
    Ok(ImportSummary {
        file: label.to_string(),
        source: format.source().to_string(),
        ingest_run_id: run_id,
        rows_read: 0,
        resource_rows: 0,
        cost_rows: 0,
        scopes: Vec::new(),
        replaced_rows: replaced as u64,
        totals: Vec::new(),
        seconds: 0.0,
    })
}

/// First and last day of a set of rows.
pub fn day_span<'a>(days: impl Iterator<Item = &'a NaiveDate>) -> Option<(NaiveDate, NaiveDate)> {
    days.fold(None, |acc, d| match acc {
        None => Some((*d, *d)),
        Some((a, b)) => Some((a.min(*d), b.max(*d))),
    })
}
