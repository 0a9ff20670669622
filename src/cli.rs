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
FINOPS_POOL_SIZE, FINOPS_LOG, FINOPS_LOG_FORMAT, FINOPS_METRICS), then flags. The database defaults to the
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
    /// Import files: billing (FOCUS, AWS CUR), utilisation, player activity.
    /// Each file is one transaction; a file with any bad row imports nothing
    /// and its first bad rows are listed with line, column and reason
    #[command(subcommand)]
    Ingest(IngestCommand),
    /// Pull data from provider APIs
    #[command(subcommand)]
    Pull(PullCommand),
    /// Forecast daily cost, peak concurrent players or capacity against the
    /// marketing calendar, with 80 % and 95 % intervals and backtest
    /// accuracy (MASE, WAPE, coverage, against seasonal naive). Daily for
    /// the first 90 days, monthly beyond
    Forecast(ForecastArgs),
    /// Rightsizing and commitment (Savings Plans, Reserved Instances)
    /// recommendations with their savings, risk and reasons
    #[command(subcommand)]
    Recommend(RecommendCommand),
    /// The instance catalog recommendations price with (types, on-demand
    /// and commitment rates per region)
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// People who may sign in, with a role: viewer (read), analyst (read,
    /// import, export, edit the calendar and scenarios), admin (also users,
    /// allocation rules, data sources). Passwords are read from standard
    /// input (one line), never from the command line, and stored only as
    /// Argon2id hashes
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for automation (`Authorization: Bearer TOKEN`), each with
    /// a role. A token is printed once when made; only its SHA-256 is stored
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show the audit log: imports, pulls, calendar and rule changes, user
    /// and token changes, exports, sign-ins and refused requests, newest
    /// first
    Audit(AuditArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token and print it on standard output (once: store it in
    /// your automation's secret store)
    Add {
        /// A name saying what uses it (`prometheus`, `nightly-export`)
        name: String,
        /// viewer, analyst or admin
        #[arg(long)]
        role: String,
    },
    /// Revoke a token (its users get 401 within seconds)
    Revoke { name: String },
    /// List tokens: name, role, who made it, when last used
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this action (`import`, `export`, `sign-in`, `user`, …; `user`
    /// also matches `user.add`, `user.remove`, …)
    #[arg(long)]
    pub action: Option<String>,
    /// Only this actor (a user name, `token:NAME`, `cli:USER`, `system`)
    #[arg(long)]
    pub actor: Option<String>,
    /// Entries to show
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub limit: i64,
    /// One JSON array on standard output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password (12 characters or more) is the first line
    /// of standard input
    Add {
        name: String,
        /// viewer, analyst or admin
        #[arg(long)]
        role: String,
    },
    /// Set a user's password (first line of standard input)
    Passwd { name: String },
    /// Change a user's role
    Role {
        name: String,
        /// viewer, analyst or admin
        role: String,
    },
    /// Remove a user
    Remove { name: String },
    /// List the users and their roles
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecommendCommand {
    /// Rightsize every instance and fleet from its utilisation over the
    /// lookback: the cheapest type that carries the CPU statistic (and
    /// memory where measured) plus headroom; idle ones terminated; capacity
    /// a scheduled event needs is held, naming the event
    Rightsizing(RightsizingArgs),
    /// Savings Plans and Reserved Instances sized on the forecast of the
    /// whole term, net of the commitments already held: expected savings,
    /// utilisation, coverage, break-even month, P10/P90 savings
    Commitments(CommitmentArgs),
}

#[derive(Debug, Args)]
pub struct RightsizingArgs {
    /// Days of utilisation to size from: 14, 32 or 93
    #[arg(long, default_value_t = 14, value_parser = parse_lookback)]
    pub lookback: i64,
    /// CPU statistic of the periods' peaks: p90, p95, p99.5 or max
    #[arg(long, default_value = "p99.5", value_parser = ["p90", "p95", "p99.5", "max"])]
    pub statistic: String,
    /// Headroom above the statistic, per cent
    #[arg(long, default_value_t = 20.0)]
    pub headroom: f64,
    /// Consider every family, not only the instance's own
    #[arg(long)]
    pub across_families: bool,
    /// Hold capacity for events starting within this many days
    #[arg(long, default_value_t = 30)]
    pub event_window: i64,
    /// Include instances that need no change and those held or lacking data
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CommitmentArgs {
    /// Terms to consider, in years (1, 3 or both)
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 3], value_parser = clap::value_parser!(i32).range(1..=3))]
    pub term: Vec<i32>,
    /// Payment options to consider: no, partial, all (comma-separated)
    #[arg(long, value_delimiter = ',', default_values_t = vec!["no".to_string(), "partial".to_string(), "all".to_string()])]
    pub payment: Vec<String>,
    /// Only this kind: compute_savings_plan, ec2_instance_savings_plan or
    /// reserved_instances
    #[arg(long)]
    pub kind: Option<String>,
    /// What if: the outcome of this hourly commitment (for the Compute
    /// Savings Plan's recommended term and payment) instead of the optimum
    #[arg(long, value_name = "AMOUNT_PER_HOUR")]
    pub what_if: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Replace the catalog with FILE (the format of the built-in
    /// src/recommend/data/aws-instances.csv); a file with a bad cell
    /// changes nothing
    Import(IngestFiles),
    /// Print the catalog in use: where it came from and its size
    Show,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// What to forecast: cost (effective, billing currency), ccu (peak
    /// concurrent players) or capacity (instance-hours)
    #[arg(long, default_value = "cost")]
    pub metric: String,
    /// One platform (default: all)
    #[arg(long)]
    pub platform: Option<String>,
    /// One region, such as eu-west-1 (default: all)
    #[arg(long)]
    pub region: Option<String>,
    /// Days ahead, up to 548 (18 months)
    #[arg(long, default_value_t = 90)]
    pub horizon_days: i64,
    /// Output: a table to read, JSON (points and backtest figures) or CSV
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Forecast this series instead of the database's: a CSV with a header
    /// and two columns, date (YYYY-MM-DD) and value, one row per day
    #[arg(long, value_name = "FILE")]
    pub series_csv: Option<std::path::PathBuf>,
    /// With --series-csv: the events, as a calendar TOML file (the format of
    /// forecasts/*.toml); without it, the database's calendar
    #[arg(long, value_name = "FILE", requires = "series_csv")]
    pub calendar: Option<std::path::PathBuf>,
    /// Apply a scenario file (forecasts/scenarios/*.toml) to the calendar
    /// and the forecast: moved or added events, scaled uplifts, regions
    /// opening
    #[arg(long, value_name = "FILE", conflicts_with = "series_csv")]
    pub scenario: Option<std::path::PathBuf>,
    /// Model the values as they are rather than on a log scale (for a
    /// series that is already a logarithm, or can be negative)
    #[arg(long)]
    pub linear: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum PullCommand {
    /// Daily cost from the AWS Cost Explorer API (GetCostAndUsage), by the
    /// platform tag, region and service. Costs 1 + (number of regions)
    /// requests (plus extra pages) at USD 0.01 each; says how many it made.
    /// Credentials come from the standard AWS chain (environment, profile,
    /// SSO, instance role). Replaces the days it covers
    CostExplorer(PullCostExplorerArgs),
    /// AWS's own Savings Plans purchase recommendation
    /// (GetSavingsPlansPurchaseRecommendation): what Cost Explorer would buy
    /// from the last 7, 30 or 60 days. One request; stored (replacing the
    /// same pull) and shown beside finops' recommendation
    SavingsPlansAdvice(SavingsPlansAdviceArgs),
    /// AWS's own EC2 Reserved Instance purchase recommendation
    /// (GetReservationPurchaseRecommendation), stored and shown beside
    /// finops' Reserved Instances recommendations
    ReservationAdvice(SavingsPlansAdviceArgs),
    /// AWS's own EC2 rightsizing recommendations
    /// (GetRightsizingRecommendation, every page), stored and shown beside
    /// finops' rightsizing
    RightsizingAdvice(RightsizingAdviceArgs),
}

#[derive(Debug, Args)]
pub struct RightsizingAdviceArgs {
    /// Recommend across instance families, not only within
    #[arg(long)]
    pub across_families: bool,
    /// Endpoint other than AWS's (a stub or a proxy)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Print the recommendations as JSON on standard output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SavingsPlansAdviceArgs {
    /// Compute Savings Plans (any instance, Fargate, Lambda) or EC2
    /// Instance Savings Plans (one family in one region)
    #[arg(long = "type", value_enum, default_value_t = PlanKind::Compute)]
    pub plan: PlanKind,
    /// Term in years
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub term: u8,
    /// Payment option: no, partial or all upfront
    #[arg(long, default_value = "no", value_parser = ["no", "partial", "all"])]
    pub upfront: String,
    /// Days AWS looks back over: 7, 30 or 60
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(7..=60))]
    pub lookback: u32,
    /// Endpoint other than AWS's (a stub or a proxy)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Print the recommendations as JSON on standard output
    #[arg(long)]
    pub json: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanKind {
    Compute,
    Ec2Instance,
}

#[derive(Debug, Args)]
pub struct PullCostExplorerArgs {
    /// First day, YYYY-MM-DD (default: the first day of last month, or the
    /// first stored estimated day if earlier)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Day after the last, YYYY-MM-DD, exclusive as in Cost Explorer
    /// (default: today)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub to: Option<NaiveDate>,
    /// Endpoint other than AWS's (an emulator such as moto, a proxy)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Cost-allocation tag that names the platform (default from settings:
    /// platform)
    #[arg(long, value_name = "KEY")]
    pub tag_key: Option<String>,
    /// Only the tag × region split (1 request, no services)
    #[arg(long)]
    pub no_services: bool,
    /// Print the summary as JSON on standard output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// FOCUS 1.0–1.2 billing exports (CSV, .csv.gz or Parquet) from any
    /// provider. Re-importing a billing period of the same provider and
    /// billing account replaces it
    Focus(IngestFiles),
    /// AWS Cost and Usage Reports, CUR 2.0 or legacy column names (CSV,
    /// .csv.gz or Parquet), amortised as Cost Explorer does
    Cur(IngestFiles),
    /// Utilisation per instance or fleet, hourly or daily (format in the
    /// README)
    Utilisation(IngestFiles),
    /// Player activity per day × platform × region: peak concurrent players
    /// and player-hours (format in the README)
    Activity(IngestFiles),
    /// Marketing calendar files (TOML, as in forecasts/): each replaces the
    /// events stored from the file of the same name
    Calendar(IngestFiles),
    /// Forecast scenarios (TOML, as in forecasts/scenarios/): each is
    /// stored by its name, replacing the scenario of the same name
    Scenario(IngestFiles),
    /// Commitments already bought (CSV: commitment_id, kind, region,
    /// family, instance_type, instance_count, hourly_commitment,
    /// term_years, payment, start_date, end_date), replacing the list
    Commitments(IngestFiles),
}

#[derive(Debug, Args)]
pub struct IngestFiles {
    /// Files to import, each in its own transaction
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print each file's summary as JSON on standard output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Load the demo data first if the database has no costs, and offer a
    /// clearly labelled one-click sign-in per role (only while the database
    /// has no users of its own)
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

fn parse_lookback(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(d) if crate::recommend::fleet::LOOKBACKS.contains(&d) => Ok(d),
        _ => Err(format!("'{text}' is not a lookback: use 14, 32 or 93 days")),
    }
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

/// The log filter and format the settings give (text when they cannot be
/// read; the command then reports why).
pub fn log_settings(cli: &Cli) -> (String, crate::telemetry::LogFormat) {
    settings(cli, None)
        .map(|s| (s.log, s.log_format))
        .unwrap_or_else(|_| ("info".to_string(), crate::telemetry::LogFormat::Text))
}

/// Runs the command. Long-running work shows progress on stderr.
pub fn run(cli: Cli) -> Result<(), CliError> {
    crate::audit::set_process_actor(&match &cli.command {
        Command::Serve(_) => "system".to_string(),
        _ => crate::audit::cli_actor(),
    });
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
            let dest = match &args.out {
                Some(path) if path.as_os_str() != "-" => {
                    std::fs::write(path, &csv)
                        .map_err(|e| CliError::Runtime(format!("{}: {e}", path.display())))?;
                    eprintln!("wrote {} ({} bytes)", path.display(), csv.len());
                    path.display().to_string()
                }
                _ => {
                    std::io::stdout()
                        .write_all(&csv)
                        .map_err(|e| CliError::Runtime(format!("standard output: {e}")))?;
                    "standard output".to_string()
                }
            };
            crate::audit::record(
                &mut conn,
                "export",
                &format!("monthly CSV {}", args.month),
                crate::audit::OK,
                &format!("to {dest}, {} bytes", csv.len()),
            )?;
            Ok(())
        }
        Command::Pull(PullCommand::CostExplorer(args)) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            pull_cost_explorer(&pool, &settings, args)
        }
        Command::Pull(PullCommand::SavingsPlansAdvice(args)) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            savings_plans_advice(&pool, &settings, args, false)
        }
        Command::Pull(PullCommand::ReservationAdvice(args)) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            savings_plans_advice(&pool, &settings, args, true)
        }
        Command::Pull(PullCommand::RightsizingAdvice(args)) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            rightsizing_advice(&pool, &settings, args)
        }
        Command::Forecast(args) if args.series_csv.is_some() => crate::cli_forecast::run_file(args),
        Command::Forecast(args) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            crate::cli_forecast::run(&mut conn, args)
        }
        Command::Recommend(command) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            crate::cli_recommend::run(&mut conn, command)
        }
        Command::User(command) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            crate::cli_user::run(&mut conn, command)
        }
        Command::Token(command) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            crate::cli_user::token(&mut conn, command)
        }
        Command::Audit(args) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            crate::cli_user::audit_log(&mut conn, args)
        }
        Command::Catalog(command) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            crate::cli_recommend::catalog(&mut conn, command, settings.decompress_limits())
        }
        Command::Ingest(command) => {
            let settings = settings(&cli, None)?;
            let pool = open(&settings)?;
            let mut conn = pool.get().map_err(DbError::from)?;
            crate::cli_ingest::run(&mut conn, command, settings.decompress_limits())
        }
    }
}

