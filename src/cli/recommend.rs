//! `finops recommend rightsizing|commitments` and `finops catalog`.

use std::io::Write;

use crate::cli::{
    CatalogCommand, CliError, CommitmentArgs, OutputFormat, RecommendCommand, RightsizingArgs,
};
use crate::db::DbConnection;
use crate::money::Micros;
use crate::pricing::Payment;
use crate::recommend::fleet::FleetOptions;
use crate::recommend::output;
use crate::recommend::purchase::{self, PurchaseOptions};
use crate::recommend::run::{self, RecommendError};
use crate::recommend::{Kind, Recommendation, Status};

impl From<RecommendError> for CliError {
    fn from(e: RecommendError) -> CliError {
        match e {
            RecommendError::NoUtilisation => CliError::BadInput(e.to_string()),
            RecommendError::Db(d) => CliError::from(d),
        }
    }
}

pub fn run(conn: &mut DbConnection, command: &RecommendCommand) -> Result<(), CliError> {
    match command {
        RecommendCommand::Rightsizing(args) => rightsizing(conn, args),
        RecommendCommand::Commitments(args) => commitments(conn, args),
    }
}

fn rightsizing(conn: &mut DbConnection, args: &RightsizingArgs) -> Result<(), CliError> {
    let options = FleetOptions::from_parts(
        args.lookback,
        &args.statistic,
        args.headroom,
        args.across_families,
        args.event_window,
    )
    .map_err(CliError::BadInput)?;
    let review = run::rightsizing(conn, &options)?;
    let recs: Vec<Recommendation> = review
        .recommendations
        .into_iter()
        .filter(|r| args.all || r.status == Status::Actionable)
        .collect();
    eprintln!(
        "{} recommendation(s) from {} resources over the {} days to {} (catalog: {})",
        recs.len(),
        review.decisions.len(),
        options.lookback_days,
        review.as_of,
        review.catalog_source
    );
    print(&recs, args.format)
}

fn commitments(conn: &mut DbConnection, args: &CommitmentArgs) -> Result<(), CliError> {
    let mut payments = Vec::new();
    for p in &args.payment {
        payments.push(Payment::parse(p).ok_or_else(|| {
            CliError::BadInput(format!("--payment: '{p}' is not no, partial or all"))
        })?);
    }
    if args.term.contains(&2) {
        return Err(CliError::BadInput(
            "--term: commitments last 1 or 3 years".to_string(),
        ));
    }
    let kind = match &args.kind {
        Some(k) => Some(Kind::parse(k).filter(|k| k.is_commitment()).ok_or_else(|| {
            CliError::BadInput(format!(
                "--kind: '{k}' is not compute_savings_plan, ec2_instance_savings_plan or reserved_instances"
            ))
        })?),
        None => None,
    };
    let what_if = match &args.what_if {
        Some(text) => Some(
            Micros::parse(text)
                .ok()
                .filter(|m| m.0 >= 0)
                .ok_or_else(|| {
                    CliError::BadInput(format!("--what-if: '{text}' is not an amount per hour"))
                })?,
        ),
        None => None,
    };
    let options = PurchaseOptions {
        terms: args.term.clone(),
        payments,
        ..PurchaseOptions::default()
    };
    let result = run::commitments(conn, &options)?;
    if let Some(amount) = what_if {
        let Some(plan) = result
            .plans
            .iter()
            .find(|p| p.usage.kind == Kind::ComputeSavingsPlan)
        else {
            return Err(CliError::Runtime(
                "no Compute Savings Plan scope".to_string(),
            ));
        };
        let Some(option) = plan.best.map(|i| &plan.options[i]).or(plan.options.first()) else {
            return Err(CliError::Runtime(
                "the eligible usage could not be forecast; nothing to evaluate".to_string(),
            ));
        };
        let o = purchase::what_if(plan, option, amount.as_units_f64());
        let c = &plan.currency;
        println!(
            "What if {} /h of {} ({} year, {}, from {}): saves {} a month expected (P10 {}, P90 {}), {:.1} % utilisation, {:.1} % coverage, break-even {}",
            amount.display(c),
            option.offer.label(),
            option.term_years,
            option.payment.label(),
            purchase::start_day(plan, option),
            Micros::from_units_f64(o.monthly_savings).display(c),
            Micros::from_units_f64(o.p10_monthly_savings).display(c),
            Micros::from_units_f64(o.p90_monthly_savings).display(c),
            o.outcome.expected_utilisation * 100.0,
            o.outcome.expected_coverage * 100.0,
            o.break_even_month
                .map(|m| format!("in month {m}"))
                .unwrap_or_else(|| "never within the term".to_string())
        );
        return Ok(());
    }
    let recs: Vec<Recommendation> = result
        .recommendations
        .into_iter()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .collect();
    let currency = crate::currency::reporting(conn)?;
    let t = output::totals(&recs, &currency);
    eprintln!(
        "{} scope(s); Compute Savings Plan saves {} a month, per-family EC2 Instance SP / RI plan {} (alternatives: buy one or the other)",
        recs.len(),
        t.compute_plan.display(&currency),
        t.per_family_plan.display(&currency)
    );
    print(&recs, args.format)
}

