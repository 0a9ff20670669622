//! What every handler shares: the pool, the response cache and a catalog
//! of the data, all keyed by the data version (the latest import).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::cache::ResponseCache;
use crate::db::{DbConnection, DbError, DbPool};
use crate::report::Catalog;

/// The catalog and the data version it was read at.
type CachedCatalog = (Option<i64>, Catalog);

/// How often the data version is re-read: the longest an import made by
/// another process takes to show.
pub const VERSION_RECHECK: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The database URL without its password, for the footer.
    pub database_label: String,
    pub cache: Arc<ResponseCache>,
    /// Forecasts, plans and recommendations shared by every user.
    pub results: Arc<super::shared::SharedResults>,
    /// Largest upload accepted, in bytes.
    pub upload_limit: u64,
    /// Hours between scheduled Cost Explorer pulls; 0 when off.
    pub pull_every_hours: u32,
    /// Whether `GET /metrics` answers.
    pub metrics: bool,
    /// Who reads `GET /metrics` without signing in.
    pub metrics_access: crate::auth::policy::MetricsAccess,
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: super::client::TrustedProxies,
    /// How far an uploaded compressed file may expand.
    pub decompress: crate::ingest::file::Limits,
    /// How long a browser session lasts.
    pub session_hours: u32,
    /// `serve --demo` on a database without its own users: the login form
    /// offers a labelled one-click sign-in per role.
    pub demo_sign_in: bool,
    /// Identities by credential, briefly.
    pub identities: Arc<super::guard::IdentityCache>,
    /// The clock every part of the service reads (tests move it).
    pub clock: crate::clock::SharedClock,
    /// Alert channels (shown without their secrets) and the public address.
    pub alerts: Arc<crate::alert::AlertSettings>,
    /// Wakes the alert loop after a change made through this process.
    pub alert_wakeup: Arc<tokio::sync::Notify>,
    catalog: Arc<Mutex<Option<CachedCatalog>>>,
}

impl AppState {
    pub fn new(pool: DbPool, database_label: String, upload_limit: u64) -> AppState {
        let clock = crate::clock::Clock::system();
        let cache = Arc::new(ResponseCache::new(
            clock.clone(),
            VERSION_RECHECK,
            1024,
            128 * 1024 * 1024,
        ));
        AppState {
            pool,
            database_label,
            upload_limit,
            pull_every_hours: 0,
            metrics: true,
            metrics_access: crate::auth::policy::MetricsAccess::Loopback,
            trusted_proxies: Default::default(),
            decompress: crate::ingest::file::Limits::default(),
            session_hours: crate::config::DEFAULT_SESSION_HOURS,
            demo_sign_in: false,
            identities: Arc::new(super::guard::IdentityCache::default()),
            results: cache.results(),
            cache,
            clock,
            alerts: Arc::new(crate::alert::AlertSettings::default()),
            alert_wakeup: Arc::new(tokio::sync::Notify::new()),
            catalog: Arc::new(Mutex::new(None)),
        }
    }

    /// The catalog at data `version`, re-read when the version moved.
    pub fn catalog(
        &self,
        conn: &mut DbConnection,
        version: Option<i64>,
    ) -> Result<Catalog, DbError> {
        if let Ok(guard) = self.catalog.lock() {
            if let Some((seen, catalog)) = guard.as_ref() {
                if *seen == version {
                    return Ok(catalog.clone());
                }
            }
        }
        let fresh = Catalog::load(conn)?;
        if let Ok(mut guard) = self.catalog.lock() {
            *guard = Some((version, fresh.clone()));
        }
        Ok(fresh)
    }
}