fn advice_error(e: crate::pull::cost_explorer::PullError) -> CliError {
    match e {
        crate::pull::cost_explorer::PullError::Answer(m) if m.contains("7, 30 or 60") => {
            CliError::BadInput(format!("--lookback: {m}"))
        }
        other => CliError::Runtime(other.to_string()),
    }
}

fn advice_options(
    settings: &Settings,
    endpoint_url: &Option<String>,
) -> crate::pull::cost_explorer::PullOptions {
    let today = Utc::now().date_naive();
    let mut opts = crate::pull::cost_explorer::PullOptions::new(today, today);
    opts.endpoint_url = endpoint_url
        .clone()
        .or_else(|| settings.cost_explorer_endpoint_url.clone());
    opts
}

fn store_advice(
    pool: &DbPool,
    kind: &str,
    parameters: &str,
    rows: &[crate::db::aws_advice::Advice],
) -> Result<(), CliError> {
    let mut conn = pool.get().map_err(DbError::from)?;
    crate::db::aws_advice::replace(&mut conn, kind, parameters, rows)?;
    Ok(())
}

fn savings_plans_advice(
    pool: &DbPool,
    settings: &Settings,
    args: &SavingsPlansAdviceArgs,
    reserved: bool,
) -> Result<(), CliError> {
    use crate::pull::aws_advice;
    use crate::recommend::aws;
    if args.term == 2 {
        return Err(CliError::BadInput(
            "--term: commitments last 1 or 3 years".to_string(),
        ));
    }
    let opts = advice_options(settings, &args.endpoint_url);
    let request = aws_advice::AdviceRequest {
        compute: args.plan == PlanKind::Compute,
        three_years: args.term == 3,
        upfront: match args.upfront.as_str() {
            "partial" => "partial",
            "all" => "all",
            _ => "no",
        },
        lookback_days: args.lookback,
    };
    let now = crate::db::ingest_runs::now();
    let runtime = actix_web::rt::System::new();
    if reserved {
        let advice = runtime
            .block_on(aws_advice::reserved_instances(&opts, &request))
            .map_err(advice_error)?;
        if advice.is_empty() {
            eprintln!(
                "AWS recommends no Reserved Instances for this term, payment option and lookback"
            );
        }
        for a in &advice {
            eprintln!(
                "AWS recommends {} × {} in {} ({}, {}, from the last {} days): saves about {} {} a month, {:.1} % utilisation, break-even {:.1} months",
                a.instances,
                a.instance_type.as_deref().unwrap_or("?"),
                a.region.as_deref().unwrap_or("?"),
                a.term,
                a.payment_option,
                a.lookback_days,
                a.estimated_monthly_savings.to_decimal(0),
                a.currency,
                a.average_utilization,
                a.break_even_months
            );
        }
        let parameters = aws::parameters(
            None,
            request.three_years,
            request.upfront,
            request.lookback_days,
        );
        let rows = aws::from_reservations(&advice, &parameters, now);
        store_advice(pool, aws::RESERVED_INSTANCES, &parameters, &rows)?;
        if args.json {
            println!("{}", serde_json::to_string(&advice).unwrap_or_default());
        }
        return Ok(());
    }
    let advice = runtime
        .block_on(aws_advice::savings_plans(&opts, &request))
        .map_err(advice_error)?;
    if advice.is_empty() {
        eprintln!("AWS recommends no purchase for this term, payment option and lookback");
    }
    for a in &advice {
        eprintln!(
            "AWS recommends {} {}/h of {} ({}, {}, from the last {} days){}: saves about {} {} a month ({:.1} %), expected utilisation {:.1} %, upfront {}",
            a.hourly_commitment.to_decimal(2),
            a.currency,
            a.plan_type,
            a.term,
            a.payment_option,
            a.lookback_days,
            a.account_id
                .as_deref()
                .map(|id| format!(" in account {id}"))
                .unwrap_or_default(),
            a.estimated_monthly_savings.to_decimal(0),
            a.currency,
            a.estimated_savings_percentage,
            a.estimated_average_utilization,
            a.upfront_cost.to_decimal(0)
        );
    }
    let parameters = aws::parameters(
        Some(if request.compute {
            "COMPUTE_SP"
        } else {
            "EC2_INSTANCE_SP"
        }),
        request.three_years,
        request.upfront,
        request.lookback_days,
    );
    let rows = aws::from_savings_plans(&advice, &parameters, now);
    store_advice(pool, aws::SAVINGS_PLANS, &parameters, &rows)?;
    if args.json {
        println!("{}", serde_json::to_string(&advice).unwrap_or_default());
    }
    Ok(())
}

