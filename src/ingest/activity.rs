//! Player activity exports: one row per day × platform × region with the
//! peak concurrent players and the player-hours.
//!
//! ```text
//! day,platform,region,peak_concurrent_players,player_hours
//! 2026-03-02,PlayStation,eu-west-1,18250,96400.5
//! ```
//!
//! Accepted aliases: `date` for day, `peak_ccu` or `ccu` for the peak,
//! `hours_played` for player-hours. Platforms accept the usual aliases
//! (`ps5`, `steam`, …). Re-importing replaces the activity of the days the
//! file covers; shared costs are then re-split with the new activity.

use chrono::NaiveDate;
use diesel::Connection;

use super::errors::{ImportError, Problems};
use super::file::Input;
use super::small::{Cells, ReadRows, SmallTable};
use crate::db::activity::{self, NewActivity};
use crate::db::schema::player_activity;
use crate::db::{DbConnection, DbError};
use crate::dims::Platform;

pub const SOURCE: &str = crate::runs::Source::Activity.as_str();

const DAY: &[&str] = &["day", "date"];
const PLATFORM: &[&str] = &["platform"];
const REGION: &[&str] = &["region"];
const PEAK: &[&str] = &["peak_concurrent_players", "peak_ccu", "ccu"];
const HOURS: &[&str] = &["player_hours", "hours_played"];

/// What an activity import did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ActivitySummary {
    pub file: String,
    pub ingest_run_id: i64,
    pub rows: u64,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub replaced_rows: u64,
}

/// Reads and validates an activity file (all rows, or the first problems).
pub fn read(input: &Input) -> Result<ReadRows<NewActivity>, ImportError> {
    let label = input.label.as_str();
    let table = SmallTable::read(input, &[DAY, PLATFORM, REGION, PEAK, HOURS])?;
    let mut out = Vec::with_capacity(table.rows());
    let mut problems = Problems::new(label);
    for i in 0..table.rows() {
        let mut cells = Cells::new(&table, i);
        let day = cells.date(DAY);
        let platform = cells.parse(PLATFORM, |v| {
            v.parse::<Platform>()
                .map(|p| p.as_str().to_string())
                .map_err(|e| e.to_string())
        });
        let region = cells.text(REGION);
        let peak = cells.parse(PEAK, |v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| "is not a whole number of players (0 or more)".to_string())
        });
        let hours = cells.number(HOURS, 0.0);
        let row_problems = cells.into_problems();
        if row_problems.is_empty() {
            if let (Some(day), Some(platform), Some(region), Some(peak), Some(hours)) =
                (day, platform, region, peak, hours)
            {
                out.push(NewActivity {
                    day,
                    platform,
                    region,
                    peak_concurrent_players: peak,
                    player_hours: hours,
                    source: SOURCE.to_string(),
                    ingest_run_id: None,
                });
            }
        } else {
            problems.bad_row(row_problems);
        }
    }
    problems.finish()?;
    Ok(ReadRows {
        rows: out,
        sha256: table.sha256,
    })
}

/// Imports an activity file in one transaction, replacing the stored
/// activity of the days it covers, then re-splits shared costs.
pub fn import(conn: &mut DbConnection, input: &Input) -> Result<ActivitySummary, ImportError> {
    super::recorded(conn, SOURCE, input, store)
}

fn store(
    conn: &mut DbConnection,
    input: &Input,
    started: &super::Started,
) -> Result<ActivitySummary, ImportError> {
    let label = input.label.as_str();
    let ReadRows { rows, sha256 } = read(input)?;
    let Some((first_day, last_day)) = super::day_span(rows.iter().map(|r| &r.day)) else {
        return Err(ImportError::NoRows {
            file: label.to_string(),
        });
    };
    conn.transaction::<_, DbError, _>(|conn| {
        use diesel::prelude::*;
        let replaced = diesel::delete(
            player_activity::table
                .filter(player_activity::source.eq(SOURCE))
                .filter(player_activity::day.ge(first_day))
                .filter(player_activity::day.le(last_day)),
        )
        .execute(conn)?;
        let run_id = crate::runs::record(
            conn,
            &started.succeeded(&sha256, &format!("{first_day}..{last_day}"), rows.len()),
        )?;
        let rows: Vec<NewActivity> = rows
            .iter()
            .cloned()
            .map(|mut r| {
                r.ingest_run_id = Some(run_id);
                r
            })
            .collect();
        activity::insert_activity(conn, &rows)?;
        Ok(ActivitySummary {
            file: label.to_string(),
            ingest_run_id: run_id,
            rows: rows.len() as u64,
            first_day,
            last_day,
            replaced_rows: replaced as u64,
        })
    })
    .map_err(|e| started.db_error(e))
    .and_then(|summary| {
        super::rules::reapply(conn, "new player activity").map_err(|e| match e {
            super::rules::RulesError::Db(d) => started.db_error(d),
            other => ImportError::Format {
                file: label.to_string(),
                message: other.to_string(),
            },
        })?;
        Ok(summary)
    })
}
