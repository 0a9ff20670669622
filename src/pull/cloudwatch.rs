//! Utilisation pulled from CloudWatch, without a file: the EC2 instances
//! come from the bill (every instance that cost money in the range has its
//! id, type, region and platform there, so no EC2 `DescribeInstances`
//! call is needed), and their metrics from `GetMetricData` at hourly
//! resolution:
//!
//! | namespace | metric | statistic | stored as |
//! |---|---|---|---|
//! | AWS/EC2 | CPUUtilization | Average, Maximum | cpu_avg, cpu_max |
//! | AWS/EC2 | NetworkIn, NetworkOut | Sum | network_bytes (added) |
//! | CWAgent | mem_used_percent | Average, Maximum | mem_avg, mem_max (where the agent runs) |
//!
//! Queries go 500 to a request (the API's limit), one client per region,
//! every page followed (`NextToken`); throttling and 5xx answers are
//! retried with backoff. The rows are stored like a utilisation file's
//! (replacing the same instances over the same hours) as one run.

use std::collections::BTreeMap;

use aws_config::Region;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::ingest_runs::NewIngestRun;
use crate::db::schema::cost_resource_daily as crd;
use crate::db::{DbConnection, DbError};
use crate::ingest::cloudwatch::Series;
use crate::ingest::ImportError;

pub const SOURCE: &str = crate::runs::Source::CloudWatch.as_str();

/// Queries per GetMetricData request (the API's limit).
pub const QUERIES_PER_REQUEST: usize = 500;

/// The statistics asked per instance: namespace, metric, statistic.
const METRICS: [(&str, &str, &str); 6] = [
    ("AWS/EC2", "CPUUtilization", "Average"),
    ("AWS/EC2", "CPUUtilization", "Maximum"),
    ("AWS/EC2", "NetworkIn", "Sum"),
    ("AWS/EC2", "NetworkOut", "Sum"),
    ("CWAgent", "mem_used_percent", "Average"),
    ("CWAgent", "mem_used_percent", "Maximum"),
];

#[derive(Debug, thiserror::Error)]
pub enum UtilisationPullError {
    #[error("--from {from} must be before --to {to} (the end is exclusive)")]
    Range { from: NaiveDate, to: NaiveDate },
    #[error("no EC2 instance in the bill between {from} and {to}: import or pull costs for the range first (the instances to ask CloudWatch about come from the bill)")]
    NoInstances { from: NaiveDate, to: NaiveDate },
    #[error("CloudWatch GetMetricData in {region} (request {request}) failed: {message}")]
    Request {
        region: String,
        request: usize,
        message: String,
    },
    #[error("CloudWatch answered something finops cannot read: {0}")]
    Answer(String),
    #[error("{}", .0.details().join("\n"))]
    Store(ImportError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for UtilisationPullError {
    fn from(e: diesel::result::Error) -> Self {
        UtilisationPullError::Db(DbError::Query(e))
    }
}

/// What to pull and from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtilisationPullOptions {
    /// First day (inclusive, UTC).
    pub from: NaiveDate,
    /// Day after the last (exclusive).
    pub to: NaiveDate,
    /// Another endpoint than AWS's (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Fixed credentials (access key id, secret) instead of the standard
    /// AWS chain: for an emulator.
    pub static_credentials: Option<(String, String)>,
    /// Attempts per request, throttling and 5xx included.
    pub max_attempts: u32,
}

impl UtilisationPullOptions {
    /// The last 14 days up to today (the window rightsizing looks at).
    pub fn last_days(today: NaiveDate, days: i64) -> UtilisationPullOptions {
        UtilisationPullOptions {
            from: today - chrono::Duration::days(days),
            to: today,
            endpoint_url: None,
            static_credentials: None,
            max_attempts: 6,
        }
    }
}

/// An EC2 instance as the bill describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BilledInstance {
    pub id: String,
    pub instance_type: String,
    pub region: String,
    /// A platform name, or empty (shared or unallocated).
    pub platform: String,
}