fn rightsizing_advice(
    pool: &DbPool,
    settings: &Settings,
    args: &RightsizingAdviceArgs,
) -> Result<(), CliError> {
    use crate::pull::aws_advice;
    use crate::recommend::aws;
    let opts = advice_options(settings, &args.endpoint_url);
    let (advice, pages) = actix_web::rt::System::new()
        .block_on(aws_advice::rightsizing(&opts, args.across_families))
        .map_err(advice_error)?;
    let savings: crate::money::Micros = advice.iter().map(|a| a.estimated_monthly_savings).sum();
    eprintln!(
        "AWS recommends {} rightsizing action(s) ({} page(s)), saving about {} a month",
        advice.len(),
        pages,
        savings.to_decimal(0)
    );
    let rows = aws::from_rightsizing(&advice, crate::db::ingest_runs::now());
    store_advice(pool, aws::RIGHTSIZING, "", &rows)?;
    if args.json {
        println!("{}", serde_json::to_string(&advice).unwrap_or_default());
    }
    Ok(())
}

fn pull_cost_explorer(
    pool: &DbPool,
    settings: &Settings,
    args: &PullCostExplorerArgs,
) -> Result<(), CliError> {
    use crate::pull::{self, cost_explorer};
    let mut conn = pool.get().map_err(DbError::from)?;
    let today = Utc::now().date_naive();
    let from = match args.from {
        Some(d) => d,
        None => {
            pull::default_from(&mut conn, today).map_err(|e| CliError::Runtime(e.to_string()))?
        }
    };
    let mut opts = cost_explorer::PullOptions::new(from, args.to.unwrap_or(today));
    opts.endpoint_url = args
        .endpoint_url
        .clone()
        .or_else(|| settings.cost_explorer_endpoint_url.clone());
    opts.tag_key = args
        .tag_key
        .clone()
        .unwrap_or_else(|| settings.cost_explorer_tag_key.clone());
    opts.billing_account = settings.cost_explorer_account.clone();
    opts.services = !args.no_services;
    let started_at = db::ingest_runs::now();
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!(
        "pulling {} to {} from Cost Explorer…",
        opts.from, opts.to
    ));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let fetched = actix_web::rt::System::new().block_on(cost_explorer::fetch(&opts));
    spinner.finish_and_clear();
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => {
            pull::record_failure(&mut conn, &opts, started_at, &e);
            return Err(match e {
                cost_explorer::PullError::Range { .. } => CliError::BadInput(e.to_string()),
                other => CliError::Runtime(other.to_string()),
            });
        }
    };
    let summary = pull::store(&mut conn, &opts, &fetched, started_at)
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "pulled {} to {}: {} rows ({} estimated days), replaced {} earlier rows; {} request(s) to Cost Explorer",
        summary.from,
        summary.to.pred_opt().unwrap_or(summary.to),
        summary.rows,
        summary.estimated_days,
        summary.replaced_rows,
        summary.requests
    );
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    }
    Ok(())
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
    let mut settings = settings(cli, args.bind.clone())?;
    let pool = open(&settings)?;
    {
        let mut conn = pool.get().map_err(DbError::from)?;
        let real_users = crate::auth::sessions::has_real_users(&mut conn)?;
        if args.demo && real_users {
            eprintln!("the database has its own users: the demo sign-in stays off");
        }
        settings.demo_sign_in = args.demo && !real_users;
        if settings.demo_sign_in {
            eprintln!(
                "DEMO SIGN-IN IS ON: anyone who can reach this address can sign in with one click (never use --demo for real data)"
            );
        } else if !real_users {
            eprintln!(
                "no users yet: add the first admin with `finops user add NAME --role admin` (password on standard input)"
            );
        }
    }
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
        if settings.pull_every_hours > 0 {
            let schedule = crate::pull::schedule::Schedule {
                every: std::time::Duration::from_secs(u64::from(settings.pull_every_hours) * 3600),
                endpoint_url: settings.cost_explorer_endpoint_url.clone(),
                tag_key: settings.cost_explorer_tag_key.clone(),
                billing_account: settings.cost_explorer_account.clone(),
                static_credentials: None,
            };
            eprintln!(
                "pulling from Cost Explorer every {} hour(s)",
                settings.pull_every_hours
            );
            actix_web::rt::spawn(crate::pull::schedule::run(pool.clone(), schedule));
        }
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
