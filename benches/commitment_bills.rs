//! Benchmark, not a test: commitment advice on generated bills shaped like
//! real AWS ones, through the real CLI path.
//!
//! For each usage shape (flat, steady growth, launch-heavy with and
//! without the calendar, declining) and seed, it writes 15 months of CUR
//! 2.0 files: daily EC2 instance-hour lines (two types, two regions, three
//! platforms by tag) and, under the same "Amazon Elastic Compute Cloud"
//! service, the lines a Savings Plan does not cover: EBS volumes,
//! snapshots, data transfer, NAT gateway hours and some Spot hours. Then
//! `finops ingest cur`, `finops ingest calendar` and `finops recommend
//! commitments --kind compute_savings_plan --term 1 --payment no --format
//! json`, and it scores the recommended hourly commitment on the hidden
//! year of true instance-hour spend against a 30-day lookback (the named
//! baseline) and hindsight, at the recommendation's own rate ratio.
//!
//! Run: `cargo bench --profile dev --bench commitment_bills` (uses the
//! test build cache and its `finops` binary). `BENCH_DEBUG=1` prints each
//! seed's commitment, lookback and hindsight with the recommendation's
//! reasons.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use chrono::{Datelike, Duration, NaiveDate};

use finops::recommend::commitment::{optimal_commitment, savings, UsageForecast};

#[path = "support/bill_shapes.rs"]
mod bill_shapes;
use bill_shapes::{shapes, Shape};

const SEEDS: u64 = 3;

/// Instance types and their share of instance spend.
const TYPES: [(&str, f64); 2] = [("c6i.4xlarge", 0.7), ("m6i.2xlarge", 0.3)];

/// Regions and their share.
const REGIONS: [(&str, &str, f64); 2] = [("us-east-1", "USE1", 0.6), ("eu-west-1", "EU", 0.4)];

/// Platforms (tag values) and their share.
const PLATFORMS: [(&str, f64); 3] = [("PC", 0.5), ("PlayStation", 0.3), ("Android", 0.2)];

const HEADER: &str = "bill_payer_account_id,bill_billing_period_start_date,bill_billing_period_end_date,line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,product_product_name,line_item_usage_type,line_item_line_item_description,line_item_resource_id,line_item_usage_amount,pricing_unit,line_item_unblended_cost,pricing_public_on_demand_cost,line_item_currency_code,product_region_code,resource_tags";

/// One CUR line of a day.
struct Line<'a> {
    usage_type: String,
    description: String,
    resource: String,
    amount: f64,
    unit: &'a str,
    cost: f64,
}

/// The on-demand hourly price of a type in a region (built-in catalog).
fn on_demand(catalog: &finops::pricing::PriceCatalog, itype: &str, region: &str) -> f64 {
    catalog
        .prices("ec2", itype, region)
        .map(|p| p.on_demand.as_units_f64())
        .expect("the built-in catalog prices the bench's types")
}

