//! AWS Cost Explorer's own recommendations as last pulled, shown beside
//! finops' own.

use diesel::prelude::*;

use super::schema::aws_advice;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Insertable, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = aws_advice)]
pub struct Advice {
    /// `savings_plans`, `reserved_instances` or `rightsizing`.
    pub kind: String,
    /// The request's parameters, e.g. `COMPUTE_SP ONE_YEAR NO_UPFRONT 30d`.
    pub parameters: String,
    /// What it applies to: an account, a family, an instance id.
    pub scope: String,
    pub region: String,
    pub current: String,
    pub recommended: String,
    pub hourly_commitment_micros: Option<i64>,
    pub monthly_savings_micros: i64,
    /// Share (0–1).
    pub expected_utilisation: Option<f64>,
    pub currency: String,
    pub pulled_at: chrono::NaiveDateTime,
}

/// Replaces the advice of the same kind and parameters.
pub fn replace(
    conn: &mut DbConnection,
    kind: &str,
    parameters: &str,
    rows: &[Advice],
) -> Result<usize, DbError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        diesel::delete(
            aws_advice::table
                .filter(aws_advice::kind.eq(kind))
                .filter(aws_advice::parameters.eq(parameters)),
        )
        .execute(conn)?;
        for chunk in rows.chunks(500) {
            crate::with_backend!(conn, |c| diesel::insert_into(aws_advice::table)
                .values(chunk)
                .execute(c))?;
        }
        Ok(rows.len())
    })
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<Advice>, DbError> {
    Ok(aws_advice::table
        .select(Advice::as_select())
        .order((aws_advice::kind, aws_advice::id))
        .load(conn)?)
}
