//! Utilisation from a CloudWatch `GetMetricData` answer saved as JSON
//! (`aws cloudwatch get-metric-data … --output json > cpu.json`).
//!
//! GetMetricData returns series without the instance's type, region or
//! platform, so each query's `Label` carries them as `key=value` words:
//!
//! ```text
//! instance_id=i-0a1b2c3d instance_type=c6i.2xlarge region=eu-west-1 platform=PC metric=CPUUtilization stat=Average
//! ```
//!
//! Metrics read: `CPUUtilization` (Average → cpu_avg, Maximum → cpu_max,
//! p95, p99), the CloudWatch agent's `mem_used_percent` (Average, Maximum)
//! and `NetworkIn` / `NetworkOut` (Sum, added into network_bytes). Series
//! of one instance are joined on their timestamps; a timestamp needs the
//! CPU average and maximum.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, Timelike};
use serde::Deserialize;

use super::errors::{ImportError, Problems, RowProblem};
use crate::db::utilisation::NewUtilisation;
use crate::dims::{Platform, UNALLOCATED};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    metric_data_results: Vec<Series>,
}

/// One series of a GetMetricData answer: its query's id and label, and
/// its points.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Series {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub timestamps: Vec<String>,
    #[serde(default)]
    pub values: Vec<f64>,
}

#[derive(Default)]
struct Point {
    cpu_avg: Option<f64>,
    cpu_max: Option<f64>,
    cpu_p95: Option<f64>,
    cpu_p99: Option<f64>,
    mem_avg: Option<f64>,
    mem_max: Option<f64>,
    network: Option<f64>,
}

struct Instance {
    instance_type: String,
    region: String,
    platform: String,
}

