//! `finops ingest commitments FILE`: the commitments already bought, one
//! row each, replacing the previously imported list.
//!
//! ```text
//! commitment_id,kind,region,family,instance_type,instance_count,hourly_commitment,term_years,payment,start_date,end_date
//! sp-0a1b,compute_sp,,,,0,330.00,1,partial,2026-01-15,2027-01-14
//! ri-77c2,reserved,eu-west-1,c6i,c6i.4xlarge,12,5.6712,3,all,2024-06-01,2027-05-31
//! ```
//!
//! `hourly_commitment` is what is paid per hour with any upfront payment
//! amortised over the term (for Savings Plans: the hourly commitment).
//! `region`, `family` and `instance_type` may be empty where the offer is
//! not scoped to them (a Compute Savings Plan).

use diesel::Connection;

use super::errors::{ImportError, Problems, RowProblem};
use super::file::Input;
use super::small::{Cells, ReadRows, SmallTable};
use crate::db::commitments::{self, Commitment};
use crate::db::{DbConnection, DbError};
use crate::money::Micros;
use crate::pricing::{Offer, Payment};

pub const SOURCE: &str = crate::runs::Source::Commitments.as_str();

const ID: &[&str] = &["commitment_id", "id"];
const KIND: &[&str] = &["kind", "type"];
const REGION: &[&str] = &["region"];
const FAMILY: &[&str] = &["family", "instance_family"];
const INSTANCE_TYPE: &[&str] = &["instance_type"];
const COUNT: &[&str] = &["instance_count", "count"];
const HOURLY: &[&str] = &["hourly_commitment", "hourly"];
const TERM: &[&str] = &["term_years", "term"];
const PAYMENT: &[&str] = &["payment", "payment_option"];
const START: &[&str] = &["start_date", "start"];
const END: &[&str] = &["end_date", "end"];

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CommitmentsSummary {
    pub file: String,
    pub ingest_run_id: i64,
    pub commitments: usize,
    pub replaced: usize,
}

pub fn read(input: &Input) -> Result<ReadRows<Commitment>, ImportError> {
    let label = input.label.as_str();
    let table = SmallTable::read(input, &[ID, KIND, HOURLY, TERM, PAYMENT, START, END])?;
    let mut out = Vec::with_capacity(table.rows());
    let mut problems = Problems::new(label);
    for i in 0..table.rows() {
        let mut cells = Cells::new(&table, i);
        let id = cells.text(ID);
        let kind = cells.parse(KIND, |v| {
            Offer::parse(v)
                .map(|o| o.as_str().to_string())
                .ok_or_else(|| {
                    "is not a kind (compute_sp, ec2_instance_sp or reserved)".to_string()
                })
        });
        let region = cells
            .optional(REGION, |v| Ok(v.to_string()))
            .unwrap_or_default();
        let family = cells
            .optional(FAMILY, |v| Ok(v.to_string()))
            .unwrap_or_default();
        let instance_type = cells
            .optional(INSTANCE_TYPE, |v| Ok(v.to_string()))
            .unwrap_or_default();
        let count = cells
            .optional(COUNT, |v| {
                v.parse::<i32>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| "is not a whole number of instances".to_string())
            })
            .unwrap_or(0);
        let hourly = cells.parse(HOURLY, |v| {
            Micros::parse(v)
                .ok()
                .filter(|m| m.0 > 0)
                .ok_or_else(|| "is not a positive amount per hour".to_string())
        });
        let term = cells.parse(TERM, |v| match v.trim_end_matches(['y', 'Y']) {
            "1" => Ok(1),
            "3" => Ok(3),
            _ => Err("is not a term (1 or 3 years)".to_string()),
        });
        let payment = cells.parse(PAYMENT, |v| {
            Payment::parse(v)
                .map(|p| p.as_str().to_string())
                .ok_or_else(|| "is not a payment option (no, partial or all)".to_string())
        });
        let start = cells.date(START);
        let end = cells.date(END);
        let mut row_problems = cells.into_problems();
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                row_problems.push(RowProblem {
                    line: i as u64 + 2,
                    column: "end_date".to_string(),
                    value: e.to_string(),
                    reason: "is before the start date".to_string(),
                });
            }
        }
        if let (Some(k), true) = (&kind, region.is_empty()) {
            if k != Offer::ComputeSp.as_str() {
                row_problems.push(RowProblem {
                    line: i as u64 + 2,
                    column: "region".to_string(),
                    value: String::new(),
                    reason: "is empty; EC2 Instance Savings Plans and RIs are bought for a region"
                        .to_string(),
                });
            }
        }
        match (
            row_problems.is_empty(),
            id,
            kind,
            hourly,
            term,
            payment,
            start,
            end,
        ) {
            (
                true,
                Some(id),
                Some(kind),
                Some(hourly),
                Some(term),
                Some(payment),
                Some(s),
                Some(e),
            ) => out.push(Commitment {
                commitment_id: id,
                kind,
                region,
                family,
                instance_type,
                instance_count: count,
                hourly_commitment_micros: hourly.0,
                term_years: term,
                payment,
                start_date: s,
                end_date: e,
                source: SOURCE.to_string(),
            }),
            _ => problems.bad_row(row_problems),
        }
    }
    problems.finish()?;
    Ok(ReadRows {
        rows: out,
        sha256: table.sha256,
    })
}

pub fn import(conn: &mut DbConnection, input: &Input) -> Result<CommitmentsSummary, ImportError> {
    super::recorded(conn, SOURCE, input, |conn, input, started| {
        let label = input.label.as_str();
        let ReadRows { rows, sha256 } = read(input)?;
        conn.transaction::<_, DbError, _>(|conn| {
            let replaced = commitments::replace_source(conn, SOURCE, &rows)?;
            let ingest_run_id =
                crate::runs::record(conn, &started.succeeded(&sha256, "", rows.len()))?;
            Ok(CommitmentsSummary {
                file: label.to_string(),
                ingest_run_id,
                commitments: rows.len(),
                replaced,
            })
        })
        .map_err(|e| started.db_error(e))
    })
}