/// The lines of one day whose true instance spend is `instances` (USD).
fn day_lines<'a>(
    catalog: &finops::pricing::PriceCatalog,
    instances: f64,
    day_index: i64,
) -> Vec<(String, String, Line<'a>)> {
    let mut out = Vec::new();
    for (region, prefix, region_share) in REGIONS {
        for (platform, platform_share) in PLATFORMS {
            let share = region_share * platform_share;
            let spend = instances * share;
            for (itype, type_share) in TYPES {
                let price = on_demand(catalog, itype, region);
                let cost = spend * type_share;
                out.push((
                    region.to_string(),
                    platform.to_string(),
                    Line {
                        usage_type: format!("{prefix}-BoxUsage:{itype}"),
                        description: format!("${price} per On Demand Linux {itype} Instance Hour"),
                        resource: format!("fleet-{region}-{platform}-{itype}"),
                        amount: cost / price,
                        unit: "Hrs",
                        cost,
                    },
                ));
            }
            // What AWS bills under EC2 beside the instance hours: storage
            // that grows with the fleet but lags it, transfer that follows
            // the players, NAT gateways that do not move, and Spot.
            let smooth = 1.0 + 0.02 * ((day_index as f64) / 30.0).sin();
            let extra = [
                (
                    format!("{prefix}-EBS:VolumeUsage.gp3"),
                    "$0.08 per GB-month of General Purpose (gp3) provisioned storage",
                    "vol",
                    0.12 * spend.powf(0.8) * 3.0 * smooth,
                    0.08 / 30.0,
                    "GB-Mo",
                ),
                (
                    format!("{prefix}-EBS:SnapshotUsage"),
                    "$0.05 per GB-Month of snapshot data stored",
                    "snap",
                    0.03 * spend.powf(0.8) * 3.0,
                    0.05 / 30.0,
                    "GB-Mo",
                ),
                (
                    format!("{prefix}-DataTransfer-Out-Bytes"),
                    "$0.09 per GB - first 10 TB / month data transfer out",
                    "",
                    0.08 * spend,
                    0.09,
                    "GB",
                ),
                (
                    format!("{prefix}-NatGateway-Hours"),
                    "$0.045 per NAT Gateway Hour",
                    "nat",
                    0.02 * instances.min(20_000.0) * share,
                    0.045,
                    "Hrs",
                ),
                (
                    format!("{prefix}-SpotUsage:c6i.4xlarge"),
                    "$0.27 per Linux/UNIX Spot Instance-hour c6i.4xlarge",
                    "spot",
                    0.05 * spend,
                    0.27,
                    "Hrs",
                ),
            ];
            for (usage_type, description, kind, cost, rate, unit) in extra {
                out.push((
                    region.to_string(),
                    platform.to_string(),
                    Line {
                        usage_type,
                        description: description.to_string(),
                        resource: if kind.is_empty() {
                            String::new()
                        } else {
                            format!("{kind}-{region}-{platform}")
                        },
                        amount: cost / rate,
                        unit,
                        cost,
                    },
                ));
            }
        }
    }
    out
}

