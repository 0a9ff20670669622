//! `finops anomalies [--from] [--to] [--format]` and `finops anomalies
//! feedback ID VERDICT`.

use chrono::NaiveDate;

use crate::anomaly::run::{self, AnomalyError, RunOptions};
use crate::anomaly::{DetectOptions, Feedback};
use crate::cli::{AnomaliesArgs, AnomalyAction, CliError};
use crate::db::anomalies::Anomaly;
use crate::db::DbConnection;
use crate::report::export::text_cell;

impl From<AnomalyError> for CliError {
    fn from(e: AnomalyError) -> CliError {
        match e {
            AnomalyError::BadInput(m) => CliError::BadInput(m),
            AnomalyError::Db(d) => d.into(),
        }
    }
}

fn day(text: &Option<String>, name: &str) -> Result<Option<NaiveDate>, CliError> {
    text.as_deref()
        .map(|t| {
            crate::report::period::parse_date(t)
                .map_err(|e| CliError::BadInput(format!("--{name}: {e}")))
        })
        .transpose()
}

pub fn run(conn: &mut DbConnection, args: &AnomaliesArgs) -> Result<(), CliError> {
    if let Some(AnomalyAction::Feedback { id, verdict }) = &args.action {
        let v = Feedback::parse(verdict).ok_or_else(|| {
            CliError::BadInput(format!(
                "'{verdict}' is not a verdict: expected yes, no or planned"
            ))
        })?;
        let a = run::feedback(conn, *id, v, &crate::audit::cli_actor())?;
        println!(
            "anomaly {} ({} to {}, {}) marked {}",
            a.id,
            a.start_day,
            a.end_day,
            a.scope_label(),
            v.as_str()
        );
        return Ok(());
    }
    if !["table", "csv", "json"].contains(&args.format.as_str()) {
        return Err(CliError::BadInput(format!(
            "--format '{}': expected table, csv or json",
            args.format
        )));
    }
    if !(50.0..100.0).contains(&args.level) {
        return Err(CliError::BadInput(
            "--level is a percentage from 50 to 99.99".to_string(),
        ));
    }
    if args.min_impact < 0.0 || args.min_percent < 0.0 {
        return Err(CliError::BadInput(
            "--min-impact and --min-percent are not negative".to_string(),
        ));
    }
    let from = day(&args.from, "from")?;
    let to = day(&args.to, "to")?;
    let catalog = crate::report::catalog::Catalog::load(conn)?;
    let Some(last) = catalog.last_day else {
        println!("no costs stored: import a bill first");
        return Ok(());
    };
    let currency = catalog.default_currency();
    if !args.no_detect {
        run::run(
            conn,
            &currency,
            &RunOptions {
                from,
                detect: DetectOptions {
                    level: args.level / 100.0,
                    min_impact: args.min_impact,
                    min_percent: args.min_percent / 100.0,
                    calendar: true,
                },
            },
        )?;
    }
    let to = to.unwrap_or(last);
    let from = from.unwrap_or(last - chrono::Duration::days(run::DEFAULT_DAYS - 1));
    let found = run::list(conn, from, to)?;
    match args.format.as_str() {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&found.iter().map(json_row).collect::<Vec<_>>())
                .map_err(|e| CliError::Runtime(e.to_string()))?
        ),
        "csv" => {
            println!("id,start,end,platform,region,service,currency,actual,expected,impact,why,event,feedback,explanation");
            for a in &found {
                println!(
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    a.id,
                    a.start_day,
                    a.end_day,
                    text_cell(&a.platform),
                    text_cell(&a.region),
                    text_cell(&a.service),
                    a.currency,
                    crate::money::Micros(a.actual_micros).to_decimal(2),
                    crate::money::Micros(a.expected_micros).to_decimal(2),
                    a.impact().to_decimal(2),
                    a.why,
                    text_cell(&a.event),
                    a.feedback,
                    text_cell(&a.explanation_lines().join("; "))
                );
            }
        }
        _ => {
            if found.is_empty() {
                println!("no anomalies from {from} to {to}");
            }
            for a in &found {
                println!(
                    "#{} {} to {}  {}  impact {} (actual {}, expected {}){}{}",
                    a.id,
                    a.start_day,
                    a.end_day,
                    a.scope_label(),
                    a.impact().display(&a.currency),
                    crate::money::Micros(a.actual_micros).display(&a.currency),
                    crate::money::Micros(a.expected_micros).display(&a.currency),
                    if a.event.is_empty() {
                        String::new()
                    } else {
                        format!(", during {}", a.event)
                    },
                    if a.feedback.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", a.feedback)
                    }
                );
                for l in a.explanation_lines() {
                    println!("    {l}");
                }
            }
        }
    }
    Ok(())
}

fn json_row(a: &Anomaly) -> serde_json::Value {
    serde_json::json!({
        "id": a.id,
        "start": a.start_day,
        "end": a.end_day,
        "platform": a.platform,
        "region": a.region,
        "service": a.service,
        "currency": a.currency,
        "actual": crate::money::Micros(a.actual_micros).to_decimal(2),
        "expected": crate::money::Micros(a.expected_micros).to_decimal(2),
        "impact": a.impact().to_decimal(2),
        "why": a.why,
        "event": a.event,
        "feedback": a.feedback,
        "explanation": a.explanation_lines(),
    })
}
