//! What every handler shares: the pool and a catalog of the data that is
//! reloaded whenever an import has happened since it was read.

use std::sync::{Arc, Mutex};

use diesel::prelude::*;

use crate::db::schema::ingest_runs;
use crate::db::{DbConnection, DbError, DbPool};
use crate::report::Catalog;

/// The catalog and the latest import id it was read after.
type CachedCatalog = (Option<i64>, Catalog);

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The database URL without its password, for the footer.
    pub database_label: String,
    catalog: Arc<Mutex<Option<CachedCatalog>>>,
}

impl AppState {
    pub fn new(pool: DbPool, database_label: String) -> AppState {
        AppState {
            pool,
            database_label,
            catalog: Arc::new(Mutex::new(None)),
        }
    }

    /// The catalog, re-read when the latest import differs from the one it
    /// was read after. Costs one indexed lookup when nothing changed.
    pub fn catalog(&self, conn: &mut DbConnection) -> Result<Catalog, DbError> {
        let latest: Option<i64> = ingest_runs::table
            .select(diesel::dsl::max(ingest_runs::id))
            .first(conn)?;
        if let Ok(guard) = self.catalog.lock() {
            if let Some((seen, catalog)) = guard.as_ref() {
                if *seen == latest {
                    return Ok(catalog.clone());
                }
            }
        }
        let fresh = Catalog::load(conn)?;
        if let Ok(mut guard) = self.catalog.lock() {
            *guard = Some((latest, fresh.clone()));
        }
        Ok(fresh)
    }
}
