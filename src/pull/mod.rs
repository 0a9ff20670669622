//! Pulling data from provider APIs. A pull fetches (async, no database),
//! then stores in one transaction, replacing the days it covers, and
//! allocates like a file import.

pub mod athena;
pub mod aws;
pub mod aws_advice;
pub mod cloudwatch;
pub mod cost_explorer;
pub mod s3_export;
pub mod schedule;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::Connection;

use crate::db::ingest_runs::{self, NewIngestRun};
use crate::db::{costs, resource_costs, DbConnection};
use crate::ingest::{allocate, rules};
use cost_explorer::{Fetched, PullError, PullOptions, SOURCE};

/// The pulls `serve` schedules (Cost Explorer unless
/// `pull_cost_explorer` is off, and each `[[s3_export]]`); none when
/// `pull_every_hours` is 0.
pub fn scheduled_jobs(settings: &crate::config::Settings) -> Vec<schedule::Job> {
    let mut jobs = Vec::new();
    if settings.pull_every_hours == 0 {
        return jobs;
    }
    if settings.pull_cost_explorer {
        jobs.push(schedule::Job::CostExplorer(schedule::Schedule {
            every: std::time::Duration::from_secs(u64::from(settings.pull_every_hours) * 3600),
            endpoint_url: settings.cost_explorer_endpoint_url.clone(),
            tag_key: settings.cost_explorer_tag_key.clone(),
            billing_account: settings.cost_explorer_account.clone(),
            static_credentials: None,
        }));
    }
    if settings.pull_utilisation {
        jobs.push(schedule::Job::Utilisation {
            endpoint_url: settings.cloudwatch_endpoint_url.clone(),
        });
    }
    for export in &settings.s3_exports {
        match s3_export::options_from_setting(export, settings) {
            Ok(opts) => jobs.push(schedule::Job::S3Export(Box::new(opts))),
            Err(e) => tracing::error!(export = %export.uri, error = %e, "export not scheduled"),
        }
    }
    jobs
}

/// What a pull did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PullSummary {
    pub ingest_run_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub requests: usize,
    pub rows: usize,
    pub estimated_days: usize,
    pub replaced_rows: usize,
    pub warnings: Vec<String>,
}

/// The default start of a pull: the first day of last month, or the first
/// estimated day stored if earlier (so estimates are replaced).
pub fn default_from(conn: &mut DbConnection, today: NaiveDate) -> Result<NaiveDate, PullError> {
    let this_month = today.with_day(1).unwrap_or(today);
    let last_month = this_month
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(this_month);
    let estimated = resource_costs::first_estimated_day(conn, SOURCE)?;
    Ok(estimated.map_or(last_month, |d| d.min(last_month)))
}

/// Stores a fetch: replaces `[from, to)` for the pulled billing account.
pub fn store(
    conn: &mut DbConnection,
    opts: &PullOptions,
    fetched: &Fetched,
    started_at: NaiveDateTime,
) -> Result<PullSummary, PullError> {
    let rules = rules::load(conn)?;
    let drivers = rules::drivers_for(conn, &fetched.rows)?;
    let (estimated, settled): (Vec<_>, Vec<_>) = fetched
        .rows
        .iter()
        .cloned()
        .partition(|r| fetched.estimated_days.contains(&r.day));
    let mut message = format!(
        "{} request(s) to Cost Explorer; {} estimated day(s)",
        fetched.requests,
        fetched.estimated_days.len()
    );
    for w in fetched.warnings.iter().take(20) {
        message.push('\n');
        message.push_str(w);
    }
    let endpoint = opts
        .endpoint_url
        .clone()
        .unwrap_or_else(|| "AWS Cost Explorer".to_string());
    conn.transaction::<_, PullError, _>(|conn| {
        let replaced = resource_costs::delete_days(
            conn,
            SOURCE,
            "AWS",
            &opts.billing_account,
            opts.from,
            opts.to,
        )?;
        let run_id = crate::runs::record(
            conn,
            &ingest_runs::NewIngestRun::succeeded(
                SOURCE,
                &endpoint,
                "",
                &format!("{}..{}", opts.from, opts.to.pred_opt().unwrap_or(opts.to)),
                fetched.rows.len(),
                started_at,
                message.clone(),
            ),
        )?;
        for (rows, is_estimated) in [(&settled, false), (&estimated, true)] {
            if rows.is_empty() {
                continue;
            }
            let allocation =
                allocate::allocate(rows, &rules, &drivers, SOURCE, Some(run_id), is_estimated);
            resource_costs::insert(
                conn,
                SOURCE,
                rows,
                &allocation.allocated_to,
                is_estimated,
                Some(run_id),
                &mut |_| {},
            )?;
            costs::insert_costs(conn, &allocation.costs)?;
        }
        Ok(PullSummary {
            ingest_run_id: run_id,
            from: opts.from,
            to: opts.to,
            requests: fetched.requests,
            rows: fetched.rows.len(),
            estimated_days: fetched.estimated_days.len(),
            replaced_rows: replaced,
            warnings: fetched.warnings.clone(),
        })
    })
}

/// Records a failed Cost Explorer pull so the Data sources page shows it.
pub fn record_failure(
    conn: &mut DbConnection,
    opts: &PullOptions,
    started_at: NaiveDateTime,
    error: &PullError,
) {
    record_failed_pull(
        conn,
        SOURCE,
        opts.endpoint_url.as_deref().unwrap_or("AWS Cost Explorer"),
        (opts.from, opts.to),
        started_at,
        &error.to_string(),
    );
}

/// Records a failed pull of `source` from `endpoint` over the days
/// `[from, to)` as a failed run (logged if even that fails).
pub fn record_failed_pull(
    conn: &mut DbConnection,
    source: &str,
    endpoint: &str,
    (from, to): (NaiveDate, NaiveDate),
    started_at: NaiveDateTime,
    message: &str,
) {
    let run = NewIngestRun {
        source: source.to_string(),
        file_name: endpoint.to_string(),
        file_hash: String::new(),
        billing_period: format!("{}..{}", from, to.pred_opt().unwrap_or(to)),
        rows_read: 0,
        rows_kept: 0,
        rows_rejected: 0,
        status: crate::runs::Status::Failed.as_str().to_string(),
        message: message.to_string(),
        started_at,
        finished_at: Some(crate::clock::now()),
    };
    if let Err(e) = crate::runs::record(conn, &run) {
        tracing::warn!(error = %e, "could not record the failed pull");
    }
}
