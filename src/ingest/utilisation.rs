//! Utilisation exports: one row per instance (or fleet) per hour or day.
//!
//! ```text
//! timestamp,instance_id,instance_type,region,platform,cpu_avg,cpu_max,cpu_p95,mem_avg,mem_max
//! 2026-03-02T14:00:00Z,i-0a1b2c3d,c6i.2xlarge,eu-west-1,PC,41.2,78.9,71.0,55.1,60.3
//! ```
//!
//! Required: timestamp, instance_id (or resource_id, fleet_id), instance_type,
//! region, cpu_avg, cpu_max (percent). Optional: platform (empty:
//! unallocated), cpu_p95, cpu_p99, mem_avg, mem_max (percent),
//! network_bytes, running_hours, granularity (`hour` or `day`; without it a
//! file whose timestamps are all midnight is daily), resource_kind
//! (`instance` or `fleet`; `fleet` when the id column is fleet_id).
//! Re-importing replaces the same resources over the same period. A JSON
//! file is read as a CloudWatch GetMetricData answer (see `cloudwatch`).

use std::collections::BTreeSet;

use chrono::{NaiveDateTime, Timelike};
use diesel::Connection;

use super::errors::{ImportError, Problems};
use super::file::Input;
use super::small::{Cells, ReadRows, SmallTable};
use crate::db::schema::utilisation;
use crate::db::utilisation::{insert_utilisation, NewUtilisation};
use crate::db::{DbConnection, DbError};
use crate::dims::{Platform, UNALLOCATED};

pub const SOURCE: &str = crate::runs::Source::Utilisation.as_str();

const TIMESTAMP: &[&str] = &["timestamp", "period_start", "time", "hour", "day"];
const ID: &[&str] = &["instance_id", "resource_id", "fleet_id"];
const TYPE: &[&str] = &["instance_type"];
const REGION: &[&str] = &["region"];
const CPU_AVG: &[&str] = &["cpu_avg", "cpu_average"];
const CPU_MAX: &[&str] = &["cpu_max", "cpu_maximum"];

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UtilisationSummary {
    pub file: String,
    pub ingest_run_id: i64,
    pub rows: u64,
    pub resources: u64,
    pub granularity: String,
    pub first: NaiveDateTime,
    pub last: NaiveDateTime,
    pub replaced_rows: u64,
}

fn percent(v: &str) -> Result<f64, String> {
    match v.trim_end_matches('%').parse::<f64>() {
        Ok(x) if (0.0..=100.0).contains(&x) => Ok(x),
        Ok(_) => Err("is not a percentage between 0 and 100".to_string()),
        Err(_) => Err("is not a number".to_string()),
    }
}

/// Reads and validates a utilisation file: CSV (or gzip'd CSV, Parquet),
/// or a CloudWatch GetMetricData answer as JSON.
pub fn read(input: &Input) -> Result<ReadRows<NewUtilisation>, ImportError> {
    let label = input.label.as_str();
    let prepared = super::file::prepare(input, &mut |_| {})?;
    if prepared.format == super::file::Format::Csv {
        let mut head = [0u8; 64];
        let n = std::fs::File::open(&prepared.path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|e| ImportError::Io {
                file: label.to_string(),
                message: e.to_string(),
            })?;
        if super::cloudwatch::looks_like(&head[..n]) {
            let text = std::fs::read_to_string(&prepared.path).map_err(|e| ImportError::Io {
                file: label.to_string(),
                message: e.to_string(),
            })?;
            return Ok(ReadRows {
                rows: super::cloudwatch::read(label, &text)?,
                sha256: prepared.sha256,
            });
        }
    }
    let table = SmallTable::from_prepared(
        label,
        &prepared,
        &[TIMESTAMP, ID, TYPE, REGION, CPU_AVG, CPU_MAX],
    )?;
    let fleet_ids = table.has("fleet_id") && !table.has("instance_id");
    let mut out = Vec::with_capacity(table.rows());
    let mut problems = Problems::new(label);
    for i in 0..table.rows() {
        let mut c = Cells::new(&table, i);
        let ts = c.timestamp(TIMESTAMP);
        let id = c.text(ID);
        let instance_type = c.text(TYPE);
        let region = c.text(REGION);
        let platform = c
            .optional(&["platform"], |v| {
                v.parse::<Platform>()
                    .map(|p| p.as_str().to_string())
                    .map_err(|e| e.to_string())
            })
            .unwrap_or_else(|| UNALLOCATED.to_string());
        let cpu_avg = c.parse(CPU_AVG, percent);
        let cpu_max = c.parse(CPU_MAX, percent);
        let cpu_p95 = c.optional(&["cpu_p95"], percent);
        let cpu_p99 = c.optional(&["cpu_p99"], percent);
        let mem_avg = c.optional(&["mem_avg", "memory_avg"], percent);
        let mem_max = c.optional(&["mem_max", "memory_max"], percent);
        let network = c.optional_number(&["network_bytes"], 0.0);
        let running = c.optional_number(&["running_hours"], 0.0);
        let granularity = c.optional(&["granularity"], |v| {
            match v.to_ascii_lowercase().as_str() {
                "hour" | "hourly" => Ok("hour".to_string()),
                "day" | "daily" => Ok("day".to_string()),
                _ => Err("is not a granularity (use hour or day)".to_string()),
            }
        });
        let kind = c.optional(&["resource_kind"], |v| {
            match v.to_ascii_lowercase().as_str() {
                "instance" => Ok("instance".to_string()),
                "fleet" => Ok("fleet".to_string()),
                _ => Err("is not a resource kind (use instance or fleet)".to_string()),
            }
        });
        let row_problems = c.into_problems();
        if !row_problems.is_empty() {
            problems.bad_row(row_problems);
            continue;
        }
        let (Some(ts), Some(id), Some(instance_type), Some(region), Some(cpu_avg), Some(cpu_max)) =
            (ts, id, instance_type, region, cpu_avg, cpu_max)
        else {
            continue;
        };
        out.push(NewUtilisation {
            period_start: ts,
            granularity: granularity.unwrap_or_default(),
            resource_id: id,
            resource_kind: kind
                .unwrap_or_else(|| if fleet_ids { "fleet" } else { "instance" }.to_string()),
            instance_type,
            region,
            platform,
            running_hours: running.unwrap_or(-1.0),
            cpu_avg,
            cpu_p95,
            cpu_p99,
            cpu_max,
            mem_avg,
            mem_max,
            network_bytes: network,
            source: SOURCE.to_string(),
            ingest_run_id: None,
        });
    }
    problems.finish()?;
    // Rows without a granularity: daily if every timestamp is midnight.
    let daily = out
        .iter()
        .all(|r| r.period_start.hour() == 0 && r.period_start.minute() == 0);
    let default = if daily { "day" } else { "hour" };
    for r in &mut out {
        if r.granularity.is_empty() {
            r.granularity = default.to_string();
        }
        if r.running_hours < 0.0 {
            r.running_hours = if r.granularity == "day" { 24.0 } else { 1.0 };
        }
    }
    Ok(ReadRows {
        rows: out,
        sha256: table.sha256,
    })
}

