//! Command-line interface: arguments (`args`), errors (`error`) and one
//! file per command group. `run` dispatches; every command that needs the
//! database gets it through `with_conn`. Exit codes: 0 success, 1 runtime
//! failure, 2 bad usage or bad input.

mod alerts;
mod anomalies;
mod args;
mod budget;
mod error;
mod export;
mod forecast;
mod ingest;
mod pull;
mod recommend;
mod serve;
mod users;

pub use args::*;
pub use error::CliError;

use crate::config::{Overrides, Settings};
use crate::db::{self, DbConnection, DbError, DbPool};

fn settings(cli: &Cli, bind: Option<String>) -> Result<Settings, CliError> {
    let overrides = Overrides {
        database_url: cli.database.clone(),
        bind,
    };
    Settings::load(cli.config.as_deref(), &overrides).map_err(|e| CliError::BadInput(e.to_string()))
}

/// One connection to the migrated database the settings name.
fn connect(settings: &Settings) -> Result<DbConnection, CliError> {
    let mut conn = db::connect(&settings.database_url)?;
    let applied = db::run_migrations(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied database migrations");
    }
    Ok(conn)
}

/// A pool on the migrated database, for the long-running service.
fn open_pool(settings: &Settings) -> Result<DbPool, CliError> {
    let pool = db::connect_pool(&settings.database_url, settings.pool_size)?;
    let mut conn = pool.get().map_err(DbError::from)?;
    let applied = db::run_migrations(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied database migrations");
    }
    Ok(pool)
}

pub fn log_filter(cli: &Cli) -> String {
    settings(cli, None)
        .map(|s| s.log)
        .unwrap_or_else(|_| "info".to_string())
}

/// The log filter and format the settings give (text when they cannot be
/// read; the command then reports why).
pub fn log_settings(cli: &Cli) -> (String, crate::telemetry::LogFormat) {
    settings(cli, None)
        .map(|s| (s.log, s.log_format))
        .unwrap_or_else(|_| ("info".to_string(), crate::telemetry::LogFormat::Text))
}

/// Runs `f` with a connection to the migrated database the settings name.
fn with_conn<T>(
    cli: &Cli,
    f: impl FnOnce(&mut DbConnection, &Settings) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let settings = settings(cli, None)?;
    let mut conn = connect(&settings)?;
    f(&mut conn, &settings)
}

/// Runs the command. Long-running work shows progress on stderr.
pub fn run(cli: Cli) -> Result<(), CliError> {
    crate::audit::set_process_actor(&match &cli.command {
        Command::Serve(_) => "system".to_string(),
        _ => crate::audit::cli_actor(),
    });
    match &cli.command {
        Command::Serve(args) => serve::serve(&cli, args),
        Command::Demo(args) => with_conn(&cli, |conn, _| serve::demo(conn, args)),
        Command::Migrate => migrate(&cli),
        Command::Export(ExportCommand::Monthly(args)) => {
            with_conn(&cli, |conn, _| export::monthly(conn, args))
        }
        Command::Pull(command) => with_conn(&cli, |conn, s| {
            let result = pull::run(conn, s, command);
            alert_after_change(conn, s);
            result
        }),
        Command::Forecast(args) if args.series_csv.is_some() => forecast::run_file(args),
        Command::Forecast(args) => with_conn(&cli, |conn, _| forecast::run(conn, args)),
        Command::Recommend(command) => with_conn(&cli, |conn, _| recommend::run(conn, command)),
        Command::User(command) => with_conn(&cli, |conn, _| users::run(conn, command)),
        Command::Token(command) => with_conn(&cli, |conn, _| users::token(conn, command)),
        Command::Audit(args) => with_conn(&cli, |conn, _| users::audit_log(conn, args)),
        Command::Budget(command) => with_conn(&cli, |conn, _| budget::run(conn, command)),
        Command::Anomalies(args) => with_conn(&cli, |conn, _| anomalies::run(conn, args)),
        Command::Alerts(command) => with_conn(&cli, |conn, s| alerts::run(conn, s, command)),
        Command::Catalog(command) => with_conn(&cli, |conn, s| {
            recommend::catalog(conn, command, s.decompress_limits())
        }),
        Command::Ingest(command) => with_conn(&cli, |conn, s| {
            let result = ingest::run(conn, command, s.decompress_limits());
            alert_after_change(conn, s);
            result
        }),
    }
}

/// After an import or pull (which may have failed: a failed run alerts
/// too), a round of the alert rules when any exist; says what it did on
/// stderr.
fn alert_after_change(conn: &mut DbConnection, settings: &Settings) {
    let alerting = crate::alert::AlertSettings::from_settings(settings);
    if let Some(message) = crate::alert::after_change(conn, &alerting) {
        eprintln!("{message}");
    }
}

/// `finops migrate`: applies what is pending and says what it did.
fn migrate(cli: &Cli) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let mut conn = db::connect(&settings.database_url)?;
    let applied = db::run_migrations(&mut conn)?;
    if applied.is_empty() {
        println!("database is up to date");
    } else {
        for v in applied {
            println!("applied {v}");
        }
    }
    Ok(())
}
