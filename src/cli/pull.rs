//! `finops pull …`: Cost Explorer costs and AWS's own recommendations
//! (Savings Plans, Reserved Instances, rightsizing), each stored as a run.

use indicatif::ProgressBar;

use super::{
    CliError, PlanKind, PullAthenaArgs, PullCommand, PullCostExplorerArgs, PullS3ExportArgs,
    PullUtilisationArgs, RightsizingAdviceArgs, SavingsPlansAdviceArgs,
};
use crate::config::Settings;
use crate::db::DbConnection;

/// Runs a `pull` command.
pub fn run(
    conn: &mut DbConnection,
    settings: &Settings,
    command: &PullCommand,
) -> Result<(), CliError> {
    match command {
        PullCommand::CostExplorer(args) => pull_cost_explorer(conn, settings, args),
        PullCommand::S3Export(args) => pull_s3_export(conn, settings, args),
        PullCommand::Utilisation(args) => pull_utilisation(conn, settings, args),
        PullCommand::Athena(args) => pull_athena(conn, settings, args),
        PullCommand::SavingsPlansAdvice(args) => savings_plans_advice(conn, settings, args, false),
        PullCommand::ReservationAdvice(args) => savings_plans_advice(conn, settings, args, true),
        PullCommand::RightsizingAdvice(args) => rightsizing_advice(conn, settings, args),
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
    let today = crate::clock::today();
    let mut opts = crate::pull::cost_explorer::PullOptions::new(today, today);
    opts.endpoint_url = endpoint_url
        .clone()
        .or_else(|| settings.cost_explorer_endpoint_url.clone());
    opts
}

fn store_advice(
    conn: &mut DbConnection,
    kind: &str,
    parameters: &str,
    rows: &[crate::db::aws_advice::Advice],
) -> Result<(), CliError> {
    crate::pull::aws_advice::store(conn, kind, parameters, rows, crate::clock::now())?;
    Ok(())
}

fn savings_plans_advice(
    conn: &mut DbConnection,
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
    let now = crate::clock::now();
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
        store_advice(conn, aws::RESERVED_INSTANCES, &parameters, &rows)?;
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
    store_advice(conn, aws::SAVINGS_PLANS, &parameters, &rows)?;
    if args.json {
        println!("{}", serde_json::to_string(&advice).unwrap_or_default());
    }
    Ok(())
}

fn rightsizing_advice(
    conn: &mut DbConnection,
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
    let rows = aws::from_rightsizing(&advice, crate::clock::now());
    store_advice(conn, aws::RIGHTSIZING, "", &rows)?;
    if args.json {
        println!("{}", serde_json::to_string(&advice).unwrap_or_default());
    }
    Ok(())
}

fn pull_cost_explorer(
    conn: &mut DbConnection,
    settings: &Settings,
    args: &PullCostExplorerArgs,
) -> Result<(), CliError> {
    use crate::pull::{self, cost_explorer};
    let today = crate::clock::today();
    let from = match args.from {
        Some(d) => d,
        None => pull::default_from(conn, today).map_err(|e| CliError::Runtime(e.to_string()))?,
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
    let started_at = crate::clock::now();
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
            pull::record_failure(conn, &opts, started_at, &e);
            return Err(match e {
                cost_explorer::PullError::Range { .. } => CliError::BadInput(e.to_string()),
                other => CliError::Runtime(other.to_string()),
            });
        }
    };
    let summary = pull::store(conn, &opts, &fetched, started_at)
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

fn pull_s3_export(
    conn: &mut DbConnection,
    settings: &Settings,
    args: &PullS3ExportArgs,
) -> Result<(), CliError> {
    use crate::pull::s3_export::{self, fetch::Connection, layout::ExportUri, S3Progress};
    use crate::pull::schedule;
    let uri = ExportUri::parse(&args.uri).map_err(CliError::BadInput)?;
    let format = s3_export::parse_format(&args.format)
        .map_err(|m| CliError::BadInput(format!("--format: {m}")))?;
    // A configured export's endpoint and region apply unless given here.
    let configured = settings
        .s3_exports
        .iter()
        .find(|e| ExportUri::parse(&e.uri).is_ok_and(|u| u == uri));
    let opts = s3_export::S3ExportOptions {
        connection: Connection {
            endpoint_url: args
                .endpoint_url
                .clone()
                .or_else(|| configured.and_then(|c| c.endpoint_url.clone())),
            region: args
                .region
                .clone()
                .or_else(|| configured.and_then(|c| c.region.clone())),
            static_credentials: None,
            max_attempts: 5,
        },
        uri,
        format,
        limits: settings.decompress_limits(),
        all: args.all,
    };
    // The same job the servers schedule: not while one of them runs it.
    let job = schedule::s3_export_job(&opts.uri.to_string());
    let now = crate::clock::now();
    if !schedule::claim(conn, &job, std::time::Duration::ZERO, now)? {
        let by = crate::db::scheduled_jobs::get(conn, &job)?
            .map(|j| {
                format!(
                    " (started {} by {})",
                    j.last_started_at.format("%Y-%m-%d %H:%M UTC"),
                    j.started_by
                )
            })
            .unwrap_or_default();
        return Err(CliError::Busy(format!(
            "another finops process is pulling {} now{by}; try again when it is done",
            opts.uri
        )));
    }
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar.set_message(format!("listing {}…", opts.uri));
    let result = s3_export::pull(conn, &opts, &mut |p| match p {
        S3Progress::Found { periods, changed } => {
            bar.set_message(format!("{periods} billing period(s), {changed} to import"))
        }
        S3Progress::Downloading {
            period,
            file,
            files,
            key,
            bytes,
        } => bar.set_message(format!(
            "{period}: downloading file {file} of {files}, {} ({})",
            key.rsplit('/').next().unwrap_or(&key),
            indicatif::HumanBytes(bytes)
        )),
        S3Progress::Importing { period } => bar.set_message(format!("importing {period}…")),
    });
    bar.finish_and_clear();
    let outcome = result.as_ref().map(|s| s.line()).map_err(|e| e.to_string());
    schedule::finish(
        conn,
        &job,
        now,
        &match &result {
            Ok(s) if s.failed().is_empty() => Ok(s.line()),
            Ok(s) => Err(s.line()),
            Err(e) => Err(e.to_string()),
        },
    );
    let summary = result.map_err(|e| match e {
        s3_export::S3PullError::Address(m) => CliError::BadInput(m),
        e @ s3_export::S3PullError::NothingFound { .. } => CliError::BadInput(e.to_string()),
        other => CliError::Runtime(other.to_string()),
    })?;
    for p in &summary.periods {
        match p {
            s3_export::PeriodOutcome::Unchanged { period } => {
                eprintln!("{period}: unchanged since its last import")
            }
            s3_export::PeriodOutcome::Imported {
                period,
                files,
                bytes,
                rows,
                ingest_run_id,
            } => eprintln!(
                "{period}: imported {rows} rows from {files} file(s) ({}), run #{ingest_run_id}",
                indicatif::HumanBytes(*bytes)
            ),
            s3_export::PeriodOutcome::Failed { period, error } => {
                eprintln!("{period}: not imported: {error}")
            }
        }
    }
    eprintln!(
        "{}",
        outcome
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
    );
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    }
    if !summary.failed().is_empty() {
        return Err(CliError::Runtime(format!(
            "{} billing period(s) could not be imported; nothing of them changed, and the next pull tries them again",
            summary.failed().len()
        )));
    }
    Ok(())
}

