//! Storage: one diesel connection type over SQLite (embedded default) and
//! PostgreSQL (team deployment), chosen by the URL scheme.

pub mod activity;
pub mod alerts;
pub mod allocation_rules;
pub mod anomalies;
pub mod api_tokens;
pub mod audit;
pub mod aws_advice;
pub mod budgets;
pub mod calendar;
pub mod commitments;
pub mod costs;
pub mod export_deliveries;
pub mod ingest_runs;
pub mod instance_catalog;
pub mod lock;
pub mod resource_costs;
pub mod scenarios;
pub mod scheduled_jobs;
pub mod schema;
pub mod sessions;
pub mod sign_in_limits;
pub mod sql;
pub mod users;
pub mod utilisation;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use sql::{Dialect, Sql};

/// A connection to either backend. Queries written with the diesel DSL run
/// on both; `Sql` writes backend-specific SQL where it must.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    pub fn dialect(&self) -> Dialect {
        match self {
            DbConnection::Postgres(_) => Dialect::Postgres,
            DbConnection::Sqlite(_) => Dialect::Sqlite,
        }
    }
}

/// Runs `$body` with `$c` bound to the concrete backend connection, for the
/// few statements the common `MultiBackend` cannot express (multi-row
/// inserts).
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

pub type DbPool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database connection pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// Where the data lives, parsed from the database URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbTarget {
    /// Path of the SQLite file.
    Sqlite(String),
    /// libpq connection URL.
    Postgres(String),
}

impl DbTarget {
    /// `sqlite://finops.db` (relative), `sqlite:///var/lib/finops.db`
    /// (absolute), `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<DbTarget, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::UnsupportedUrl(url.to_string()));
            }
            Ok(DbTarget::Sqlite(path.to_string()))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(DbError::UnsupportedUrl(url.to_string()));
            }
            Ok(DbTarget::Sqlite(path.to_string()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbTarget::Postgres(url.to_string()))
        } else {
            Err(DbError::UnsupportedUrl(url.to_string()))
        }
    }

    /// The URL with any password removed, for logs and pages.
    pub fn redacted(&self) -> String {
        match self {
            DbTarget::Sqlite(path) => format!("sqlite://{path}"),
            DbTarget::Postgres(url) => redact_password(url),
        }
    }

    pub fn connect(&self) -> Result<DbConnection, DbError> {
        match self {
            DbTarget::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| DbError::Connect(format!("{path}: {e}")))?;
                // The busy timeout comes first: switching to WAL takes a
                // lock, and a second process opening the file at that
                // moment must wait rather than fail. WAL then lets readers
                // and one writer work at once.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| DbError::Connect(format!("{path}: {e}")))?;
                Ok(DbConnection::Sqlite(conn))
            }
            DbTarget::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(|e| DbError::Connect(format!("{}: {e}", redact_password(url)))),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &rest[at..]),
        None => url.to_string(),
    }
}

/// r2d2 manager that opens the right backend for the URL.
#[derive(Clone, Debug)]
pub struct Manager {
    target: DbTarget,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        self.target.connect()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.ping().map_err(DbError::Query)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Logs connection failures the pool meets (a database restart, a
/// network cut) as warnings: the pool retries on the next checkout.
#[derive(Debug)]
struct PoolErrorLog;

impl r2d2::HandleError<DbError> for PoolErrorLog {
    fn handle_error(&self, error: DbError) {
        tracing::warn!(error = %error, "database connection lost; will reconnect");
    }
}

/// Opens one connection, saying clearly why when the URL is wrong, the
/// SQLite file's directory is missing or the server does not answer.
/// Short-lived processes (the CLI) use this: a pool's background threads
/// would still be opening connections while the process exits.
pub fn connect(url: &str) -> Result<DbConnection, DbError> {
    let target = DbTarget::parse(url)?;
    check_sqlite_directory(&target)?;
    target.connect()
}

fn check_sqlite_directory(target: &DbTarget) -> Result<(), DbError> {
    if let DbTarget::Sqlite(path) = target {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                return Err(DbError::Connect(format!(
                    "{path}: directory {} does not exist",
                    parent.display()
                )));
            }
        }
    }
    Ok(())
}

/// Opens a pool. The first connection is made eagerly, so a bad URL or an
/// unreachable server fails here with a clear message.
pub fn connect_pool(url: &str, max_size: u32) -> Result<DbPool, DbError> {
    let target = DbTarget::parse(url)?;
    check_sqlite_directory(&target)?;
    // Fail fast with the real error rather than a pool timeout.
    drop(target.connect()?);
    let pool = r2d2::Pool::builder()
        .max_size(max_size.max(1))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(true)
        .error_handler(Box::new(PoolErrorLog))
        .build_unchecked(Manager { target });
    Ok(pool)
}

/// Applies pending migrations; returns the versions applied. Processes
/// that start together (a service and its CLI jobs, several replicas)
/// take turns: a lock is held while the pending list is read and applied
/// (SQLite: an exclusive transaction; PostgreSQL: a transaction-scoped
/// advisory lock), so each migration runs once.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    /// The advisory lock's key ("finops" in ASCII, as a number).
    const MIGRATION_LOCK: i64 = 0x66_69_6e_6f_70_73;
    let applied = match conn {
        DbConnection::Sqlite(c) => c.exclusive_transaction(|c| apply(c, SQLITE_MIGRATIONS)),
        DbConnection::Postgres(c) => c.transaction(|c| {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .execute(c)?;
            apply(c, POSTGRES_MIGRATIONS)
        }),
    }
    .map_err(|e| DbError::Migration(e.0))?;
    Ok(applied)
}

/// A migration's failure, as text (diesel's harness boxes its errors).
struct MigrationFailure(String);

impl From<diesel::result::Error> for MigrationFailure {
    fn from(e: diesel::result::Error) -> MigrationFailure {
        MigrationFailure(e.to_string())
    }
}

fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, MigrationFailure>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    conn.run_pending_migrations(migrations)
        .map(|applied| applied.into_iter().map(|v| v.to_string()).collect())
        .map_err(|e| MigrationFailure(e.to_string()))
}

/// Refreshes the planner's statistics after a bulk load.
pub fn analyze(conn: &mut DbConnection) -> Result<(), DbError> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "ANALYZE",
        Dialect::Postgres => "ANALYZE cost_daily, player_activity, utilisation, budgets",
    };
    conn.batch_execute(sql).map_err(DbError::Query)
}

/// Checks the database answers (used by `/readyz`).
pub fn ping(pool: &DbPool, timeout: Duration) -> Result<(), DbError> {
    let mut conn = pool.get_timeout(timeout)?;
    conn.batch_execute("SELECT 1").map_err(DbError::Query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DbTarget::parse("sqlite://finops.db").unwrap(),
            DbTarget::Sqlite("finops.db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite:///var/lib/finops.db").unwrap(),
            DbTarget::Sqlite("/var/lib/finops.db".into())
        );
        assert!(matches!(
            DbTarget::parse("postgresql://u@h/db").unwrap(),
            DbTarget::Postgres(_)
        ));
        assert!(DbTarget::parse("mysql://x").is_err());
        assert!(DbTarget::parse("finops.db").is_err());
    }

    #[test]
    fn redacts_passwords() {
        let t = DbTarget::parse("postgres://finops:s3cret@db:5432/finops").unwrap();
        assert_eq!(t.redacted(), "postgres://finops:***@db:5432/finops");
        let t = DbTarget::parse("postgres://postgres@127.0.0.1/x").unwrap();
        assert_eq!(t.redacted(), "postgres://postgres@127.0.0.1/x");
    }
}
