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
    let now = crate::clock::now();
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
    Ok(rows.into_iter().filter_map(to_event).collect())
}

fn to_event(r: EventRow) -> Option<CalendarEvent> {
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
}

/// Every event, in start order.
pub fn all_events(conn: &mut DbConnection) -> Result<Vec<CalendarEvent>, DbError> {
    let rows: Vec<EventRow> = calendar_events::table
        .order((calendar_events::start_date, calendar_events::name))
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(to_event).collect())
}

/// Adds `event` (no id) or updates the event with its id. Returns the id.
pub fn save_event(conn: &mut DbConnection, event: &CalendarEvent) -> Result<i64, DbError> {
    let row = NewEventRow {
        name: event.name.clone(),
        kind: event.kind.as_str().to_string(),
        start_date: event.start,
        end_date: event.end,
        platforms: event.platforms.join(","),
        regions: event.regions.join(","),
        expected_uplift: event.expected_uplift,
        ramp_days: event.ramp_days.map(|d| d as i32),
        notes: event.notes.clone(),
        source: event.source.clone(),
        updated_at: crate::clock::now(),
    };
    match event.id {
        Some(id) => {
            use calendar_events::dsl as c;
            diesel::update(c::calendar_events.filter(c::id.eq(id)))
                .set((
                    c::name.eq(&row.name),
                    c::kind.eq(&row.kind),
                    c::start_date.eq(row.start_date),
                    c::end_date.eq(row.end_date),
                    c::platforms.eq(&row.platforms),
                    c::regions.eq(&row.regions),
                    c::expected_uplift.eq(row.expected_uplift),
                    c::ramp_days.eq(row.ramp_days),
                    c::notes.eq(&row.notes),
                    c::source.eq(&row.source),
                    c::updated_at.eq(row.updated_at),
                ))
                .execute(conn)?;
            Ok(id)
        }
        None => Ok(diesel::insert_into(calendar_events::table)
            .values(&row)
            .returning(calendar_events::id)
            .get_result(conn)?),
    }
}

/// Deletes one event; returns whether it existed.
pub fn delete_event(conn: &mut DbConnection, id: i64) -> Result<bool, DbError> {
    Ok(
        diesel::delete(calendar_events::table.filter(calendar_events::id.eq(id))).execute(conn)?
            > 0,
    )
}
