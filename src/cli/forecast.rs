//! `finops forecast`: one series' forecast against the marketing calendar,
//! with its backtest figures, as a table, JSON or CSV.

use std::io::Write;

use crate::cli::{CliError, ForecastArgs, OutputFormat};
use crate::db::DbConnection;
use crate::dims;
use crate::forecast::hierarchy::NodeForecast;
use crate::forecast::model::ModelOptions;
use crate::forecast::run::{self, RunError};
use crate::forecast::scenario::parse_scenario;
use crate::forecast::series::{self, Metric, SeriesRequest};
use crate::forecast::{self, SeriesForecast};

/// Longest horizon: 18 months.
pub const MAX_HORIZON_DAYS: i64 = 548;

pub fn run(conn: &mut DbConnection, args: &ForecastArgs) -> Result<(), CliError> {
    let metric = Metric::parse(&args.metric).ok_or_else(|| {
        CliError::BadInput(format!(
            "--metric: '{}' is not a metric (use cost, ccu or capacity)",
            args.metric
        ))
    })?;
    if !(1..=MAX_HORIZON_DAYS).contains(&args.horizon_days) {
        return Err(CliError::BadInput(format!(
            "--horizon-days: {} is out of range 1..={MAX_HORIZON_DAYS} (18 months)",
            args.horizon_days
        )));
    }
    let platform = args
        .platform
        .as_deref()
        .map(dims::parse_platform_filter)
        .transpose()
        .map_err(|e| CliError::BadInput(format!("--platform: {e}")))?;
    let region = match &args.region {
        Some(r) if dims::region_name(r).is_none() => {
            return Err(CliError::BadInput(format!(
                "--region: unknown region '{r}' (use a cloud region code such as us-east-1)"
            )))
        }
        other => other.clone(),
    };
    let scenario = match &args.scenario {
        None => None,
        Some(path) => {
            let label = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::BadInput(format!("--scenario: {label}: {e}")))?;
            Some(
                parse_scenario(&label, &text)
                    .map_err(|e| CliError::BadInput(format!("--scenario: {e}")))?,
            )
        }
    };
    let req = SeriesRequest {
        metric,
        platform,
        region,
    };
    let mf = run::metric_forecast(
        conn,
        metric,
        args.horizon_days,
        scenario.as_ref(),
        !args.linear,
    )
    .map_err(|e| match e {
        RunError::Db(e) => CliError::Runtime(e.to_string()),
        other => CliError::BadInput(other.to_string()),
    })?;
    let h = &mf.hierarchy;
    let node = h
        .find(req.platform.as_deref(), req.region.as_deref())
        .ok_or_else(|| CliError::BadInput(format!("{}: no data", describe(&req))))?;
    if let Some(problem) = &node.problem {
        eprintln!("note: {}: {problem}", describe(&req));
    }
    let children = h.children(req.platform.as_deref(), req.region.as_deref());
    let events = series::events_for(&mf.events, &req);
    let text = match args.format {
        OutputFormat::Json => {
            let mut list = vec![series::node_json(metric, &h.unit, node)];
            list.extend(
                children
                    .iter()
                    .map(|c| series::node_json(metric, &h.unit, c)),
            );
            let value = serde_json::json!({
                "scenario": scenario.as_ref().map(|s| s.name.clone()),
                "reconciliation": "wls",
                "series": list,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            )
        }
        OutputFormat::Csv => {
            let mut out = String::from(
                "platform,region,date,period,mean,lower80,upper80,lower95,upper95\r\n",
            );
            for n in std::iter::once(node).chain(children.iter().copied()) {
                out.push_str(&csv_rows(
                    metric,
                    n.platform.as_deref().unwrap_or("all"),
                    n.region.as_deref().unwrap_or("all"),
                    &n.forecast,
                ));
            }
            out
        }
        OutputFormat::Table => {
            let mut out = String::new();
            if let Some(s) = &scenario {
                out.push_str(&format!("Scenario: {}\n", s.name));
                for c in &s.changes {
                    out.push_str(&format!("  - {}\n", c.describe()));
                }
                out.push('\n');
            }
            let title = format!("{} ({})", describe(&req), h.unit);
            out.push_str(&table(
                &title,
                req.metric,
                &node.history,
                &events,
                &node.forecast,
            ));
            if !children.is_empty() {
                out.push_str(&breakdown(metric, &children));
            }
            out
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Runtime(format!("standard output: {e}")))
}

/// The series one level down, which add up to the forecast above.
fn breakdown(metric: Metric, children: &[&NodeForecast]) -> String {
    let what = if metric == Metric::Ccu {
        "peak"
    } else {
        "total"
    };
    let mut out = format!(
        "\nBreakdown (reconciled: these add up to the forecast above, day by day)\n{:<16} {:<16} {:>14} {:>6} {:>9}  note\n",
        "platform", "region", what, "MASE", "naive"
    );
    for c in children {
        let v = if metric == Metric::Ccu {
            c.forecast.points.iter().map(|p| p.mean).fold(0.0, f64::max)
        } else {
            c.forecast.points.iter().map(|p| p.mean).sum()
        };
        let (mase, naive, flag) = match &c.forecast.backtest {
            Some(a) => (
                format!("{:.2}", a.mase),
                format!("{:.2}", a.baseline_mase),
                if a.worse_than_baseline() {
                    "WORSE THAN THE BASELINE".to_string()
                } else {
                    String::new()
                },
            ),
            None => ("-".to_string(), "-".to_string(), String::new()),
        };
        out.push_str(&format!(
            "{:<16} {:<16} {:>14.0} {:>6} {:>9}  {}\n",
            c.platform.as_deref().unwrap_or("all"),
            c.region.as_deref().unwrap_or("all"),
            v,
            mase,
            naive,
            c.problem.clone().unwrap_or(flag)
        ));
    }
    out
}

fn describe(req: &SeriesRequest) -> String {
    format!(
        "{} for {} in {}",
        req.metric.as_str(),
        req.platform.as_deref().unwrap_or("all platforms"),
        req.region.as_deref().unwrap_or("all regions")
    )
}

fn csv_rows(metric: Metric, platform: &str, region: &str, f: &SeriesForecast) -> String {
    let mut out = String::new();
    for p in series::reported_points(f, series::peak_metric(metric)) {
        out.push_str(&format!(
            "{platform},{region},{},{},{},{},{},{},{}\r\n",
            p.date,
            p.period,
            csv_number(p.mean),
            csv_number(p.lower80),
            csv_number(p.upper80),
            csv_number(p.lower95),
            csv_number(p.upper95)
        ));
    }
    out
}

/// A number for CSV: six significant decimals at most, no trailing zeros.
fn csv_number(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// Every step of a file's forecast, as CSV.
fn csv(f: &SeriesForecast) -> String {
    let mut out = String::from("date,period,mean,lower80,upper80,lower95,upper95\r\n");
    for p in &f.points {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            p.date,
            f.frequency.as_str(),
            csv_number(p.mean),
            csv_number(p.lower80),
            csv_number(p.upper80),
            csv_number(p.lower95),
            csv_number(p.upper95)
        ));
    }
    out
}