/// Imports a utilisation file in one transaction, replacing the stored
/// rows of the same resources over the period the file covers.
pub fn import(conn: &mut DbConnection, input: &Input) -> Result<UtilisationSummary, ImportError> {
    super::recorded(conn, SOURCE, input, store)
}

fn store(
    conn: &mut DbConnection,
    input: &Input,
    started: &super::Started,
) -> Result<UtilisationSummary, ImportError> {
    let label = input.label.as_str();
    let ReadRows { rows, sha256 } = read(input)?;
    let Some((first, last)) = span(&rows) else {
        return Err(ImportError::NoRows {
            file: label.to_string(),
        });
    };
    let run = started.succeeded(
        &sha256,
        &format!("{}..{}", first.date(), last.date()),
        rows.len(),
    );
    let stored = replace_rows(conn, &rows, &run).map_err(|e| started.db_error(e))?;
    Ok(UtilisationSummary {
        file: label.to_string(),
        ingest_run_id: stored.ingest_run_id,
        rows: rows.len() as u64,
        resources: stored.resources,
        granularity: stored.granularity,
        first,
        last,
        replaced_rows: stored.replaced_rows,
    })
}

/// The first and last period of `rows`.
pub fn span(rows: &[NewUtilisation]) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let first = rows.iter().map(|r| r.period_start).min()?;
    let last = rows.iter().map(|r| r.period_start).max()?;
    Some((first, last))
}

/// What [`replace_rows`] stored.
pub struct Stored {
    pub ingest_run_id: i64,
    pub resources: u64,
    pub granularity: String,
    pub replaced_rows: u64,
}

/// Stores `rows` in one transaction with their run (`run`), replacing the
/// stored rows of the same resources over the period they cover (from a
/// file or a CloudWatch pull alike).
pub fn replace_rows(
    conn: &mut DbConnection,
    rows: &[NewUtilisation],
    run: &crate::db::ingest_runs::NewIngestRun,
) -> Result<Stored, DbError> {
    let (first, last) = span(rows).unwrap_or_default();
    let resources: BTreeSet<String> = rows.iter().map(|r| r.resource_id.clone()).collect();
    let granularity: BTreeSet<&str> = rows.iter().map(|r| r.granularity.as_str()).collect();
    let granularity = granularity.into_iter().collect::<Vec<_>>().join(",");
    conn.transaction::<_, DbError, _>(|conn| {
        use diesel::prelude::*;
        let ids: Vec<String> = resources.iter().cloned().collect();
        let mut replaced = 0;
        for chunk in ids.chunks(500) {
            replaced += diesel::delete(
                utilisation::table
                    .filter(utilisation::source.eq(SOURCE))
                    .filter(utilisation::period_start.ge(first))
                    .filter(utilisation::period_start.le(last))
                    .filter(utilisation::resource_id.eq_any(chunk)),
            )
            .execute(conn)?;
        }
        let run_id = crate::runs::record(conn, run)?;
        let rows: Vec<NewUtilisation> = rows
            .iter()
            .cloned()
            .map(|mut r| {
                r.ingest_run_id = Some(run_id);
                r
            })
            .collect();
        insert_utilisation(conn, &rows)?;
        Ok(Stored {
            ingest_run_id: run_id,
            resources: resources.len() as u64,
            granularity: granularity.clone(),
            replaced_rows: replaced as u64,
        })
    })
}
