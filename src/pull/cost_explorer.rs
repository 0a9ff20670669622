//! Pulling daily cost from the AWS Cost Explorer API (GetCostAndUsage).
//!
//! Cost Explorer groups by at most two keys. finops asks:
//! 1. once for the platform tag × REGION (this finds the regions and gives
//!    the totals the service split is checked against), then
//! 2. once per region found, filtered to that region, for the platform tag
//!    × SERVICE.
//!
//! So a pull costs 1 + (number of regions) requests, plus one per extra
//! page (`NextPageToken`); `--no-services` stops after the first and
//! stores cost per region without the service split. Each request is
//! billed by AWS (USD 0.01 at the time of writing); every pull reports how
//! many it made. Throttling (`LimitExceededException`) and 5xx answers are
//! retried with exponential backoff by the SDK's standard retry mode.
//!
//! Metrics: UnblendedCost (billed), AmortizedCost (effective),
//! UsageQuantity. Days Cost Explorer marks `Estimated` are stored as
//! estimated and replaced by the next pull that covers them (a pull
//! replaces the days it covers).

use std::collections::{BTreeMap, BTreeSet};

use aws_config::Region;
use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition,
    GroupDefinitionType, ResultByTime,
};
use chrono::NaiveDate;

use crate::ingest::billing::{ResourceDay, GLOBAL_REGION};
use crate::money::{parse_scaled, Micros};
use crate::usage_class::UsageClass;

pub const SOURCE: &str = crate::runs::Source::CostExplorer.as_str();

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("--from {from} must be before --to {to} (the end is exclusive)")]
    Range { from: NaiveDate, to: NaiveDate },
    #[error("Cost Explorer request {request} failed: {message}")]
    Request { request: usize, message: String },
    #[error("Cost Explorer answered something finops cannot read: {0}")]
    Answer(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Rules(#[from] crate::ingest::rules::RulesError),
}

impl From<diesel::result::Error> for PullError {
    fn from(e: diesel::result::Error) -> PullError {
        PullError::Db(crate::db::DbError::Query(e))
    }
}

/// What to pull and from where.
#[derive(Clone, Debug, PartialEq)]
pub struct PullOptions {
    /// First day (inclusive).
    pub from: NaiveDate,
    /// Day after the last (exclusive), as Cost Explorer takes it.
    pub to: NaiveDate,
    /// Another endpoint than AWS's (an emulator, a proxy).
    pub endpoint_url: Option<String>,
    /// The cost-allocation tag that names the platform.
    pub tag_key: String,
    /// Label stored as the billing account of the pulled rows.
    pub billing_account: String,
    /// Split each region by service (1 + regions requests) or not (1).
    pub services: bool,
    /// Attempts per request, throttling and 5xx included.
    pub max_attempts: u32,
    /// Fixed credentials (access key id, secret) instead of the standard
    /// AWS chain: for an emulator.
    pub static_credentials: Option<(String, String)>,
}

impl PullOptions {
    pub fn new(from: NaiveDate, to: NaiveDate) -> PullOptions {
        PullOptions {
            from,
            to,
            endpoint_url: None,
            tag_key: "platform".to_string(),
            billing_account: "aws".to_string(),
            services: true,
            max_attempts: 6,
            static_credentials: None,
        }
    }
}

/// What a pull fetched, before it is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub rows: Vec<ResourceDay>,
    pub estimated_days: BTreeSet<NaiveDate>,
    pub requests: usize,
    /// Differences between the region totals and the sum of their services
    /// (Cost Explorer data moving between requests), for the log.
    pub warnings: Vec<String>,
}

pub(crate) async fn client(opts: &PullOptions) -> aws_sdk_costexplorer::Client {
    // Cost Explorer's endpoint lives in us-east-1 whatever the data's regions.
    let loader = super::aws::loader(
        opts.endpoint_url.as_deref(),
        opts.static_credentials.as_ref(),
        opts.max_attempts,
    )
    .region(Region::new("us-east-1"));
    let config = loader.load().await;
    aws_sdk_costexplorer::Client::new(&config)
}

/// One group of one day as Cost Explorer answered it.
struct Cell {
    day: NaiveDate,
    estimated: bool,
    tag: String,
    key: String,
    billed: i128,
    effective: i128,
    quantity: f64,
    currency: String,
}

