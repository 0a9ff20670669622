//! Stored allocation rules, in the order they apply.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::allocation_rules;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = allocation_rules)]
pub struct StoredRule {
    pub id: i64,
    pub position: i32,
    pub kind: String,
    pub pattern: String,
    pub platform: String,
    pub driver: String,
    pub note: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = allocation_rules)]
pub struct NewRule {
    pub position: i32,
    pub kind: String,
    pub pattern: String,
    pub platform: String,
    pub driver: String,
    pub note: String,
    pub updated_at: NaiveDateTime,
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<StoredRule>, DbError> {
    Ok(allocation_rules::table
        .select(StoredRule::as_select())
        .order((allocation_rules::position, allocation_rules::id))
        .load(conn)?)
}

/// Replaces every rule with `rules` (in their order). Call inside a
/// transaction with the re-allocation that follows.
pub fn replace_all(conn: &mut DbConnection, rules: &[NewRule]) -> Result<(), DbError> {
    diesel::delete(allocation_rules::table).execute(conn)?;
    for rule in rules {
        diesel::insert_into(allocation_rules::table)
            .values(rule)
            .execute(conn)?;
    }
    Ok(())
}
