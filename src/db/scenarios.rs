//! Forecast scenarios as stored: the TOML text of each, by name.

use diesel::prelude::*;

use super::schema::scenarios;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = scenarios)]
pub struct StoredScenario {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub body: String,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = scenarios)]
struct NewScenario<'a> {
    name: &'a str,
    source: &'a str,
    body: &'a str,
    updated_at: chrono::NaiveDateTime,
}

/// Stores a scenario, replacing the one of the same name (or from the same
/// file). Returns how many it replaced.
pub fn save(
    conn: &mut DbConnection,
    name: &str,
    source: &str,
    body: &str,
) -> Result<usize, DbError> {
    let replaced = diesel::delete(
        scenarios::table.filter(scenarios::name.eq(name).or(scenarios::source.eq(source))),
    )
    .execute(conn)?;
    diesel::insert_into(scenarios::table)
        .values(NewScenario {
            name,
            source,
            body,
            updated_at: crate::clock::now(),
        })
        .execute(conn)?;
    Ok(replaced)
}

/// Every stored scenario, by name.
pub fn all(conn: &mut DbConnection) -> Result<Vec<StoredScenario>, DbError> {
    Ok(scenarios::table
        .order(scenarios::name)
        .select(StoredScenario::as_select())
        .load(conn)?)
}
