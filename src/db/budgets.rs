//! Monthly budgets: for the total or any platform, region and service
//! (each `all` or one value), on billed or effective cost.

use diesel::prelude::*;

use super::schema::budgets;
use super::{DbConnection, DbError};
use crate::money::Micros;

/// The scope value meaning "every platform", "every region" or "every
/// service".
pub const ALL: &str = "all";

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = budgets)]
pub struct NewBudget {
    pub month: String,
    pub platform: String,
    pub region: String,
    pub service: String,
    /// `key=value` of a tag, or '' (no tag).
    pub tag: String,
    /// `effective` or `billed`.
    pub basis: String,
    pub amount_micros: i64,
    pub currency: String,
    pub note: String,
}

impl NewBudget {
    /// A budget on effective cost of a platform (or `all`) in every
    /// region and service.
    pub fn platform(month: &str, platform: &str, amount: Micros, currency: &str) -> NewBudget {
        NewBudget {
            month: month.to_string(),
            platform: platform.to_string(),
            region: ALL.to_string(),
            service: ALL.to_string(),
            tag: String::new(),
            basis: "effective".to_string(),
            amount_micros: amount.0,
            currency: currency.to_string(),
            note: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = budgets)]
pub struct Budget {
    pub id: i64,
    pub month: String,
    pub platform: String,
    pub region: String,
    pub service: String,
    pub tag: String,
    pub basis: String,
    pub amount_micros: i64,
    pub currency: String,
    pub note: String,
}

impl Budget {
    pub fn amount(&self) -> Micros {
        Micros(self.amount_micros)
    }

    /// The whole bill: every platform, region and service.
    pub fn is_total(&self) -> bool {
        self.platform == ALL && self.region == ALL && self.service == ALL && self.tag.is_empty()
    }

    /// A budget of one platform, every region and service.
    pub fn is_platform_only(&self) -> bool {
        self.platform != ALL && self.region == ALL && self.service == ALL && self.tag.is_empty()
    }

    /// "PC · us-east-1", "tag team=core", or the total.
    pub fn label(&self) -> String {
        crate::dims::budget_scope_label(&self.platform, &self.region, &self.service, &self.tag)
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

/// Sets one budget: replaces the one of the same month, scope, basis and
/// currency if there is one. Returns whether one was replaced.
pub fn set_budget(conn: &mut DbConnection, row: &NewBudget) -> Result<bool, DbError> {
    let replaced = remove_budget(
        conn,
        &BudgetKey {
            month: row.month.clone(),
            platform: row.platform.clone(),
            region: row.region.clone(),
            service: row.service.clone(),
            tag: row.tag.clone(),
            basis: row.basis.clone(),
            currency: row.currency.clone(),
        },
    )?;
    crate::with_backend!(conn, |c| diesel::insert_into(budgets::table)
        .values(row)
        .execute(c))?;
    Ok(replaced > 0)
}

/// What identifies a budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetKey {
    pub month: String,
    pub platform: String,
    pub region: String,
    pub service: String,
    pub tag: String,
    pub basis: String,
    pub currency: String,
}

/// Removes the budget of `key`; returns how many rows went (0 or 1).
pub fn remove_budget(conn: &mut DbConnection, key: &BudgetKey) -> Result<usize, DbError> {
    Ok(diesel::delete(
        budgets::table
            .filter(budgets::month.eq(&key.month))
            .filter(budgets::platform.eq(&key.platform))
            .filter(budgets::region.eq(&key.region))
            .filter(budgets::service.eq(&key.service))
            .filter(budgets::tag.eq(&key.tag))
            .filter(budgets::basis.eq(&key.basis))
            .filter(budgets::currency.eq(&key.currency)),
    )
    .execute(conn)?)
}

/// Removes a budget by id; returns whether there was one.
pub fn remove_budget_id(conn: &mut DbConnection, id: i64) -> Result<Option<Budget>, DbError> {
    let found = budgets::table
        .filter(budgets::id.eq(id))
        .select(Budget::as_select())
        .first(conn)
        .optional()?;
    if found.is_some() {
        diesel::delete(budgets::table.filter(budgets::id.eq(id))).execute(conn)?;
    }
    Ok(found)
}

pub fn budgets_for_month(conn: &mut DbConnection, month: &str) -> Result<Vec<Budget>, DbError> {
    budgets_between(conn, month, month)
}

/// Budgets of the months `from..=to` (`YYYY-MM`), by month and scope.
pub fn budgets_between(
    conn: &mut DbConnection,
    from: &str,
    to: &str,
) -> Result<Vec<Budget>, DbError> {
    Ok(budgets::table
        .filter(budgets::month.ge(from))
        .filter(budgets::month.le(to))
        .select(Budget::as_select())
        .order((
            budgets::month,
            budgets::platform,
            budgets::region,
            budgets::service,
            budgets::basis,
        ))
        .load(conn)?)
}
