//! The one currency policy. Amounts in different currencies are never
//! added: every report, forecast and recommendation works in one currency
//! and says which. That is the one asked for (`currency=` on a page), else
//! the reporting currency: the one most cost rows are in (ties:
//! alphabetical), or USD before any cost is imported.

use crate::db::costs;
use crate::db::{DbConnection, DbError};

/// Before any cost is imported.
pub const FALLBACK: &str = "USD";

/// The reporting currency of the stored costs.
pub fn reporting(conn: &mut DbConnection) -> Result<String, DbError> {
    Ok(most_used(costs::distinct_values(conn, "currency")?))
}

/// The first of currencies listed most used first (`costs::distinct_values`).
pub fn most_used(currencies: impl IntoIterator<Item = (String, i64)>) -> String {
    currencies
        .into_iter()
        .next()
        .map(|(c, _)| c)
        .unwrap_or_else(|| FALLBACK.to_string())
}
