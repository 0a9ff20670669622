//! Building the whole service in one place: the database (migrated), the
//! demo data and demo sign-in when asked for, the scheduled pulls, and the
//! HTTP server with its routes and state. `finops serve` and the tests
//! start exactly this.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{web, App, HttpServer};

use super::state::AppState;
use super::{cache, client, guard, observe, routes};
use crate::config::Settings;
use crate::db::{self, costs, DbError, DbPool, DbTarget};
use crate::demo::{self, DemoOptions};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("settings: {0}")]
    Settings(String),
    #[error("the demo data: {0}")]
    Demo(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// Security headers on every answer. No inline scripts or styles are used,
/// so the policy needs no `unsafe-inline`.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Rows written so far of all there are (the demo's load).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// A built server bound to its port, not yet running, and what it said
/// while starting (for the operator).
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    notices: Vec<String>,
}

/// Loads the 24-month demo into a database with no costs (`serve --demo`);
/// says what it did.
fn demo_data(pool: &DbPool, progress: Progress) -> Result<String, StartError> {
    let mut conn = pool.get().map_err(DbError::from)?;
    let rows = costs::count_rows(&mut conn)?;
    if rows > 0 {
        return Ok(format!(
            "the database already has {rows} cost rows: not loading the demo"
        ));
    }
    let opts = DemoOptions {
        seed: 42,
        months: 24,
        end: DemoOptions::default_end(crate::clock::today()),
    };
    let data = demo::generate(&opts).map_err(|e| StartError::Demo(e.to_string()))?;
    let s = demo::load(&mut conn, &data, &opts, progress)
        .map_err(|e| StartError::Demo(e.to_string()))?;
    Ok(format!(
        "demo loaded: {} to {}, {} cost rows, {} player-activity rows, {} utilisation rows, {} budgets, {} calendar events",
        s.start, s.end, s.cost_rows, s.activity_rows, s.utilisation_rows, s.budgets, s.events
    ))
}

/// Whether the demo sign-in is on, and what to tell the operator about
/// sign-in. Once real users exist the demo sign-in ends for good, and its
/// users and sessions go with it whenever it is not on.
fn sign_in(pool: &DbPool, demo_asked: bool) -> Result<(bool, String), StartError> {
    let mut conn = pool.get().map_err(DbError::from)?;
    let real_users = crate::auth::sessions::has_real_users(&mut conn)?;
    let open = !crate::auth::sessions::demo_closed(&mut conn, demo_asked)?;
    let notice = if open {
        "DEMO SIGN-IN IS ON: anyone who can reach this address can sign in with one click (never use --demo for real data)"
    } else if demo_asked && real_users {
        "the database has its own users: the demo sign-in stays off"
    } else if !real_users {
        "no users yet: add the first admin with `finops user add NAME --role admin` (password on standard input)"
    } else {
        ""
    };
    Ok((open, notice.to_string()))
}

impl Application {
    /// Opens the database, applies migrations and builds the service
    /// (`bind` may use port 0; `port()` tells the real one).
    pub fn build(settings: &Settings) -> Result<Application, StartError> {
        let pool = db::connect_pool(&settings.database_url, settings.pool_size)?;
        {
            let mut conn = pool.get().map_err(DbError::from)?;
            db::run_migrations(&mut conn)?;
        }
        Application::build_with_pool(settings, pool, &mut |_, _| {})
    }

    /// As `build`, on a pool whose database is already migrated;
    /// `progress` follows the demo's load (`serve --demo`).
    pub fn build_with_pool(
        settings: &Settings,
        pool: DbPool,
        progress: Progress,
    ) -> Result<Application, StartError> {
        let mut notices = Vec::new();
        if settings.demo_data {
            notices.push(demo_data(&pool, progress)?);
        }
        let (demo_sign_in, notice) = sign_in(&pool, settings.demo_sign_in)?;
        notices.push(notice);
        let bind_err = |source| StartError::Bind {
            addr: settings.bind.clone(),
            source,
        };
        let listener = TcpListener::bind(&settings.bind).map_err(bind_err)?;
        let port = listener.local_addr().map_err(bind_err)?.port();
        let label = DbTarget::parse(&settings.database_url)
            .map(|t| t.redacted())
            .unwrap_or_default();
        let mut state = AppState::new(
            pool,
            label,
            settings.upload_limit_mb.saturating_mul(1024 * 1024),
        );
        state.pull_every_hours = settings.pull_every_hours;
        state.metrics = settings.metrics;
        state.metrics_access = settings.metrics_access;
        state.trusted_proxies = client::TrustedProxies::parse(&settings.trusted_proxies)
            .map_err(StartError::Settings)?;
        state.decompress = settings.decompress_limits();
        state.session_hours = settings.session_hours;
        state.demo_sign_in = demo_sign_in;
        state.alerts = std::sync::Arc::new(crate::alert::AlertSettings::from_settings(settings));
        tokio::spawn(crate::alert::schedule::run(
            state.pool.clone(),
            crate::alert::schedule::AlertSchedule {
                settings: (*state.alerts).clone(),
                every: (settings.alert_every_minutes > 0).then(|| {
                    std::time::Duration::from_secs(u64::from(settings.alert_every_minutes) * 60)
                }),
                tick: crate::alert::schedule::TICK,
            },
            state.alert_wakeup.clone(),
            state.clock.clone(),
        ));
        let jobs = crate::pull::scheduled_jobs(settings);
        if settings.pull_every_hours > 0 && !jobs.is_empty() {
            let names: Vec<String> = jobs.iter().map(|j| j.name()).collect();
            notices.push(format!(
                "pulling every {} hour(s): {}",
                settings.pull_every_hours,
                names.join(", ")
            ));
            tokio::spawn(crate::pull::schedule::run(
                state.pool.clone(),
                jobs,
                std::time::Duration::from_secs(u64::from(settings.pull_every_hours) * 3600),
                std::time::Duration::from_secs(u64::from(settings.schedule_tick_seconds)),
            ));
        }
        if settings.warm_pages {
            super::pages::warm::spawn(state.clone());
        }
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(256 * 1024))
                .wrap(actix_web::middleware::from_fn(guard::finish))
                .wrap(Compress::default())
                .wrap(
                    DefaultHeaders::new()
                        .add(("Content-Security-Policy", CSP))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin")),
                )
                .wrap(actix_web::middleware::from_fn(observe::observe))
                .configure(routes::configure)
                .default_service(
                    web::to(routes::not_found).wrap(actix_web::middleware::from_fn(guard::enforce)),
                )
        })
        .listen(listener)
        .map_err(bind_err)?
        .run();
        notices.retain(|n| !n.is_empty());
        Ok(Application {
            port,
            server,
            state,
            notices,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &DbPool {
        &self.state.pool
    }

    /// What starting up did that the operator should know.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The service's clock (tests move it forward instead of sleeping).
    pub fn clock(&self) -> crate::clock::SharedClock {
        self.state.clock.clone()
    }

    /// The response cache, for code in this process that writes data.
    pub fn cache(&self) -> std::sync::Arc<cache::ResponseCache> {
        self.state.cache.clone()
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM), letting
    /// requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server future, for tests that run it in the background.
    pub fn into_server(self) -> Server {
        self.server
    }
}