fn csv_text(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes the history as one CUR file per month; returns their paths.
fn write_bills(dir: &Path, shape: &Shape) -> Vec<String> {
    let catalog = finops::pricing::built_in();
    let history: Vec<&(NaiveDate, f64)> = shape
        .series
        .iter()
        .filter(|(d, _)| *d < shape.buy)
        .collect();
    let mut files: Vec<String> = Vec::new();
    let mut current: Option<(String, std::io::BufWriter<std::fs::File>)> = None;
    for (i, (day, spend)) in history.iter().enumerate() {
        let month = NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("month");
        let next = (month + Duration::days(32))
            .with_day(1)
            .expect("next month");
        let name = format!("cur-{}.csv", month.format("%Y-%m"));
        if current.as_ref().map(|(n, _)| n != &name).unwrap_or(true) {
            if let Some((_, mut w)) = current.take() {
                w.flush().expect("write");
            }
            let path = dir.join(&name);
            let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
            writeln!(w, "{HEADER}").expect("write");
            files.push(path.display().to_string());
            current = Some((name, w));
        }
        let Some((_, w)) = current.as_mut() else {
            continue;
        };
        for (region, platform, l) in day_lines(&catalog, *spend, i as i64) {
            writeln!(
                w,
                "111122223333,{}T00:00:00Z,{}T00:00:00Z,444455556666,Usage,{}T00:00:00Z,{}T00:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,{},{},{},{:.6},{},{:.10},{:.10},USD,{},{}",
                month,
                next,
                day,
                *day + Duration::days(1),
                l.usage_type,
                csv_text(&l.description),
                l.resource,
                l.amount,
                l.unit,
                l.cost,
                l.cost,
                region,
                csv_text(&format!("{{\"user_platform\":\"{platform}\"}}")),
            )
            .expect("write");
        }
    }
    if let Some((_, mut w)) = current.take() {
        w.flush().expect("write");
    }
    files
}

fn write_calendar(dir: &Path, shape: &Shape) -> Option<String> {
    if shape.events.is_empty() {
        return None;
    }
    let path = dir.join("launches.toml");
    let mut text = String::new();
    for e in &shape.events {
        text.push_str(&format!(
            "[[event]]\nname = \"{}\"\nkind = \"launch\"\nstart = {}\nend = {}\n\n",
            e.name, e.start, e.end
        ));
    }
    std::fs::write(&path, text).expect("calendar");
    Some(path.display().to_string())
}

fn finops(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_finops"))
        .arg("--database")
        .arg(db)
        .args(args)
        .output()
        .expect("run finops");
    assert!(
        out.status.success(),
        "finops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the recommendation stated and what the hidden year realised.
struct Scored {
    finops: f64,
    lookback: f64,
    hindsight: f64,
    stated_utilisation: f64,
    realised_utilisation: f64,
    below_p10: bool,
}

fn money(v: &serde_json::Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0.0)
}

fn run(shape: &Shape) -> Option<Scored> {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let files = write_bills(dir.path(), shape);
    let mut args = vec!["ingest", "cur"];
    args.extend(files.iter().map(String::as_str));
    finops(&db, &args);
    if let Some(cal) = write_calendar(dir.path(), shape) {
        finops(&db, &["ingest", "calendar", &cal]);
    }
    let json = finops(
        &db,
        &[
            "recommend",
            "commitments",
            "--kind",
            "compute_savings_plan",
            "--term",
            "1",
            "--payment",
            "no",
            "--format",
            "json",
        ],
    );
    let recs: serde_json::Value = serde_json::from_str(&json).expect("json");
    let rec = recs.as_array()?.first()?.clone();
    let commitment = money(&rec["hourly_commitment"]);
    let ratio = rec["rate_ratio"].as_f64().unwrap_or(0.72);
    let stated_utilisation = rec["expected_utilisation"].as_f64().unwrap_or(0.0);
    let p10_monthly = money(&rec["p10_monthly_savings"]);
    // The hidden year's true instance-hour spend, per hour of each day.
    let hourly =
        |days: &[(NaiveDate, f64)]| -> Vec<f64> { days.iter().map(|(_, v)| v / 24.0).collect() };
    let actual: Vec<(NaiveDate, f64)> = shape
        .series
        .iter()
        .filter(|(d, _)| *d >= shape.buy)
        .cloned()
        .collect();
    let history: Vec<(NaiveDate, f64)> = shape
        .series
        .iter()
        .filter(|(d, _)| *d < shape.buy)
        .cloned()
        .collect();
    let actual = hourly(&actual);
    let realised = |c: f64| 24.0 * savings(&actual, c, ratio);
    let lookback = optimal_commitment(
        &UsageForecast {
            paths: vec![hourly(&history[history.len() - 30..])],
        },
        ratio,
    );
    let best = optimal_commitment(
        &UsageForecast {
            paths: vec![actual.clone()],
        },
        ratio,
    );
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!(
            "{} commit {commitment:.1} lookback {lookback:.1} best {best:.1} why {} risk {}",
            shape.name, rec["why"], rec["risk"]
        );
    }
    let covered = commitment / ratio;
    let used: f64 = actual.iter().map(|u| u.min(covered)).sum();
    let months = actual.len() as f64 / 30.4375;
    Some(Scored {
        finops: realised(commitment),
        lookback: realised(lookback),
        hindsight: realised(best),
        stated_utilisation,
        realised_utilisation: if covered > 0.0 {
            used / (covered * actual.len() as f64)
        } else {
            0.0
        },
        below_p10: realised(commitment) / months < p10_monthly,
    })
}

fn main() {
    println!("Generated CUR bills (instance hours plus EBS, snapshots, transfer, NAT and Spot under EC2), through `finops ingest cur` → `finops recommend commitments`; a 1-year Compute Savings Plan, no upfront, scored on the hidden year; {SEEDS} seeds per shape");
    println!(
        "{:<28} {:>10} {:>11} {:>10} {:>11} {:>6}",
        "shape", "finops %", "lookback %", "stated U", "realised U", "<P10"
    );
    let names: Vec<&str> = shapes(1).iter().map(|s| s.name).collect();
    for name in names {
        let (mut a, mut b, mut c, mut su, mut ru, mut misses, mut n) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0, 0u32);
        for seed in 1..=SEEDS {
            let all = shapes(seed);
            let Some(shape) = all.iter().find(|s| s.name == name) else {
                continue;
            };
            let Some(s) = run(shape) else {
                println!("{name} seed {seed}: no recommendation");
                continue;
            };
            a += s.finops;
            b += s.lookback;
            c += s.hindsight;
            su += s.stated_utilisation;
            ru += s.realised_utilisation;
            misses += usize::from(s.below_p10);
            n += 1;
        }
        let k = f64::from(n.max(1));
        println!(
            "{:<28} {:>9.1}% {:>10.1}% {:>9.1}% {:>10.1}% {:>4}/{}",
            name,
            100.0 * a / c,
            100.0 * b / c,
            100.0 * su / k,
            100.0 * ru / k,
            misses,
            n
        );
    }
}