/// A value with the digits that matter: whole numbers from 1,000 up, then
/// more decimals the smaller it is (a log-scale value of 7.42 is not "7").
pub fn value_text(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.5}")
    }
}

fn table(
    title: &str,
    metric: Metric,
    history: &[(chrono::NaiveDate, f64)],
    events: &[crate::calendar::CalendarEvent],
    f: &SeriesForecast,
) -> String {
    let step = f.frequency.as_str();
    let mut out = format!(
        "Forecast of {title}, from {} {step}s of history to {}\n",
        history.len(),
        history.last().map(|h| h.0.to_string()).unwrap_or_default()
    );
    match &f.backtest {
        Some(a) => {
            out.push_str(&format!(
                "Method: {} ({}: {})\n",
                a.method.label(),
                if a.fell_back {
                    "a fallback; the least backtest error did worse than seasonal naive held out"
                } else {
                    "least backtest error of"
                },
                a.candidates
                    .iter()
                    .map(|c| format!("{} {:.2}", c.method.label(), c.mase))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            out.push_str(&format!(
                "Held-out backtest ({} windows of {}, not overlapping): MASE {:.2} (seasonal naive {:.2}){}, WAPE {:.1} %, 80 % band covered {:.0} %, 95 % covered {:.0} %\n",
                a.origins,
                a.reach_text(),
                a.mase,
                a.baseline_mase,
                if a.worse_than_baseline() { " WORSE THAN THE BASELINE" } else { "" },
                a.wape * 100.0,
                a.coverage80 * 100.0,
                a.coverage95 * 100.0
            ));
        }
        None => out.push_str(&format!(
            "Method: {}; the history is too short to measure accuracy (bands from the fit's residuals)\n",
            f.method.map(|m| m.label()).unwrap_or("none")
        )),
    }
    out.push_str(&format!(
        "Event effects learned from history: {}\n\n",
        if f.learned_kinds.is_empty() {
            "none".to_string()
        } else {
            f.learned_kinds.join(", ")
        }
    ));
    out.push_str(&format!(
        "{:<10} {:<5} {:>14} {:>29} {:>29}  events\n",
        "date", "per", "mean", "80 % band", "95 % band"
    ));
    let rows = if f.frequency == crate::forecast::Frequency::Day {
        series::reported_points(f, series::peak_metric(metric))
    } else {
        series::reported_points_each(f)
    };
    for p in rows {
        let end = if p.period == "month" {
            p.date
                .checked_add_months(chrono::Months::new(1))
                .map(|d| d - chrono::Duration::days(1))
                .unwrap_or(p.date)
        } else {
            p.date
        };
        let names: Vec<&str> = events
            .iter()
            .filter(|e| e.overlaps(p.date, end))
            .map(|e| e.name.as_str())
            .collect();
        out.push_str(&format!(
            "{:<10} {:<5} {:>14} {:>14} – {:<12} {:>14} – {:<12}  {}\n",
            p.date,
            p.period,
            value_text(p.mean),
            value_text(p.lower80),
            value_text(p.upper80),
            value_text(p.lower95),
            value_text(p.upper95),
            names.join("; ")
        ));
    }
    out
}

/// `finops forecast --series-csv FILE [--calendar FILE]`: a series from a
/// file, no database. Daily, weekly or monthly (told from the dates); the
/// horizon is `--horizon-days` in the file's steps, rounded up.
pub fn run_file(args: &ForecastArgs) -> Result<(), CliError> {
    let Some(path) = &args.series_csv else {
        return Err(CliError::BadInput(
            "--series-csv is required here".to_string(),
        ));
    };
    if !(1..=MAX_HORIZON_DAYS).contains(&args.horizon_days) {
        return Err(CliError::BadInput(format!(
            "--horizon-days: {} is out of range 1..={MAX_HORIZON_DAYS} (18 months)",
            args.horizon_days
        )));
    }
    let label = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::BadInput(format!("{label}: {e}")))?;
    let history = read_series(&label, &text)?;
    let dates: Vec<chrono::NaiveDate> = history.iter().map(|(d, _)| *d).collect();
    let freq = crate::forecast::frequency::detect(&dates)
        .map_err(|e| CliError::BadInput(format!("{label}: {e}")))?;
    let events = match &args.calendar {
        None => Vec::new(),
        Some(c) => {
            let name = c.display().to_string();
            let t = std::fs::read_to_string(c)
                .map_err(|e| CliError::BadInput(format!("{name}: {e}")))?;
            crate::calendar::parse_calendar(&name, &t)
                .map_err(|e| CliError::BadInput(e.to_string()))?
        }
    };
    let options = ModelOptions {
        log: !args.linear,
        ..ModelOptions::default()
    };
    let steps = freq.steps_for_days(args.horizon_days);
    let f = forecast::forecast_steps(&history, &events, steps, freq, &options)
        .map_err(|e| CliError::BadInput(format!("{label}: {e}")))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| label.clone());
    let text = match args.format {
        OutputFormat::Json => {
            let value = serde_json::json!({
                "series": [{
                    "file": label,
                    "frequency": freq.as_str(),
                    "method": f.method,
                    "backtest": f.backtest,
                    "learned_event_kinds": f.learned_kinds,
                    // Every step: a file's series is for comparison.
                    "points": f.points,
                }]
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            )
        }
        OutputFormat::Csv => csv(&f),
        OutputFormat::Table => table(
            &format!("{name} ({} values)", freq.as_str()),
            Metric::Cost,
            &history,
            &events,
            &f,
        ),
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Runtime(format!("standard output: {e}")))
}

/// `date,value` rows after a header, any line ends (LF, CRLF or CR);
/// errors name the line. Rows out of date order or a date given twice
/// are refused, naming both lines.
fn read_series(label: &str, text: &str) -> Result<Vec<(chrono::NaiveDate, f64)>, CliError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out: Vec<(chrono::NaiveDate, f64, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut cells = line.split(',').map(|c| c.trim().trim_matches('"'));
        let (Some(d), Some(v)) = (cells.next(), cells.next()) else {
            return Err(CliError::BadInput(format!(
                "{label}: line {}: expected date,value",
                i + 1
            )));
        };
        let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            CliError::BadInput(format!(
                "{label}: line {}, column 1: '{d}' is not a date (YYYY-MM-DD)",
                i + 1
            ))
        })?;
        let value: f64 = v
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| {
                CliError::BadInput(format!(
                    "{label}: line {}, column 2: '{v}' is not a number",
                    i + 1
                ))
            })?;
        if let Some((prev, _, prev_line)) = out.last() {
            if day <= *prev {
                let what = if day == *prev {
                    "repeats the date of"
                } else {
                    "comes before the date of"
                };
                return Err(CliError::BadInput(format!(
                    "{label}: line {}, column 1: {day} {what} line {prev_line} ({prev}); the rows must be in date order, one per date",
                    i + 1
                )));
            }
        }
        out.push((day, value, i + 1));
    }
    if out.is_empty() {
        return Err(CliError::BadInput(format!(
            "{label}: no rows after the header (expected date,value)"
        )));
    }
    Ok(out.into_iter().map(|(d, v, _)| (d, v)).collect())
}
