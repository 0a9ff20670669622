//! Command-line interface: arguments and what each command does. Exit codes:
//! 0 success, 1 runtime failure, 2 bad usage or bad input.

use std::io::Write;
use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Overrides, Settings};
use crate::db::{self, costs, DbError, DbPool};
use crate::demo::{self, DemoOptions};
use crate::report::export::monthly_csv;
use crate::report::period::{parse_date, Month};
use crate::report::ReportError;
use crate::web::Application;

const AFTER_HELP: &str = "\
Configuration: finops.toml in the working directory (or --config FILE, or
FINOPS_CONFIG), then the environment (FINOPS_DATABASE_URL, FINOPS_BIND,
FINOPS_POOL_SIZE, FINOPS_LOG), then flags. The database defaults to the
embedded SQLite file sqlite://finops.db; a team uses postgres://USER@HOST/DB.

Start on demo data:   finops serve --demo      (then open http://127.0.0.1:8080)
Export a month:       finops export monthly --month 2026-10 --out october.csv";

/// Cost and capacity planning for an online game across player platforms
/// and cloud regions: finance review pages, monthly CSV export, JSON API.
#[derive(Debug, Parser)]
#[command(name = "finops", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Database URL: sqlite://PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,

    /// Settings file (TOML); defaults to ./finops.toml when it exists
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service: Overview, Month review, Costs explorer, the JSON
    /// API under /api/v1/ and the monthly CSV export
    Serve(ServeArgs),
    /// Fill the database with the deterministic demo data set (replaces any
    /// earlier demo data; imported data is kept)
    Demo(DemoArgs),
    /// Apply pending database migrations (serve also does this on start)
    Migrate,
    /// Export data for finance
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Load the demo data first if the database has no costs
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the generator: the same seed gives the same data
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Months of history before the last day's month
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub months: u32,
    /// Last day of data, YYYY-MM-DD (default: yesterday)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Monthly cost CSV: one line per platform × region × service × charge
    /// category (and currency, provider, account, billing period), amounts
    /// billed and effective; ties out to the pages and the database
    Monthly(ExportMonthlyArgs),
}

#[derive(Debug, Args)]
pub struct ExportMonthlyArgs {
    /// Month to export, YYYY-MM
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub month: Month,
    /// Write to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn parse_month(text: &str) -> Result<Month, String> {
    text.parse()
}

/// A failed command: its message and exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Runtime(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::BadInput(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl From<DbError> for CliError {
    fn from(e: DbError) -> CliError {
        match e {
            DbError::UnsupportedUrl(_) => CliError::BadInput(e.to_string()),
            other => CliError::Runtime(other.to_string()),
        }
    }
}

impl From<ReportError> for CliError {
    fn from(e: ReportError) -> CliError {
        match e {
            ReportError::BadInput(m) => CliError::BadInput(m),
            ReportError::Db(d) => d.into(),
        }
    }
}

fn settings(cli: &Cli, bind: Option<String>) -> Result<Settings, CliError> {
    let overrides = Overrides {
        database_url: cli.database.clone(),
        bind,
    };
    Settings::load(cli.config.as_deref(), &overrides).map_err(|e| CliError::BadInput(e.to_string()))
}

fn open(settings: &Settings) -> Result<DbPool, CliError> {
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

/// Runs the command. Long-running work shows progress on stderr.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Serve(args) => serve(&cli, args),
        Command::Demo(args) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let opts = DemoOptions {
                seed: args.seed,
                months: args.months,
                end: args
                    .end
                    .unwrap_or_else(|| DemoOptions::default_end(Utc::now().date_naive())),
            };
            load_demo(&pool, &opts)?;
            Ok(())
        }
        Command::Migrate => {
            let settings = settings(&cli, None)?;
            let pool = db::connect_pool(&settings.database_url, 1)?;
            let mut conn = pool.get().map_err(DbError::from)?;
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
        Command::Export(ExportCommand::Monthly(args)) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            let csv = monthly_csv(&mut conn, args.month)?;
            match &args.out {
                Some(path) if path.as_os_str() != "-" => {
                    std::fs::write(path, &csv)
                        .map_err(|e| CliError::Runtime(format!("{}: {e}", path.display())))?;
                    eprintln!("wrote {} ({} bytes)", path.display(), csv.len());
                }
                _ => std::io::stdout()
                    .write_all(&csv)
                    .map_err(|e| CliError::Runtime(format!("standard output: {e}")))?,
            }
            Ok(())
        }
    }
}

fn load_demo(pool: &DbPool, opts: &DemoOptions) -> Result<demo::DemoSummary, CliError> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!(
        "generating {} months of demo data (seed {})…",
        opts.months, opts.seed
    ));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let data = demo::generate(opts).map_err(|e| CliError::BadInput(e.to_string()))?;
    spinner.finish_and_clear();
    let total = (data.costs.len() + data.activity.len() + data.utilisation.len()) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {human_pos}/{human_len} rows, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("writing demo");
    let mut conn = pool.get().map_err(DbError::from)?;
    let summary = demo::load(&mut conn, &data, opts, &mut |done, _| {
        bar.set_position(done as u64)
    })
    .map_err(|e| CliError::Runtime(e.to_string()))?;
    bar.finish_and_clear();
    eprintln!(
        "demo loaded: {} to {}, {} cost rows, {} player-activity rows, {} utilisation rows, {} budgets, {} calendar events",
        summary.start,
        summary.end,
        summary.cost_rows,
        summary.activity_rows,
        summary.utilisation_rows,
        summary.budgets,
        summary.events
    );
    Ok(summary)
}

fn serve(cli: &Cli, args: &ServeArgs) -> Result<(), CliError> {
    let settings = settings(cli, args.bind.clone())?;
    let pool = open(&settings)?;
    if args.demo {
        let mut conn = pool.get().map_err(DbError::from)?;
        let rows = costs::count_rows(&mut conn)?;
        drop(conn);
        if rows == 0 {
            let opts = DemoOptions {
                seed: 42,
                months: 24,
                end: DemoOptions::default_end(Utc::now().date_naive()),
            };
            load_demo(&pool, &opts)?;
        } else {
            eprintln!("the database already has {rows} cost rows: not loading the demo");
        }
    }
    let host = settings
        .bind
        .rsplit_once(':')
        .map(|(h, _)| h.to_string())
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let shown = db::DbTarget::parse(&settings.database_url)
        .map(|t| t.redacted())
        .unwrap_or_default();
    // The server must be built inside the runtime that runs it.
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build_with_pool(&settings, pool)
            .map_err(|e| CliError::Runtime(e.to_string()))?;
        eprintln!(
            "finops is serving http://{host}:{}/ (database {shown}); Ctrl-C stops it",
            app.port()
        );
        app.run_until_stopped()
            .await
            .map_err(|e| CliError::Runtime(e.to_string()))
    })
}
