//! `finops ingest calendar FILE`: a marketing-calendar TOML file (the
//! format of `forecasts/*.toml`, see `crate::calendar`) replaces the events
//! stored from the file of the same name, in one transaction.

use diesel::Connection;

use super::errors::ImportError;
use super::file::Input;
use crate::calendar::{self, CalendarEvent};
use crate::db::{DbConnection, DbError};

pub const SOURCE: &str = crate::runs::Source::Calendar.as_str();

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CalendarSummary {
    pub file: String,
    pub ingest_run_id: i64,
    pub events: usize,
    pub replaced: usize,
}

pub fn import(conn: &mut DbConnection, input: &Input) -> Result<CalendarSummary, ImportError> {
    super::recorded(conn, SOURCE, input, store)
}

fn store(
    conn: &mut DbConnection,
    input: &Input,
    started: &super::Started,
) -> Result<CalendarSummary, ImportError> {
    let label = input.label.as_str();
    let (prepared, text) = super::file::prepared_text(input)?;
    let events =
        calendar::parse_calendar(label, &text).map_err(|e| super::file::format_error(label, e))?;
    let source = calendar::file_label(label);
    // The same event must not come from two places (another file, the page).
    let stored: Vec<CalendarEvent> = crate::db::calendar::all_events(conn)
        .map_err(|e| started.db_error(e))?
        .into_iter()
        .filter(|e| e.source != source)
        .collect();
    for (i, e) in events.iter().enumerate() {
        if let Some(message) = calendar::duplicate_of(e, &stored) {
            return Err(ImportError::Format {
                file: label.to_string(),
                message: format!("event {} ('{}'): duplicates {message}", i + 1, e.name),
            });
        }
    }
    conn.transaction::<_, DbError, _>(|conn| {
        let replaced = crate::db::calendar::all_events(conn)?
            .iter()
            .filter(|e| e.source == source)
            .count();
        crate::db::calendar::replace_source(conn, &source, &events)?;
        let ingest_run_id =
            crate::runs::record(conn, &started.succeeded(&prepared.sha256, "", events.len()))?;
        Ok(CalendarSummary {
            file: label.to_string(),
            ingest_run_id,
            events: events.len(),
            replaced,
        })
    })
    .map_err(|e| started.db_error(e))
}
