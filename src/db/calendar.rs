//! Marketing calendar events as stored (loaded from `forecasts/*.toml` or
//! edited in the UI).

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::calendar_events;
use super::{DbConnection, DbError};
use crate::calendar::CalendarEvent;

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = calendar_events)]
#[diesel(treat_none_as_default_value = false)]
struct NewEventRow {
    name: String,
    kind: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    platforms: String,
    regions: String,
    expected_uplift: Option<f64>,
    ramp_days: Option<i32>,
    notes: String,
    source: String,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = calendar_events)]
struct EventRow {
    id: i64,
    name: String,
    kind: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    platforms: String,
    regions: String,
    expected_uplift: Option<f64>,
    ramp_days: Option<i32>,
    notes: String,
    source: String,
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Replaces every event that came from `source` (a file name) with `events`.
pub fn replace_source(
    conn: &mut DbConnection,
    source: &str,
    events: &[CalendarEvent],
) -> Result<usize, DbError> {
    diesel::delete(calendar_events::table.filter(calendar_events::source.eq(source)))
        .execute(conn)?;
    let now = super::ingest_runs::now();
    let rows: Vec<NewEventRow> = events
        .iter()
        .map(|e| NewEventRow {
            name: e.name.clone(),
            kind: e.kind.as_str().to_string(),
            start_date: e.start,
            end_date: e.end,
            platforms: e.platforms.join(","),
            regions: e.regions.join(","),
            expected_uplift: e.expected_uplift,
            ramp_days: e.ramp_days.map(|d| d as i32),
            notes: e.notes.clone(),
            source: source.to_string(),
            updated_at: now,
        })
        .collect();
    Ok(crate::with_backend!(conn, |c| diesel::insert_into(
        calendar_events::table
    )
    .values(&rows)
    .execute(c))?)
}

/// Events overlapping `[from, to]`, in start order.
pub fn events_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CalendarEvent>, DbError> {
    let rows: Vec<EventRow> = calendar_events::table
        .filter(calendar_events::start_date.le(to))
        .filter(calendar_events::end_date.ge(from))
        .order((calendar_events::start_date, calendar_events::name))
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(CalendarEvent {
                id: Some(r.id),
                name: r.name,
                kind: r.kind.parse().ok()?,
                start: r.start_date,
                end: r.end_date,
                platforms: split_list(&r.platforms),
                regions: split_list(&r.regions),
                expected_uplift: r.expected_uplift,
                ramp_days: r.ramp_days.map(|d| d.max(0) as u32),
                notes: r.notes,
                source: r.source,
            })
        })
        .collect())
}
