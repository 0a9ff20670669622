//! `finops ingest …` and `finops catalog import`: imports files one by one
//! through the importer table (`ingest::registry`), with a progress bar for
//! the long ones, prints what each did, and lists every problem of a
//! refused file.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{CliError, IngestCommand};
use crate::db::DbConnection;
use crate::ingest::registry::{self, Imported};
use crate::ingest::{ImportError, Input, Limits, Progress};
use crate::runs::Source;

pub fn run(
    conn: &mut DbConnection,
    command: &IngestCommand,
    limits: Limits,
) -> Result<(), CliError> {
    let (source, files) = command.source();
    import_files(conn, source, &files.files, files.json, limits)
}

/// Imports `paths` as `source`, one transaction each; fails (with every
/// file's problems listed) if any is refused.
pub fn import_files(
    conn: &mut DbConnection,
    source: Source,
    paths: &[std::path::PathBuf],
    json: bool,
    limits: Limits,
) -> Result<(), CliError> {
    let Some(importer) = registry::importer(source) else {
        return Err(CliError::BadInput(format!(
            "{} is not imported from files",
            source.as_str()
        )));
    };
    let mut failures: Vec<ImportError> = Vec::new();
    for path in paths {
        let input = Input::new(path).with_limits(limits);
        let bar = ImportBar::new(&input.label);
        let outcome = (importer.import)(conn, &input, &mut |p| bar.show(p));
        bar.done();
        match outcome {
            Ok(Imported { lines, json: value }) => {
                eprintln!("imported {}: {}", input.label, lines.join(" "));
                if json {
                    println!("{value}");
                }
            }
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
                paths.len()
            );
            if failures.iter().all(ImportError::is_bad_input) {
                Err(CliError::BadInput(message))
            } else {
                Err(CliError::Runtime(message))
            }
        }
    }
}

/// The progress of one import: bytes checked, a spinner while polars
/// aggregates, rows stored.
struct ImportBar {
    bar: ProgressBar,
    name: String,
    phase: std::cell::Cell<u8>,
}

impl ImportBar {
    fn new(name: &str) -> ImportBar {
        ImportBar {
            bar: ProgressBar::new(0),
            name: name.to_string(),
            phase: std::cell::Cell::new(0),
        }
    }

    fn style(template: &str) -> ProgressStyle {
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }

    fn show(&self, p: Progress) {
        let bar = &self.bar;
        match p {
            Progress::Reading { bytes, total } => {
                if self.phase.replace(1) != 1 {
                    bar.set_style(Self::style(
                        "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
                    ));
                    bar.set_length(total);
                    bar.set_message(format!("checking {}", self.name));
                }
                bar.set_position(bytes);
            }
            Progress::Aggregating { bytes } => {
                self.phase.set(2);
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(format!(
                    "validating and aggregating {} ({:.0} MiB)",
                    self.name,
                    bytes as f64 / (1024.0 * 1024.0)
                ));
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            Progress::Storing { rows, total } => {
                if self.phase.replace(3) != 3 {
                    bar.disable_steady_tick();
                    bar.set_style(Self::style(
                        "{msg} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}",
                    ));
                    bar.set_length(total);
                    bar.set_position(0);
                    bar.reset_eta();
                    bar.set_message("storing");
                }
                bar.set_position(rows);
            }
        }
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}