fn amount(
    metrics: &std::collections::HashMap<String, aws_sdk_costexplorer::types::MetricValue>,
    name: &str,
) -> Result<(i128, String), PullError> {
    match metrics.get(name) {
        None => Ok((0, String::new())),
        Some(m) => {
            let text = m.amount().unwrap_or("0");
            let v = parse_scaled(text, 12).ok_or_else(|| {
                PullError::Answer(format!("{name} amount '{text}' is not a number"))
            })?;
            Ok((v, m.unit().unwrap_or("").to_string()))
        }
    }
}

fn cells(results: &[ResultByTime]) -> Result<Vec<Cell>, PullError> {
    let mut out = Vec::new();
    for r in results {
        let start = r
            .time_period()
            .map(|p| p.start())
            .ok_or_else(|| PullError::Answer("a result without a time period".into()))?;
        let day = NaiveDate::parse_from_str(start, "%Y-%m-%d")
            .map_err(|_| PullError::Answer(format!("day '{start}' is not a date")))?;
        for g in r.groups() {
            let keys = g.keys();
            let tag = keys.first().cloned().unwrap_or_default();
            let key = keys.get(1).cloned().unwrap_or_default();
            let Some(metrics) = g.metrics() else { continue };
            let (billed, unit) = amount(metrics, "UnblendedCost")?;
            let (effective, unit2) = amount(metrics, "AmortizedCost")?;
            let quantity = metrics
                .get("UsageQuantity")
                .and_then(|m| m.amount())
                .and_then(|a| a.parse::<f64>().ok())
                .unwrap_or(0.0);
            let currency = if unit.is_empty() { unit2 } else { unit };
            out.push(Cell {
                day,
                estimated: r.estimated(),
                tag,
                key,
                billed,
                effective,
                quantity,
                currency: if currency.is_empty() {
                    "USD".to_string()
                } else {
                    currency
                },
            });
        }
    }
    Ok(out)
}

/// `platform$PC` → `PC`; `platform$` (untagged) → empty.
fn tag_value(group_key: &str) -> String {
    group_key
        .split_once('$')
        .map(|(_, v)| v)
        .unwrap_or(group_key)
        .to_string()
}

fn region_name(key: &str) -> String {
    match key {
        "" | "NoRegion" | "global" => GLOBAL_REGION.to_string(),
        other => other.to_string(),
    }
}

/// All pages of one query.
async fn query(
    client: &aws_sdk_costexplorer::Client,
    opts: &PullOptions,
    second: Dimension,
    region: Option<&str>,
    requests: &mut usize,
) -> Result<Vec<ResultByTime>, PullError> {
    let period = DateInterval::builder()
        .start(opts.from.to_string())
        .end(opts.to.to_string())
        .build()
        .map_err(|e| PullError::Answer(e.to_string()))?;
    let mut token: Option<String> = None;
    let mut results = Vec::new();
    loop {
        let mut request = client
            .get_cost_and_usage()
            .time_period(period.clone())
            .granularity(Granularity::Daily)
            .metrics("UnblendedCost")
            .metrics("AmortizedCost")
            .metrics("UsageQuantity")
            .group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Tag)
                    .key(&opts.tag_key)
                    .build(),
            )
            .group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key(second.as_str())
                    .build(),
            );
        if let Some(r) = region {
            request = request.filter(
                Expression::builder()
                    .dimensions(
                        DimensionValues::builder()
                            .key(Dimension::Region)
                            .values(r)
                            .build(),
                    )
                    .build(),
            );
        }
        if let Some(t) = &token {
            request = request.next_page_token(t);
        }
        *requests += 1;
        let n = *requests;
        tracing::debug!(
            request = n,
            region = region.unwrap_or("all"),
            "GetCostAndUsage"
        );
        let sent = request.send().await;
        crate::metrics::cost_explorer_request("GetCostAndUsage", sent.is_err());
        let output = sent.map_err(|e| PullError::Request {
            request: n,
            message: aws_sdk_costexplorer::error::DisplayErrorContext(&e).to_string(),
        })?;
        results.extend(output.results_by_time().iter().cloned());
        token = output
            .next_page_token()
            .map(str::to_string)
            .filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(results);
        }
    }
}

