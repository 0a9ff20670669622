//! Process metrics in the Prometheus text format (`GET /metrics`): request
//! latency by route, imports and their rows, Cost Explorer requests and
//! failures, forecast runs. Kept in memory from the process start; no
//! external crate.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};

/// Upper bounds of the latency buckets, seconds.
pub const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Label names and values, in order.
type Labels = Vec<(&'static str, String)>;

#[derive(Clone, Debug, Default)]
struct Histogram {
    /// Observations per bucket (not cumulative); the last is +Inf.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, value: f64) {
        let i = BUCKETS
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum += value.max(0.0);
        self.count += 1;
    }
}

/// A metric family's name, type and help text.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
}

const FAMILIES: [Family; 7] = [
    Family {
        name: "finops_http_request_duration_seconds",
        kind: "histogram",
        help: "Time to answer a request, by route pattern, method and status class.",
    },
    Family {
        name: "finops_imports_total",
        kind: "counter",
        help: "Imports and pulls recorded, by source and status (ok or failed).",
    },
    Family {
        name: "finops_import_rows_total",
        kind: "counter",
        help: "Rows kept by successful imports and pulls, by source.",
    },
    Family {
        name: "finops_cost_explorer_requests_total",
        kind: "counter",
        help: "Requests made to the AWS Cost Explorer API, by operation.",
    },
    Family {
        name: "finops_cost_explorer_failures_total",
        kind: "counter",
        help: "Cost Explorer requests that failed after their retries, by operation.",
    },
    Family {
        name: "finops_forecast_runs_total",
        kind: "counter",
        help:
            "Forecasts made (every platform and region series of a metric, reconciled), by metric.",
    },
    Family {
        name: "finops_forecast_duration_seconds",
        kind: "histogram",
        help: "Time to make a metric's reconciled forecast, by metric.",
    },
];

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Registry::default()))
}

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> Option<T> {
    registry().lock().ok().map(|mut r| f(&mut r))
}

/// Adds `n` to a counter.
pub fn count(name: &'static str, labels: Labels, n: u64) {
    with(|r| *r.counters.entry((name, labels)).or_insert(0) += n);
}

/// Records an observation in a histogram.
pub fn observe(name: &'static str, labels: Labels, seconds: f64) {
    with(|r| {
        r.histograms
            .entry((name, labels))
            .or_default()
            .observe(seconds)
    });
}

/// A request answered: its route pattern (`/month`, `/static/{name}`, or
/// `unmatched`), method, status and time.
pub fn request(route: &str, method: &str, status: u16, seconds: f64) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    observe(
        "finops_http_request_duration_seconds",
        vec![
            ("route", route.to_string()),
            ("method", method.to_string()),
            ("status", class.to_string()),
        ],
        seconds,
    );
}

/// An import or pull recorded in `ingest_runs`.
pub fn import(source: &str, status: &str, rows_kept: i64) {
    count(
        "finops_imports_total",
        vec![
            ("source", source.to_string()),
            ("status", status.to_string()),
        ],
        1,
    );
    if status == crate::runs::Status::Ok.as_str() {
        count(
            "finops_import_rows_total",
            vec![("source", source.to_string())],
            rows_kept.max(0) as u64,
        );
    }
}

/// A Cost Explorer request made, and whether it failed.
pub fn cost_explorer_request(operation: &str, failed: bool) {
    let labels = vec![("operation", operation.to_string())];
    count("finops_cost_explorer_requests_total", labels.clone(), 1);
    if failed {
        count("finops_cost_explorer_failures_total", labels, 1);
    }
}

/// A metric's forecast made.
pub fn forecast(metric: &str, seconds: f64) {
    let labels = vec![("metric", metric.to_string())];
    count("finops_forecast_runs_total", labels.clone(), 1);
    observe("finops_forecast_duration_seconds", labels, seconds);
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(labels: &Labels, extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "NaN".to_string()
    }
}

/// Every metric in the Prometheus text exposition format (version 0.0.4).
pub fn render() -> String {
    let (counters, histograms) =
        with(|r| (r.counters.clone(), r.histograms.clone())).unwrap_or_default();
    let mut out = String::new();
    for family in FAMILIES {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        for ((name, labels), value) in counters.iter().filter(|((n, _), _)| *n == family.name) {
            let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
        }
        for ((name, labels), h) in histograms.iter().filter(|((n, _), _)| *n == family.name) {
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {cumulative}",
                    label_text(labels, Some(("le", number(*bound))))
                );
            }
            cumulative += h.counts[BUCKETS.len()];
            let _ = writeln!(
                out,
                "{name}_bucket{} {cumulative}",
                label_text(labels, Some(("le", "+Inf".to_string())))
            );
            let _ = writeln!(
                out,
                "{name}_sum{} {}",
                label_text(labels, None),
                number(h.sum)
            );
            let _ = writeln!(out, "{name}_count{} {}", label_text(labels, None), h.count);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let route = "/unit-test/\"quoted\"";
        request(route, "GET", 200, 0.003);
        request(route, "GET", 200, 0.3);
        request(route, "GET", 200, 99.0);
        let text = render();
        let line = |le: &str| {
            let needle = format!(
                "finops_http_request_duration_seconds_bucket{{route=\"/unit-test/\\\"quoted\\\"\",method=\"GET\",status=\"2xx\",le=\"{le}\"}} "
            );
            text.lines()
                .find(|l| l.starts_with(&needle))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{needle} in\n{text}"))
        };
        assert_eq!(line("0.005"), 1);
        assert_eq!(line("0.25"), 1);
        assert_eq!(line("0.5"), 2);
        assert_eq!(line("30"), 2);
        assert_eq!(line("+Inf"), 3);
        assert!(text.contains("# TYPE finops_http_request_duration_seconds histogram"));
    }

    #[test]
    fn imports_count_rows_only_when_they_succeed() {
        import("unit-test-source", "ok", 120);
        import("unit-test-source", "failed", 0);
        let text = render();
        assert!(text.contains("finops_import_rows_total{source=\"unit-test-source\"} 120"));
        assert!(
            text.contains("finops_imports_total{source=\"unit-test-source\",status=\"failed\"} 1")
        );
    }
}
