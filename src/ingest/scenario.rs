//! `finops ingest scenario FILE`: a forecast scenario (the format of
//! `forecasts/scenarios/*.toml`, see `crate::forecast::scenario`) is
//! validated and stored by name, replacing the scenario of the same name
//! or from the same file.

use diesel::Connection;

use super::errors::ImportError;
use super::file::Input;
use crate::calendar;
use crate::db::{DbConnection, DbError};
use crate::forecast::scenario::parse_scenario;

pub const SOURCE: &str = crate::runs::Source::Scenario.as_str();

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScenarioSummary {
    pub file: String,
    pub ingest_run_id: i64,
    pub name: String,
    pub changes: usize,
    pub replaced: usize,
}

pub fn import(conn: &mut DbConnection, input: &Input) -> Result<ScenarioSummary, ImportError> {
    super::recorded(conn, SOURCE, input, |conn, input, started| {
        let label = input.label.as_str();
        let (prepared, text) = super::file::prepared_text(input)?;
        let scenario =
            parse_scenario(label, &text).map_err(|e| super::file::format_error(label, e))?;
        let source = calendar::file_label(label);
        conn.transaction::<_, DbError, _>(|conn| {
            let replaced = crate::db::scenarios::save(conn, &scenario.name, &source, &text)?;
            let ingest_run_id = crate::runs::record(
                conn,
                &started.succeeded(&prepared.sha256, "", scenario.changes.len()),
            )?;
            Ok(ScenarioSummary {
                file: label.to_string(),
                ingest_run_id,
                name: scenario.name.clone(),
                changes: scenario.changes.len(),
                replaced,
            })
        })
        .map_err(|e| started.db_error(e))
    })
}