/// Fetches `[from, to)`; no database needed.
pub async fn fetch(opts: &PullOptions) -> Result<Fetched, PullError> {
    if opts.from >= opts.to {
        return Err(PullError::Range {
            from: opts.from,
            to: opts.to,
        });
    }
    let client = client(opts).await;
    let mut requests = 0;
    let by_region = cells(&query(&client, opts, Dimension::Region, None, &mut requests).await?)?;
    let mut estimated_days: BTreeSet<NaiveDate> = BTreeSet::new();
    let mut region_totals: BTreeMap<(NaiveDate, String, String), (i128, i128)> = BTreeMap::new();
    let mut regions: BTreeSet<String> = BTreeSet::new();
    for c in &by_region {
        if c.estimated {
            estimated_days.insert(c.day);
        }
        regions.insert(c.key.clone());
        let e = region_totals
            .entry((c.day, region_name(&c.key), tag_value(&c.tag)))
            .or_default();
        e.0 += c.billed;
        e.1 += c.effective;
    }
    // (day, region, tag, service) → cell
    let mut detail: Vec<(String, Cell)> = Vec::new();
    let mut warnings = Vec::new();
    if opts.services {
        for region in &regions {
            let part = cells(
                &query(
                    &client,
                    opts,
                    Dimension::Service,
                    Some(region),
                    &mut requests,
                )
                .await?,
            )?;
            let mut sums: BTreeMap<(NaiveDate, String), (i128, i128)> = BTreeMap::new();
            for c in &part {
                let e = sums.entry((c.day, tag_value(&c.tag))).or_default();
                e.0 += c.billed;
                e.1 += c.effective;
            }
            for ((day, tag), (billed, _)) in &sums {
                let expected = region_totals
                    .get(&(*day, region_name(region), tag.clone()))
                    .map(|t| t.0)
                    .unwrap_or(0);
                if expected != *billed {
                    warnings.push(format!(
                        "{day} {region} {tag}: services sum to {} but the region total is {}",
                        Micros::from_scaled(*billed, 12)
                            .unwrap_or_default()
                            .to_decimal(6),
                        Micros::from_scaled(expected, 12)
                            .unwrap_or_default()
                            .to_decimal(6)
                    ));
                }
            }
            detail.extend(part.into_iter().map(|c| (region.clone(), c)));
        }
    } else {
        detail.extend(by_region.into_iter().map(|c| {
            let region = c.key.clone();
            (
                region,
                Cell {
                    key: "(all services)".to_string(),
                    ..c
                },
            )
        }));
    }
    let mut rows = Vec::with_capacity(detail.len());
    for (region, c) in detail {
        let tag = tag_value(&c.tag);
        let tags = if tag.is_empty() {
            String::new()
        } else {
            serde_json::json!({ opts.tag_key.clone(): tag }).to_string()
        };
        let usage_class = ce_usage_class(&c.key);
        rows.push(ResourceDay {
            day: c.day,
            billing_period: c.day.format("%Y-%m").to_string(),
            billing_account: opts.billing_account.clone(),
            provider: "AWS".to_string(),
            account_id: opts.billing_account.clone(),
            region: region_name(&region),
            service: if c.key.is_empty() {
                "(none)".to_string()
            } else {
                c.key
            },
            charge_category: "Usage".to_string(),
            currency: c.currency,
            resource: String::new(),
            tags,
            billed: Micros::from_scaled(c.billed, 12)
                .ok_or_else(|| PullError::Answer("an amount is too large".into()))?,
            effective: Micros::from_scaled(c.effective, 12)
                .ok_or_else(|| PullError::Answer("an amount is too large".into()))?,
            list: None,
            usage_quantity: Some(c.quantity),
            usage_unit: None,
            usage_class,
            instance_type: String::new(),
            commitment_id: String::new(),
            commitment_type: String::new(),
            commitment_status: String::new(),
            commitment_end: String::new(),
        });
    }
    Ok(Fetched {
        rows,
        estimated_days,
        requests,
        warnings,
    })
}

/// Cost Explorer's service dimension already parts EC2: instance usage is
/// "Amazon Elastic Compute Cloud - Compute", EBS, NAT and snapshots are
/// "EC2 - Other". Grouped by service, Fargate and Lambda compute cannot be
/// told from their requests and storage, so only EC2 compute is
/// classified (it includes any Spot usage).
fn ce_usage_class(service: &str) -> UsageClass {
    if service == "Amazon Elastic Compute Cloud - Compute" {
        UsageClass::ComputeInstance
    } else {
        UsageClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tag_group_keys_and_regions() {
        assert_eq!(tag_value("platform$PC"), "PC");
        assert_eq!(tag_value("platform$"), "");
        assert_eq!(region_name("NoRegion"), "global");
        assert_eq!(region_name("eu-west-1"), "eu-west-1");
    }
}
