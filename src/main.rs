//! The `finops` binary: parse arguments, set up logging, run, exit.

use clap::Parser;

fn main() {
    let cli = finops::cli::Cli::parse();
    finops::telemetry::init(&finops::cli::log_filter(&cli));
    if let Err(e) = finops::cli::run(cli) {
        eprintln!("finops: {e}");
        std::process::exit(e.exit_code());
    }
}
