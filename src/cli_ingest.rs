//! `finops ingest …`: imports files one by one with a progress bar, prints
//! what each did, and lists every problem of a refused file.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{CliError, IngestCommand, IngestFiles};
use crate::db::DbConnection;
use crate::ingest::{
    self, activity, utilisation, BillingFormat, ImportError, Input, Limits, Progress,
};

pub fn run(
    conn: &mut DbConnection,
    command: &IngestCommand,
    limits: Limits,
) -> Result<(), CliError> {
    let (files, what): (&IngestFiles, &str) = match command {
        IngestCommand::Focus(f) => (f, "focus"),
        IngestCommand::Cur(f) => (f, "cur"),
        IngestCommand::Utilisation(f) => (f, "utilisation"),
        IngestCommand::Activity(f) => (f, "activity"),
        IngestCommand::Calendar(f) => (f, "calendar"),
        IngestCommand::Scenario(f) => (f, "scenario"),
        IngestCommand::Commitments(f) => (f, "commitments"),
    };
    let mut failures: Vec<ImportError> = Vec::new();
    for path in &files.files {
        let input = Input::new(path).with_limits(limits);
        let input = &input;
        let outcome = match what {
            "focus" => billing(conn, BillingFormat::Focus, input),
            "cur" => billing(conn, BillingFormat::Cur, input),
            "utilisation" => utilisation::import(conn, input).and_then(|s| {
                eprintln!(
                    "imported {}: {} rows, {} resources, {} to {} ({}), replaced {} earlier rows",
                    s.file, s.rows, s.resources, s.first, s.last, s.granularity, s.replaced_rows
                );
                json(&s)
            }),
            "calendar" => crate::ingest::calendar::import(conn, input).and_then(|s| {
                eprintln!(
                    "imported {}: {} events (replacing {} from the same file)",
                    s.file, s.events, s.replaced
                );
                json(&s)
            }),
            "commitments" => crate::ingest::commitments::import(conn, input).and_then(|s| {
                eprintln!(
                    "imported {}: {} commitment(s), replacing {} stored",
                    s.file, s.commitments, s.replaced
                );
                json(&s)
            }),
            "scenario" => crate::ingest::scenario::import(conn, input).and_then(|s| {
                eprintln!(
                    "imported {}: scenario '{}' with {} change(s){}",
                    s.file,
                    s.name,
                    s.changes,
                    if s.replaced > 0 { ", replacing the stored one" } else { "" }
                );
                json(&s)
            }),
            _ => activity::import(conn, input).and_then(|s| {
                eprintln!(
                    "imported {}: {} rows, {} to {}, replaced {} earlier rows; shared costs re-split",
                    s.file, s.rows, s.first_day, s.last_day, s.replaced_rows
                );
                json(&s)
            }),
        };
        match outcome {
            Ok(Some(text)) if files.json => println!("{text}"),
            Ok(_) => {}
            Err(e) => {
                for line in e.details() {
                    eprintln!("error: {line}");
                }
                failures.push(e);
            }
        }
    }
    match failures.len() {
        0 => Ok(()),
        n => {
            let message = format!(
                "{n} of {} file(s) not imported (nothing was stored from them)",
                files.files.len()
            );
            if failures.iter().all(ImportError::is_bad_input) {
                Err(CliError::BadInput(message))
            } else {
                Err(CliError::Runtime(message))
            }
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<Option<String>, ImportError> {
    Ok(serde_json::to_string(value).ok())
}

fn billing(
    conn: &mut DbConnection,
    format: BillingFormat,
    input: &Input,
) -> Result<Option<String>, ImportError> {
    let bar = ProgressBar::new(0);
    let bytes_style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let rows_style =
        ProgressStyle::with_template("{msg} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    let spinner_style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let name = input.label.clone();
    let mut phase = 0;
    let summary = ingest::import_billing(conn, format, input, &mut |p| match p {
        Progress::Reading { bytes, total } => {
            if phase != 1 {
                phase = 1;
                bar.set_style(bytes_style.clone());
                bar.set_length(total);
                bar.set_message(format!("checking {name}"));
            }
            bar.set_position(bytes);
        }
        Progress::Aggregating { bytes } => {
            phase = 2;
            bar.set_style(spinner_style.clone());
            bar.set_message(format!(
                "validating and aggregating {name} ({:.0} MiB)",
                bytes as f64 / (1024.0 * 1024.0)
            ));
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Progress::Storing { rows, total } => {
            if phase != 3 {
                phase = 3;
                bar.disable_steady_tick();
                bar.set_style(rows_style.clone());
                bar.set_length(total);
                bar.set_position(0);
                bar.reset_eta();
                bar.set_message("storing");
            }
            bar.set_position(rows);
        }
    });
    bar.finish_and_clear();
    let s = summary?;
    let periods: Vec<String> = s
        .scopes
        .iter()
        .map(|sc| {
            format!(
                "{} {} {}",
                sc.provider, sc.billing_account, sc.billing_period
            )
        })
        .collect();
    let rate = if s.seconds > 0.0 {
        s.rows_read as f64 / s.seconds
    } else {
        0.0
    };
    eprintln!(
        "imported {}: {} rows in {:.1} s ({:.0} rows/s) → {} resource-day rows, {} report rows; billing periods: {}; replaced {} earlier rows",
        s.file,
        s.rows_read,
        s.seconds,
        rate,
        s.resource_rows,
        s.cost_rows,
        periods.join(", "),
        s.replaced_rows
    );
    for t in &s.totals {
        let share = t
            .unallocated_billed
            .percent_of(t.billed)
            .map(|p| format!("{p:.1}%"))
            .unwrap_or_else(|| "–".to_string());
        eprintln!(
            "  {}: billed {}, effective {}, unallocated {} ({share})",
            t.currency,
            t.billed.to_decimal(2),
            t.effective.to_decimal(2),
            t.unallocated_billed.to_decimal(2)
        );
    }
    json(&s)
}