/// The instance id in a bill's resource id: `i-…` itself (CUR) or the end
/// of an ARN `arn:aws:ec2:REGION:ACCOUNT:instance/i-…` (FOCUS).
pub fn instance_id(resource: &str) -> Option<&str> {
    let id = resource.rsplit('/').next().unwrap_or(resource);
    let hex = id.strip_prefix("i-")?;
    (hex.len() >= 8 && hex.len() <= 17 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

#[derive(Queryable)]
struct BillRow {
    resource: String,
    region: String,
    instance_type: String,
    allocated_to: String,
    day: NaiveDate,
}

/// The EC2 instances billed between `from` and `to` (exclusive), each
/// with the type, region and platform of its latest billed day.
pub fn billed_instances(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<BilledInstance>, DbError> {
    let classes = [
        crate::usage_class::UsageClass::ComputeInstance.as_str(),
        crate::usage_class::UsageClass::Spot.as_str(),
    ];
    let rows: Vec<BillRow> = crd::table
        .filter(crd::day.ge(from))
        .filter(crd::day.lt(to))
        .filter(crd::usage_class.eq_any(classes))
        .filter(crd::instance_type.ne(""))
        .select((
            crd::resource,
            crd::region,
            crd::instance_type,
            crd::allocated_to,
            crd::day,
        ))
        .distinct()
        .load(conn)?;
    let mut latest: BTreeMap<String, BillRow> = BTreeMap::new();
    for row in rows {
        let Some(id) = instance_id(&row.resource).map(str::to_string) else {
            continue;
        };
        match latest.get(&id) {
            Some(seen) if seen.day >= row.day => {}
            _ => {
                latest.insert(id, row);
            }
        }
    }
    Ok(latest
        .into_iter()
        .map(|(id, r)| BilledInstance {
            id,
            instance_type: r.instance_type,
            region: r.region,
            platform: r
                .allocated_to
                .parse::<crate::dims::Platform>()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
        })
        .collect())
}

/// The queries for `instances` (all in one region): six per instance,
/// each labelled as [`crate::ingest::cloudwatch`] reads labels.
pub fn queries(instances: &[BilledInstance]) -> Vec<MetricDataQuery> {
    let mut out = Vec::with_capacity(instances.len() * METRICS.len());
    for (n, i) in instances.iter().enumerate() {
        for (m, (namespace, metric, stat)) in METRICS.iter().enumerate() {
            let platform = if i.platform.is_empty() {
                String::new()
            } else {
                format!(" platform={}", i.platform)
            };
            let query = MetricDataQuery::builder()
                .id(format!("q{n}_{m}"))
                .label(format!(
                    "instance_id={} instance_type={} region={}{platform} metric={metric} stat={stat}",
                    i.id, i.instance_type, i.region
                ))
                .metric_stat(
                    MetricStat::builder()
                        .metric(
                            Metric::builder()
                                .namespace(*namespace)
                                .metric_name(*metric)
                                .dimensions(
                                    Dimension::builder()
                                        .name("InstanceId")
                                        .value(&i.id)
                                        .build(),
                                )
                                .build(),
                        )
                        .period(3600)
                        .stat(*stat)
                        .build(),
                )
                .return_data(true)
                .build();
            out.push(query);
        }
    }
    out
}

async fn client(opts: &UtilisationPullOptions, region: &str) -> aws_sdk_cloudwatch::Client {
    let config = super::aws::loader(
        opts.endpoint_url.as_deref(),
        opts.static_credentials.as_ref(),
        opts.max_attempts,
    )
    .region(Region::new(region.to_string()))
    .load()
    .await;
    aws_sdk_cloudwatch::Client::new(&config)
}

/// What a fetch got: the series, and how many requests it took.
#[derive(Debug, Default)]
pub struct Fetched {
    pub series: Vec<Series>,
    pub requests: usize,
    pub instances: usize,
    pub regions: usize,
}

fn seconds(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0)
}

/// Asks CloudWatch for every instance's metrics, region by region, 500
/// queries a request, every page.
pub async fn fetch(
    opts: &UtilisationPullOptions,
    instances: &[BilledInstance],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Fetched, UtilisationPullError> {
    if opts.from >= opts.to {
        return Err(UtilisationPullError::Range {
            from: opts.from,
            to: opts.to,
        });
    }
    let mut by_region: BTreeMap<&str, Vec<BilledInstance>> = BTreeMap::new();
    for i in instances {
        by_region
            .entry(i.region.as_str())
            .or_default()
            .push(i.clone());
    }
    let mut fetched = Fetched {
        instances: instances.len(),
        regions: by_region.len(),
        ..Fetched::default()
    };
    let total_batches: usize = by_region
        .values()
        .map(|v| (v.len() * METRICS.len()).div_ceil(QUERIES_PER_REQUEST))
        .sum();
    let mut done = 0;
    for (region, members) in by_region {
        let client = client(opts, region).await;
        let all = queries(&members);
        for batch in all.chunks(QUERIES_PER_REQUEST) {
            let mut series: BTreeMap<String, Series> = batch
                .iter()
                .map(|q| {
                    let id = q.id().unwrap_or_default().to_string();
                    (
                        id.clone(),
                        Series {
                            id,
                            label: q.label().unwrap_or_default().to_string(),
                            ..Series::default()
                        },
                    )
                })
                .collect();
            let mut token: Option<String> = None;
            loop {
                fetched.requests += 1;
                let answer = client
                    .get_metric_data()
                    .set_metric_data_queries(Some(batch.to_vec()))
                    .start_time(DateTime::from_secs(seconds(opts.from)))
                    .end_time(DateTime::from_secs(seconds(opts.to)))
                    .scan_by(ScanBy::TimestampAscending)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| UtilisationPullError::Request {
                        region: region.to_string(),
                        request: fetched.requests,
                        message: super::aws::brief_error(&e),
                    })?;
                for r in answer.metric_data_results() {
                    let id = r.id().unwrap_or_default();
                    let Some(s) = series.get_mut(id) else {
                        return Err(UtilisationPullError::Answer(format!(
                            "a result for query {id}, which was not asked"
                        )));
                    };
                    if r.timestamps().len() != r.values().len() {
                        return Err(UtilisationPullError::Answer(format!(
                            "query {id} has {} timestamps but {} values",
                            r.timestamps().len(),
                            r.values().len()
                        )));
                    }
                    for (t, v) in r.timestamps().iter().zip(r.values()) {
                        let at =
                            chrono::DateTime::from_timestamp(t.secs(), 0).ok_or_else(|| {
                                UtilisationPullError::Answer(format!(
                                    "query {id}: timestamp {} is out of range",
                                    t.secs()
                                ))
                            })?;
                        s.timestamps.push(at.to_rfc3339());
                        s.values.push(*v);
                    }
                }
                token = answer.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            fetched.series.extend(series.into_values());
            done += 1;
            progress(done, total_batches);
        }
    }
    Ok(fetched)
}

/// What a pull did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UtilisationPullSummary {
    pub ingest_run_id: Option<i64>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub instances: usize,
    pub regions: usize,
    pub requests: usize,
    pub rows: usize,
    pub replaced_rows: u64,
}

/// Joins the fetched series into utilisation rows and stores them as one
/// run, replacing the same instances over the same hours.
pub fn store(
    conn: &mut DbConnection,
    opts: &UtilisationPullOptions,
    fetched: &Fetched,
    started_at: NaiveDateTime,
) -> Result<UtilisationPullSummary, ImportError> {
    let endpoint = opts
        .endpoint_url
        .clone()
        .unwrap_or_else(|| "AWS CloudWatch".to_string());
    let rows = crate::ingest::cloudwatch::join(&endpoint, &fetched.series, false)?;
    let mut summary = UtilisationPullSummary {
        ingest_run_id: None,
        from: opts.from,
        to: opts.to,
        instances: fetched.instances,
        regions: fetched.regions,
        requests: fetched.requests,
        rows: rows.len(),
        replaced_rows: 0,
    };
    let run = NewIngestRun::succeeded(
        SOURCE,
        &endpoint,
        "",
        &format!("{}..{}", opts.from, opts.to.pred_opt().unwrap_or(opts.to)),
        rows.len(),
        started_at,
        format!(
            "{} instance(s) in {} region(s) from the bill; {} GetMetricData request(s); {} hourly row(s)",
            fetched.instances,
            fetched.regions,
            fetched.requests,
            rows.len()
        ),
    );
    let stored = crate::ingest::utilisation::replace_rows(conn, &rows, &run).map_err(|e| {
        ImportError::Db {
            file: endpoint.clone(),
            source: e,
        }
    })?;
    summary.ingest_run_id = Some(stored.ingest_run_id);
    summary.replaced_rows = stored.replaced_rows;
    Ok(summary)
}

/// The whole pull in this (blocking) thread: the billed instances, their
/// metrics (a runtime of its own for the SDK; `progress` gets requests
/// done of all), then the store. A failure after the instances are known
/// is recorded as a failed run.
pub fn pull(
    conn: &mut DbConnection,
    opts: &UtilisationPullOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<UtilisationPullSummary, UtilisationPullError> {
    if opts.from >= opts.to {
        return Err(UtilisationPullError::Range {
            from: opts.from,
            to: opts.to,
        });
    }
    let started_at = crate::clock::now();
    let instances = billed_instances(conn, opts.from, opts.to)?;
    if instances.is_empty() {
        return Err(UtilisationPullError::NoInstances {
            from: opts.from,
            to: opts.to,
        });
    }
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UtilisationPullError::Answer(e.to_string()))
        .and_then(|runtime| runtime.block_on(fetch(opts, &instances, progress)))
        .and_then(|f| store(conn, opts, &f, started_at).map_err(UtilisationPullError::Store));
    if let Err(e) = &outcome {
        record_failure(conn, opts, started_at, &e.to_string());
    }
    outcome
}

/// Records a failed pull so the Data sources page shows it.
pub fn record_failure(
    conn: &mut DbConnection,
    opts: &UtilisationPullOptions,
    started_at: NaiveDateTime,
    error: &str,
) {
    super::record_failed_pull(
        conn,
        SOURCE,
        opts.endpoint_url.as_deref().unwrap_or("AWS CloudWatch"),
        (opts.from, opts.to),
        started_at,
        error,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_come_from_cur_ids_and_focus_arns() {
        assert_eq!(
            instance_id("i-0abc12345def67890"),
            Some("i-0abc12345def67890")
        );
        assert_eq!(
            instance_id("arn:aws:ec2:eu-west-1:111122223333:instance/i-0123abcd"),
            Some("i-0123abcd")
        );
        assert_eq!(instance_id("vol-0abc12345"), None);
        assert_eq!(instance_id("i-xyz"), None);
        assert_eq!(instance_id("res-us-east-1"), None);
    }

    #[test]
    fn six_labelled_queries_per_instance() {
        let q = queries(&[BilledInstance {
            id: "i-0123abcd".into(),
            instance_type: "c6i.large".into(),
            region: "eu-west-1".into(),
            platform: "PC".into(),
        }]);
        assert_eq!(q.len(), 6);
        assert_eq!(q[0].id(), Some("q0_0"));
        assert_eq!(
            q[4].label(),
            Some("instance_id=i-0123abcd instance_type=c6i.large region=eu-west-1 platform=PC metric=mem_used_percent stat=Average")
        );
        let stat = q[4].metric_stat().unwrap();
        assert_eq!(stat.period(), Some(3600));
        assert_eq!(stat.metric().unwrap().namespace(), Some("CWAgent"));
    }
}