/// Whether `bytes` (the start of a file) is a JSON object.
pub fn looks_like(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn problem(index: usize, series: &Series, reason: String) -> RowProblem {
    RowProblem {
        // The n-th result (1-based) stands in for the line.
        line: index as u64 + 1,
        column: format!("MetricDataResults[{index}] {}", series.id),
        value: series.label.clone(),
        reason,
    }
}

/// Reads a GetMetricData answer into utilisation rows.
pub fn read(label: &str, text: &str) -> Result<Vec<NewUtilisation>, ImportError> {
    let answer: Answer = serde_json::from_str(text).map_err(|e| ImportError::Format {
        file: label.to_string(),
        message: format!(
            "not a CloudWatch GetMetricData answer (line {}, column {}: {e})",
            e.line(),
            e.column()
        ),
    })?;
    join(label, &answer.metric_data_results, true)
}

/// Joins the series of each instance on their timestamps into utilisation
/// rows (labels as the module describes). `strict`: an hour without both
/// CPU statistics, or no rows at all, is an error (a file); otherwise such
/// hours are left out (a pull: an instance stopped within the hour).
pub fn join(
    label: &str,
    results: &[Series],
    strict: bool,
) -> Result<Vec<NewUtilisation>, ImportError> {
    let mut problems = Problems::new(label);
    let mut instances: HashMap<String, Instance> = HashMap::new();
    let mut points: BTreeMap<(String, NaiveDateTime), Point> = BTreeMap::new();
    for (index, series) in results.iter().enumerate() {
        let words: HashMap<&str, &str> = series
            .label
            .split_whitespace()
            .filter_map(|w| w.split_once('='))
            .collect();
        let get = |k: &str| words.get(k).map(|v| v.to_string());
        let mut fail = |reason: String| problems.bad_row([problem(index, series, reason)]);
        let (Some(id), Some(instance_type), Some(region), Some(metric), Some(stat)) = (
            get("instance_id"),
            get("instance_type"),
            get("region"),
            get("metric"),
            get("stat"),
        ) else {
            fail("the Label must give instance_id=, instance_type=, region=, metric= and stat= (see the README)".to_string());
            continue;
        };
        let platform = match get("platform") {
            None => UNALLOCATED.to_string(),
            Some(p) => match p.parse::<Platform>() {
                Ok(p) => p.as_str().to_string(),
                Err(e) => {
                    fail(e.to_string());
                    continue;
                }
            },
        };
        if series.timestamps.len() != series.values.len() {
            fail(format!(
                "has {} timestamps but {} values",
                series.timestamps.len(),
                series.values.len()
            ));
            continue;
        }
        let slot: fn(&mut Point) -> &mut Option<f64> = match (metric.as_str(), stat.as_str()) {
            ("CPUUtilization", "Average") => |p| &mut p.cpu_avg,
            ("CPUUtilization", "Maximum") => |p| &mut p.cpu_max,
            ("CPUUtilization", "p95") => |p| &mut p.cpu_p95,
            ("CPUUtilization", "p99") => |p| &mut p.cpu_p99,
            ("mem_used_percent", "Average") => |p| &mut p.mem_avg,
            ("mem_used_percent", "Maximum") => |p| &mut p.mem_max,
            ("NetworkIn" | "NetworkOut", "Sum") => |p| &mut p.network,
            _ => {
                fail(format!(
                    "metric {metric} with stat {stat} is not one finops reads"
                ));
                continue;
            }
        };
        let additive = metric.starts_with("Network");
        for (ts, value) in series.timestamps.iter().zip(&series.values) {
            let Some(t) = super::billing::parse_timestamp(ts)
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .map(|t| t.naive_utc())
            else {
                fail(format!("timestamp '{ts}' is not a date and time"));
                break;
            };
            let percent = !additive;
            if !value.is_finite() || *value < 0.0 || (percent && *value > 100.0) {
                fail(format!("value {value} at {ts} is out of range"));
                break;
            }
            let entry = slot(points.entry((id.clone(), t)).or_default());
            *entry = Some(if additive {
                entry.unwrap_or(0.0) + value
            } else {
                *value
            });
        }
        instances.entry(id).or_insert(Instance {
            instance_type,
            region,
            platform,
        });
    }
    let daily = points.keys().all(|(_, t)| t.hour() == 0 && t.minute() == 0);
    let granularity = if daily { "day" } else { "hour" };
    let mut out = Vec::with_capacity(points.len());
    for ((id, t), p) in points {
        let (Some(cpu_avg), Some(cpu_max)) = (p.cpu_avg, p.cpu_max) else {
            if !strict {
                continue;
            }
            problems.bad_row([RowProblem {
                line: 0,
                column: format!("instance {id}"),
                value: t.to_string(),
                reason: "has no CPUUtilization Average and Maximum at this time".to_string(),
            }]);
            continue;
        };
        let Some(i) = instances.get(&id) else {
            continue;
        };
        out.push(NewUtilisation {
            period_start: t,
            granularity: granularity.to_string(),
            resource_id: id.clone(),
            resource_kind: "instance".to_string(),
            instance_type: i.instance_type.clone(),
            region: i.region.clone(),
            platform: i.platform.clone(),
            running_hours: if daily { 24.0 } else { 1.0 },
            cpu_avg,
            cpu_p95: p.cpu_p95,
            cpu_p99: p.cpu_p99,
            cpu_max,
            mem_avg: p.mem_avg,
            mem_max: p.mem_max,
            network_bytes: p.network,
            source: super::utilisation::SOURCE.to_string(),
            ingest_run_id: None,
        });
    }
    problems.finish()?;
    if out.is_empty() && strict {
        return Err(ImportError::NoRows {
            file: label.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, values: &[f64]) -> serde_json::Value {
        let times = &["2026-03-02T14:00:00+00:00", "2026-03-02T15:00:00+00:00"][..values.len()];
        serde_json::json!({
            "Id": "q",
            "Label": label,
            "Timestamps": times,
            "Values": values,
            "StatusCode": "Complete"
        })
    }

    #[test]
    fn joins_series_of_one_instance_on_their_timestamps() {
        let base = "instance_id=i-1 instance_type=c6i.large region=eu-west-1 platform=ps5";
        let answer = serde_json::json!({ "MetricDataResults": [
            series(&format!("{base} metric=CPUUtilization stat=Average"), &[40.0, 20.0]),
            series(&format!("{base} metric=CPUUtilization stat=Maximum"), &[80.0, 50.0]),
            series(&format!("{base} metric=NetworkIn stat=Sum"), &[100.0, 5.0]),
            series(&format!("{base} metric=NetworkOut stat=Sum"), &[50.0, 5.0]),
        ], "Messages": [] });
        let rows = read("cw.json", &answer.to_string()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].platform, "PlayStation");
        assert_eq!(
            (rows[0].cpu_avg, rows[0].cpu_max, rows[0].network_bytes),
            (40.0, 80.0, Some(150.0))
        );
        assert_eq!(rows[0].granularity, "hour");
    }

    #[test]
    fn names_the_series_that_cannot_be_read() {
        let answer = serde_json::json!({ "MetricDataResults": [
            series("i-1 CPUUtilization Average", &[40.0]),
            series("instance_id=i-2 instance_type=t3.micro region=us-east-1 metric=CPUUtilization stat=Average", &[140.0]),
        ] });
        let e = read("cw.json", &answer.to_string()).unwrap_err();
        let lines = e.details();
        assert!(
            lines[0].contains("MetricDataResults[0]") && lines[0].contains("the Label must give"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("value 140 at") && lines[1].contains("out of range"),
            "{lines:?}"
        );
        assert!(read("cw.json", "{\"nope\": 1}").is_err());
    }
}