fn pull_utilisation(
    conn: &mut DbConnection,
    settings: &Settings,
    args: &PullUtilisationArgs,
) -> Result<(), CliError> {
    use crate::pull::cloudwatch::{self, UtilisationPullError, UtilisationPullOptions};
    let today = crate::clock::today();
    let mut opts = UtilisationPullOptions::last_days(today, 14);
    if let Some(from) = args.from {
        opts.from = from;
    }
    if let Some(to) = args.to {
        opts.to = to;
    }
    opts.endpoint_url = args
        .endpoint_url
        .clone()
        .or_else(|| settings.cloudwatch_endpoint_url.clone());
    let bar = ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "asking CloudWatch [{bar:30}] {pos}/{len} requests of up to 500 queries, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let result = cloudwatch::pull(conn, &opts, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let summary = result.map_err(|e| match e {
        UtilisationPullError::Range { .. } | UtilisationPullError::NoInstances { .. } => {
            CliError::BadInput(e.to_string())
        }
        other => CliError::Runtime(other.to_string()),
    })?;
    eprintln!(
        "pulled {} to {}: {} hourly row(s) for {} instance(s) in {} region(s), replaced {} earlier row(s); {} GetMetricData request(s)",
        summary.from,
        summary.to.pred_opt().unwrap_or(summary.to),
        summary.rows,
        summary.instances,
        summary.regions,
        summary.replaced_rows,
        summary.requests
    );
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    }
    Ok(())
}

fn pull_athena(
    conn: &mut DbConnection,
    settings: &Settings,
    args: &PullAthenaArgs,
) -> Result<(), CliError> {
    use crate::pull::athena::{self, AthenaError, AthenaOptions};
    use crate::report::period::Month;
    let this_month = Month::of(crate::clock::today());
    let from = args.from.unwrap_or(this_month.prev());
    let to = args.to.unwrap_or(this_month);
    if from.first_day() > to.first_day() {
        return Err(CliError::BadInput(format!(
            "--from {} is after --to {} (both billing periods are included)",
            from.first_day().format("%Y-%m"),
            to.first_day().format("%Y-%m")
        )));
    }
    let opts = AthenaOptions {
        database: args.glue_database.clone(),
        table: args.table.clone(),
        workgroup: args.workgroup.clone(),
        output: args.output.clone(),
        from: from.first_day(),
        to: to.next().first_day(),
        endpoint_url: args.endpoint_url.clone(),
        region: args.region.clone(),
        static_credentials: None,
        max_attempts: 6,
        timeout: std::time::Duration::from_secs(30 * 60),
        poll: std::time::Duration::from_millis(500),
    };
    let spinner = ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = athena::pull(conn, &opts, settings.decompress_limits(), &mut |m| {
        spinner.set_message(m.to_string())
    });
    spinner.finish_and_clear();
    let summary = result.map_err(|e| match e {
        AthenaError::BadInput(m) => CliError::BadInput(m),
        AthenaError::Import(i) => CliError::Runtime(i.details().join("\n")),
        other => CliError::Runtime(other.to_string()),
    })?;
    let billed: Vec<String> = summary
        .import
        .totals
        .iter()
        .map(|t| format!("{} {}", t.billed.to_decimal(2), t.currency))
        .collect();
    eprintln!(
        "Athena query {}: {} resource-day row(s); imported {} billing period scope(s), billed {}; {} request(s) to Athena",
        summary.query_execution_id,
        summary.result_rows,
        summary.import.scopes.len(),
        billed.join(", "),
        summary.requests
    );
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    }
    Ok(())
}
