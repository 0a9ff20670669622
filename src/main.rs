//! The `finops` binary: parse arguments, set up logging, run, exit.

use clap::Parser;

fn main() {
    // polars memory-maps local CSV files, so a large import's resident
    // memory would grow with the file; its streaming reader keeps it
    // bounded. Set before any thread starts (polars reads it once).
    if std::env::var_os("POLARS_FORCE_ASYNC").is_none() {
        std::env::set_var("POLARS_FORCE_ASYNC", "1");
    }
    let cli = finops::cli::Cli::parse();
    let (filter, format) = finops::cli::log_settings(&cli);
    finops::telemetry::init(&filter, format);
    if let Err(e) = finops::cli::run(cli) {
        eprintln!("finops: {e}");
        std::process::exit(e.exit_code());
    }
}
