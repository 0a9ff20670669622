//! What the command line accepts: every command, its arguments and their
//! help text (clap).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::report::period::{parse_date, Month};

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
    /// Budgets per month for the total or a platform, region or service, on
    /// effective (amortised) or billed cost; a quarter or year is spread
    /// over its months by their days. Setting a budget again replaces it
    #[command(subcommand)]
    Budget(BudgetCommand),
    /// Find cost anomalies (daily usage of every platform × region ×
    /// service, each platform and the total, against a calendar-aware
    /// expectation), store them and list them with what explains them;
    /// `anomalies feedback ID yes|no|planned` records a verdict later
    /// detection uses
    Anomalies(AnomaliesArgs),
    /// Alert rules, the alerts they raised and their delivery to the
    /// channels of the settings (`[[alert_channel]]`: webhook, slack,
    /// email). `serve` evaluates the rules after every change and every
    /// `alert_every_minutes`; imports and pulls from the CLI do too when a
    /// rule exists
    #[command(subcommand)]
    Alerts(AlertsCommand),
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Add a rule, or replace the rule of the same name. Kinds: budget
    /// (--basis actual|forecast, --percent), anomaly (--min-impact),
    /// commitment-expiry (--days), unallocated (--percent), run-failed.
    /// Example: `finops alerts add "forecast over" --kind budget --basis
    /// forecast --percent 100 --channel finance`
    Add {
        /// The rule's name
        name: String,
        /// budget, anomaly, commitment-expiry, unallocated or run-failed
        #[arg(long)]
        kind: String,
        /// Budget rules: actual spend or the forecast to the month's end
        #[arg(long, default_value = "actual")]
        basis: String,
        /// Budget rules: percent of the budget (50, 80, 100, …);
        /// unallocated rules: percent of the month's cost
        #[arg(long, default_value = "")]
        percent: String,
        /// Anomaly rules: smallest impact alerted on, in money
        #[arg(long, default_value = "")]
        min_impact: String,
        /// Commitment rules: days before the end
        #[arg(long, default_value = "")]
        days: String,
        /// A channel of the settings; repeat for several
        #[arg(long = "channel", required = true)]
        channels: Vec<String>,
    },
    /// Remove a rule (the alerts it raised stay in the history)
    Remove {
        /// The rule's name
        name: String,
    },
    /// The rules and the channels they send to
    Rules,
    /// The configured channels (without their secrets)
    Channels,
    /// Evaluate every rule now and send what is due; prints what it raised
    Run,
    /// The latest alerts with their delivery status
    List {
        /// How many
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// table or json
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Send a test message to a channel now (checks its address and
    /// credentials)
    Test {
        /// The channel's name
        channel: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AnomaliesArgs {
    #[command(subcommand)]
    pub action: Option<AnomalyAction>,
    /// First day to look at (YYYY-MM-DD); default: 90 days before the last
    /// day of data
    #[arg(long)]
    pub from: Option<String>,
    /// Last day listed (YYYY-MM-DD); default: the last day of data
    #[arg(long)]
    pub to: Option<String>,
    /// Smallest excess over the expectation a day must have, in money
    #[arg(long, default_value_t = 50.0)]
    pub min_impact: f64,
    /// … and as a percentage of the expectation
    #[arg(long, default_value_t = 20.0)]
    pub min_percent: f64,
    /// Level of the expectation's upper bound, percent (99.5: a normal day
    /// passes it once in two hundred)
    #[arg(long, default_value_t = 99.5)]
    pub level: f64,
    /// List what is stored without detecting again
    #[arg(long)]
    pub no_detect: bool,
    /// table, csv or json
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum AnomalyAction {
    /// Record a verdict on an anomaly: yes (real), no (a false alarm: its
    /// days are normal), planned (activity the calendar missed)
    Feedback {
        /// The anomaly's id (from the list)
        id: i64,
        /// yes, no or planned
        verdict: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Set one budget: `finops budget set 2027-Q1 2700000 --platform PC`
    Set {
        #[command(flatten)]
        scope: BudgetScopeArgs,
        /// The amount in the currency, to the cent (950000, 12500.50)
        amount: String,
        /// A note shown beside it (who set it, from which plan)
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Set budgets from a CSV file with columns period, amount and
    /// optionally platform, region, service, tag, basis, currency, note. The
    /// file is checked whole first: one bad line stores nothing
    Import {
        /// The CSV file
        file: std::path::PathBuf,
    },
    /// List budgets with their spend so far, the forecast to the month's
    /// end and the day the forecast crosses them
    List {
        /// First month (YYYY-MM); default: this month
        #[arg(long)]
        from: Option<String>,
        /// Last month (YYYY-MM); default: the end of this quarter
        #[arg(long)]
        to: Option<String>,
        /// table, csv or json
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Remove the budgets of a period and scope
    Remove {
        #[command(flatten)]
        scope: BudgetScopeArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct BudgetScopeArgs {
    /// A month (2027-01), quarter (2027-Q1) or year (2027)
    pub period: String,
    /// One platform (PC, PlayStation, Xbox, Switch, iOS, Android,
    /// unallocated); default: all
    #[arg(long, default_value = "")]
    pub platform: String,
    /// One region (us-east-1); default: all
    #[arg(long, default_value = "")]
    pub region: String,
    /// One service, as billed (Amazon Elastic Compute Cloud); default: all
    #[arg(long, default_value = "")]
    pub service: String,
    /// One tag value, key=value (team=matchmaking): the spend of the
    /// billing file lines carrying it; default: no tag
    #[arg(long, default_value = "")]
    pub tag: String,
    /// effective (amortised commitments) or billed (as invoiced)
    #[arg(long, default_value = "effective")]
    pub basis: String,
    /// Default: the currency most of the data is in (USD when empty)
    #[arg(long)]
    pub currency: Option<String>,
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
    #[arg(long, default_value_t = 14, value_parser = crate::recommend::fleet::parse_lookback)]
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
    /// src/pricing/data/aws-instances.csv); a file with a bad cell
    /// changes nothing
    Import(IngestFiles),
    /// Lay AWS Price List files over the catalog: the EC2 offer file of
    /// each region you run in (JSON or CSV, plain or gzip; from
    /// https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/REGION/index.json)
    /// and the Savings Plans rate files (JSON; from
    /// .../savingsPlan/v1.0/aws/AWSComputeSavingsPlan/current/REGION/index.json).
    /// Files are read as streams, so a 450 MB offer file needs little
    /// memory. Keeps Linux, shared-tenancy instance hours: on demand,
    /// standard Reserved Instances and Savings Plans rates. All files are
    /// one change: if any is refused, the catalog is unchanged
    ImportAws(PriceListFiles),
    /// Print the catalog in use: where it came from and its size
    Show,
}

#[derive(Debug, Args)]
pub struct PriceListFiles {
    /// AWS Price List files, imported together
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the summary as JSON on standard output
    #[arg(long)]
    pub json: bool,
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
    /// Billing exports AWS delivers into S3: Data Exports (CUR 2.0 or FOCUS
    /// 1.0; data/BILLING_PERIOD=YYYY-MM/ and metadata/…-Manifest.json) or a
    /// legacy Cost and Usage Report (yyyymmdd-yyyymmdd/<report>-Manifest.json).
    /// Imports each billing period whose manifest changed since its last
    /// import (one listing tells which), replacing that period; unchanged
    /// periods cost nothing more. Credentials and region come from the
    /// standard AWS chain
    S3Export(PullS3ExportArgs),
    /// Hourly utilisation of the EC2 instances in the bill, from CloudWatch
    /// GetMetricData: CPUUtilization (average, maximum), NetworkIn/Out and
    /// the CloudWatch agent's mem_used_percent where it runs; 500 queries
    /// a request, one client per region. Replaces the same instances over
    /// the same hours. Credentials come from the standard AWS chain
    Utilisation(PullUtilisationArgs),
    /// A CUR 2.0 table too big for one machine, summed where it lies by
    /// Amazon Athena to resource × day (the grain finops stores) and
    /// imported, replacing the billing periods the answer covers. Costs an
    /// Athena scan of those periods (USD 5 per TB at the time of writing;
    /// a partitioned Parquet table scans only the periods asked)
    Athena(PullAthenaArgs),
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
pub struct PullS3ExportArgs {
    /// The export: s3://BUCKET/PREFIX/EXPORT-NAME (the folder that holds
    /// data/ and metadata/, or a legacy report's period folders)
    #[arg(value_name = "S3_URI")]
    pub uri: String,
    /// S3 endpoint other than AWS's (an emulator, a VPC endpoint);
    /// addresses buckets by path
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The bucket's region (default: AWS_REGION or the profile's)
    #[arg(long)]
    pub region: Option<String>,
    /// auto (FOCUS or CUR by the columns), cur or focus
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Import every period again, changed or not
    #[arg(long)]
    pub all: bool,
    /// Print what the pull did as JSON on standard output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PullUtilisationArgs {
    /// First day, YYYY-MM-DD (default: 14 days ago)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Day after the last, YYYY-MM-DD, exclusive (default: today)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub to: Option<NaiveDate>,
    /// CloudWatch endpoint other than AWS's (an emulator, a VPC endpoint)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Print the summary as JSON on standard output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PullAthenaArgs {
    /// The Glue database of the CUR 2.0 table (not --database, which
    /// names finops' own database)
    #[arg(long, value_name = "NAME")]
    pub glue_database: String,
    /// The CUR 2.0 table (as Data Exports' Athena integration makes it)
    #[arg(long)]
    pub table: String,
    /// The Athena work group
    #[arg(long, default_value = "primary")]
    pub workgroup: String,
    /// Where Athena writes query results, s3://… (default: the work
    /// group's own location)
    #[arg(long, value_name = "S3_URI")]
    pub output: Option<String>,
    /// First billing period, YYYY-MM (default: last month)
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub from: Option<Month>,
    /// Last billing period, YYYY-MM, inclusive (default: this month)
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub to: Option<Month>,
    /// Athena endpoint other than AWS's (an emulator, a VPC endpoint)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The work group's region (default: AWS_REGION or the profile's)
    #[arg(long)]
    pub region: Option<String>,
    /// Print what the pull did as JSON on standard output
    #[arg(long)]
    pub json: bool,
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

impl IngestCommand {
    /// The source the command imports, and its files.
    pub fn source(&self) -> (crate::runs::Source, &IngestFiles) {
        use crate::runs::Source;
        match self {
            IngestCommand::Focus(f) => (Source::Focus, f),
            IngestCommand::Cur(f) => (Source::Cur, f),
            IngestCommand::Utilisation(f) => (Source::Utilisation, f),
            IngestCommand::Activity(f) => (Source::Activity, f),
            IngestCommand::Calendar(f) => (Source::Calendar, f),
            IngestCommand::Scenario(f) => (Source::Scenario, f),
            IngestCommand::Commitments(f) => (Source::Commitments, f),
        }
    }
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

fn parse_month(text: &str) -> Result<Month, String> {
    text.parse()
}
