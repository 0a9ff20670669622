//! Monthly budgets per platform (region `all`) or per platform × region.

use diesel::prelude::*;

use super::schema::budgets;
use super::{DbConnection, DbError};
use crate::money::Micros;

/// The scope value meaning "every platform" or "every region".
pub const ALL: &str = "all";

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = budgets)]
pub struct NewBudget {
    pub month: String,
    pub platform: String,
    pub region: String,
    pub amount_micros: i64,
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = budgets)]
pub struct Budget {
    pub month: String,
    pub platform: String,
    pub region: String,
    pub amount_micros: i64,
    pub currency: String,
}

impl Budget {
    pub fn amount(&self) -> Micros {
        Micros(self.amount_micros)
    }
}

/// Replaces the budgets of the months present in `rows`.
pub fn replace_budgets(conn: &mut DbConnection, rows: &[NewBudget]) -> Result<usize, DbError> {
    let mut months: Vec<&str> = rows.iter().map(|b| b.month.as_str()).collect();
    months.sort_unstable();
    months.dedup();
    diesel::delete(budgets::table.filter(budgets::month.eq_any(&months))).execute(conn)?;
    let mut n = 0;
    for chunk in rows.chunks(1000) {
        n += crate::with_backend!(conn, |c| diesel::insert_into(budgets::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

pub fn budgets_for_month(conn: &mut DbConnection, month: &str) -> Result<Vec<Budget>, DbError> {
    Ok(budgets::table
        .filter(budgets::month.eq(month))
        .select(Budget::as_select())
        .order((budgets::platform, budgets::region))
        .load(conn)?)
}
