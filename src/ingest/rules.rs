//! Allocation rules in the database: loading them, saving an edited list,
//! and re-applying them to every stored import.

use diesel::Connection;

use super::allocate::{self, compile_all, Drivers, Rule, RuleError, RuleInput};
use super::billing::ResourceDay;
use crate::db::{activity, allocation_rules, costs, resource_costs, DbConnection, DbError};

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error(transparent)]
    Invalid(#[from] RuleError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RulesError {
    fn from(e: diesel::result::Error) -> RulesError {
        RulesError::Db(DbError::Query(e))
    }
}

/// The stored rules, validated, in order.
pub fn load(conn: &mut DbConnection) -> Result<Vec<Rule>, RulesError> {
    let stored = allocation_rules::list(conn)?;
    let inputs: Vec<RuleInput> = stored.iter().map(RuleInput::from).collect();
    Ok(compile_all(&inputs)?)
}

/// Player activity over the days `rows` cover.
pub fn drivers_for(conn: &mut DbConnection, rows: &[ResourceDay]) -> Result<Drivers, DbError> {
    drivers_between(conn, super::day_span(rows.iter().map(|r| &r.day)))
}

/// Player activity over `[from, to]`.
pub fn drivers_between(
    conn: &mut DbConnection,
    span: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) -> Result<Drivers, DbError> {
    match span {
        Some((from, to)) => Ok(Drivers::new(&activity::daily_drivers(conn, from, to)?)),
        None => Ok(Drivers::default()),
    }
}

/// What re-applying the rules changed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Reapplied {
    pub scopes: usize,
    pub resource_rows: usize,
    pub ingest_run_id: i64,
}

/// Validates and stores `inputs` as the new rule list, then re-applies it
/// to every stored import, all in one transaction: a bad rule changes
/// nothing.
pub fn save(
    conn: &mut DbConnection,
    inputs: &[RuleInput],
    who: &str,
) -> Result<Reapplied, RulesError> {
    let rules = compile_all(inputs)?;
    conn.transaction::<_, RulesError, _>(|conn| {
        let new: Vec<_> = rules
            .iter()
            .zip(inputs)
            .enumerate()
            .map(|(i, (r, input))| r.to_new(i + 1, &input.note))
            .collect();
        allocation_rules::replace_all(conn, &new)?;
        reapply_in(
            conn,
            &rules,
            &format!("{} allocation rule(s) saved by {who}", rules.len()),
        )
    })
}

/// Re-applies the stored rules to every stored import (after new player
/// activity arrives, for example).
pub fn reapply(conn: &mut DbConnection, why: &str) -> Result<Reapplied, RulesError> {
    conn.transaction::<_, RulesError, _>(|conn| {
        let rules = load(conn)?;
        reapply_in(conn, &rules, why)
    })
}

fn reapply_in(conn: &mut DbConnection, rules: &[Rule], why: &str) -> Result<Reapplied, RulesError> {
    let started_at = crate::clock::now();
    let scopes = resource_costs::all_scopes(conn)?;
    let mut resource_rows = 0;
    for scope in &scopes {
        let parts = resource_costs::load_scope(conn, scope)?;
        resource_costs::delete_scope(conn, scope)?;
        for part in parts {
            let rows = &part.rows;
            let drivers = drivers_for(conn, rows)?;
            let allocation = allocate::allocate(
                rows,
                rules,
                &drivers,
                &scope.source,
                part.ingest_run_id,
                part.estimated,
            );
            resource_costs::insert(
                conn,
                &scope.source,
                rows,
                &allocation.allocated_to,
                part.estimated,
                part.ingest_run_id,
                &mut |_| {},
            )?;
            costs::insert_costs(conn, &allocation.costs)?;
            resource_rows += rows.len();
        }
    }
    // A run row bumps the data version, so cached reports refresh.
    let ingest_run_id = crate::runs::record_change(
        conn,
        crate::runs::Source::Rules,
        "",
        resource_rows,
        started_at,
        format!("{why}; re-applied to {} billing period(s)", scopes.len()),
    )?;
    Ok(Reapplied {
        scopes: scopes.len(),
        resource_rows,
        ingest_run_id,
    })
}
