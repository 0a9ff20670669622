//! Commitments already bought (Savings Plans, Reserved Instances), which
//! cover their part of the usage before anything new is recommended.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::commitments;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Insertable, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = commitments)]
pub struct Commitment {
    pub commitment_id: String,
    /// `compute_sp`, `ec2_instance_sp` or `reserved`.
    pub kind: String,
    /// '' when not scoped to a region.
    pub region: String,
    /// '' when not scoped to an instance family.
    pub family: String,
    pub instance_type: String,
    pub instance_count: i32,
    /// Paid per hour, upfront amortised, in micro-units.
    pub hourly_commitment_micros: i64,
    pub term_years: i32,
    pub payment: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub source: String,
}

/// Replaces the commitments of `source` with `rows`. Call inside a
/// transaction.
pub fn replace_source(
    conn: &mut DbConnection,
    source: &str,
    rows: &[Commitment],
) -> Result<usize, DbError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.commitment_id.as_str()).collect();
    let replaced = diesel::delete(
        commitments::table.filter(
            commitments::source
                .eq(source)
                .or(commitments::commitment_id.eq_any(ids)),
        ),
    )
    .execute(conn)?;
    for chunk in rows.chunks(500) {
        crate::with_backend!(conn, |c| diesel::insert_into(commitments::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(replaced)
}

/// Every commitment, by start date.
pub fn all(conn: &mut DbConnection) -> Result<Vec<Commitment>, DbError> {
    Ok(commitments::table
        .select(Commitment::as_select())
        .order((commitments::start_date, commitments::commitment_id))
        .load(conn)?)
}
