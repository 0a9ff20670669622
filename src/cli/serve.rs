//! `finops serve` and `finops demo`: the service (built by
//! `web::startup`, exactly as the tests build it) and the demo data, with
//! progress bars.

use indicatif::{ProgressBar, ProgressStyle};

use super::{open_pool, settings, Cli, CliError, DemoArgs, ServeArgs};
use crate::db::{self, DbConnection};
use crate::demo::{self, DemoOptions};
use crate::web::Application;

/// A bar for rows written.
fn rows_bar(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {human_pos}/{human_len} rows, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// `finops demo`: generates and loads the demo data set.
pub fn demo(conn: &mut DbConnection, args: &DemoArgs) -> Result<(), CliError> {
    let opts = DemoOptions {
        seed: args.seed,
        months: args.months,
        end: args
            .end
            .unwrap_or_else(|| DemoOptions::default_end(crate::clock::today())),
    };
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!(
        "generating {} months of demo data (seed {})…",
        opts.months, opts.seed
    ));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let data = demo::generate(&opts).map_err(|e| CliError::BadInput(e.to_string()))?;
    spinner.finish_and_clear();
    let bar = rows_bar("writing demo");
    let summary = demo::load(conn, &data, &opts, &mut |done, total| {
        bar.set_length(total as u64);
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
    Ok(())
}

/// `finops serve`: builds the service and serves until stopped.
pub fn serve(cli: &Cli, args: &ServeArgs) -> Result<(), CliError> {
    let mut settings = settings(cli, args.bind.clone())?;
    settings.demo_sign_in = args.demo;
    settings.demo_data = args.demo;
    let pool = open_pool(&settings)?;
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
        let bar = rows_bar("loading the demo");
        let app = Application::build_with_pool(&settings, pool, &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64)
        })
        .map_err(|e| CliError::Runtime(e.to_string()))?;
        bar.finish_and_clear();
        for notice in app.notices() {
            eprintln!("{notice}");
        }
        eprintln!(
            "finops is serving http://{host}:{}/ (database {shown}); Ctrl-C stops it",
            app.port()
        );
        app.run_until_stopped()
            .await
            .map_err(|e| CliError::Runtime(e.to_string()))
    })
}