fn print(recs: &[Recommendation], format: OutputFormat) -> Result<(), CliError> {
    let text = match format {
        OutputFormat::Json => {
            serde_json::to_string_pretty(recs).map_err(|e| CliError::Runtime(e.to_string()))?
        }
        OutputFormat::Csv => output::csv(recs),
        OutputFormat::Table => output::table(recs),
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Runtime(format!("standard output: {e}")))
}

pub fn catalog(
    conn: &mut DbConnection,
    command: &CatalogCommand,
    limits: crate::ingest::Limits,
) -> Result<(), CliError> {
    match command {
        CatalogCommand::Import(files) => {
            let Some(path) = files.files.last() else {
                return Err(CliError::BadInput(
                    "give the catalog file to import".to_string(),
                ));
            };
            if files.files.len() > 1 {
                return Err(CliError::BadInput(
                    "a catalog import replaces the whole catalog: give one file".to_string(),
                ));
            }
            super::ingest::import_files(
                conn,
                crate::runs::Source::Catalog,
                std::slice::from_ref(path),
                files.json,
                limits,
            )
            .map_err(|e| match e {
                CliError::BadInput(_) => CliError::BadInput(
                    "the catalog was not imported (the previous one is kept)".to_string(),
                ),
                other => other,
            })
        }
        CatalogCommand::ImportAws(files) => import_price_list(conn, files, limits),
        CatalogCommand::Show => {
            let c = crate::recommend::price_catalog(conn)?;
            let (types, prices) = c.counts();
            let mut regions: Vec<&str> = c.prices.keys().map(|(_, _, r)| r.as_str()).collect();
            regions.sort_unstable();
            regions.dedup();
            println!(
                "catalog: {}\n{types} types, {prices} type × region prices, regions: {}",
                c.source,
                regions.join(", ")
            );
            Ok(())
        }
    }
}

fn import_price_list(
    conn: &mut DbConnection,
    files: &crate::cli::args::PriceListFiles,
    limits: crate::ingest::Limits,
) -> Result<(), CliError> {
    use crate::ingest::catalog::PriceListProgress;
    let inputs: Vec<crate::ingest::Input> = files
        .files
        .iter()
        .map(|p| crate::ingest::Input::new(p).with_limits(limits))
        .collect();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut phase = None;
    let outcome = crate::ingest::catalog::import_aws(conn, &inputs, &mut |p| {
        let (now, bytes, total) = match p {
            PriceListProgress::Checking { file, bytes, total } => {
                (("checking", file), bytes, total)
            }
            PriceListProgress::Reading { file, bytes, total } => {
                (("reading prices from", file), bytes, total)
            }
        };
        if phase != Some(now) {
            phase = Some(now);
            bar.set_length(total);
            bar.reset();
            let name = inputs.get(now.1).map_or("", |i| i.label.as_str());
            bar.set_message(format!("{} {name}", now.0));
        }
        bar.set_position(bytes);
    });
    bar.finish_and_clear();
    match outcome {
        Ok(summary) => {
            for f in &summary.files {
                eprintln!("read {}: {} ({} prices kept)", f.file, f.origin(), f.prices);
            }
            let m = &summary.merge;
            eprintln!(
                "catalog updated: {} on-demand prices ({} new type × region), {} commitment rates from the price list; {} price rows in all",
                m.on_demand, m.added, m.commitments, summary.prices
            );
            if m.skipped_no_on_demand + m.skipped_not_cheaper + m.skipped_unknown_type > 0 {
                eprintln!(
                    "left out: {} rates with no on-demand price for their type and region, {} rates not below on demand, {} prices of types without vCPU and memory",
                    m.skipped_no_on_demand, m.skipped_not_cheaper, m.skipped_unknown_type
                );
            }
            if files.json {
                let text = serde_json::to_string_pretty(&summary)
                    .map_err(|e| CliError::Runtime(e.to_string()))?;
                println!("{text}");
            }
            Ok(())
        }
        Err(e) => {
            for line in e.details() {
                eprintln!("error: {line}");
            }
            let message = "the price list was not imported (the catalog in use is unchanged)";
            if e.is_bad_input() {
                Err(CliError::BadInput(message.to_string()))
            } else {
                Err(CliError::Runtime(message.to_string()))
            }
        }
    }
}
