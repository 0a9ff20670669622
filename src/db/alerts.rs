//! Alert rules, the alerts they raised and each alert's deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{alert_deliveries, alert_rules, alert_state, alerts};
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = alert_rules)]
pub struct NewRule {
    pub name: String,
    pub kind: String,
    pub basis: String,
    pub percent: f64,
    pub impact_micros: i64,
    pub days: i64,
    pub channels: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = alert_rules)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub basis: String,
    pub percent: f64,
    pub impact_micros: i64,
    pub days: i64,
    pub channels: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl Rule {
    /// The channel names the rule sends to.
    pub fn channel_names(&self) -> Vec<String> {
        split_channels(&self.channels)
    }
}

/// "a, b" → ["a", "b"].
pub fn split_channels(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = alerts)]
pub struct NewAlert {
    pub rule_id: i64,
    pub rule_name: String,
    pub kind: String,
    pub episode: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub raised_at: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = alerts)]
pub struct Alert {
    pub id: i64,
    pub rule_id: i64,
    pub rule_name: String,
    pub kind: String,
    pub episode: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub raised_at: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = alert_deliveries)]
pub struct Delivery {
    pub id: i64,
    pub alert_id: i64,
    pub channel: String,
    /// `pending`, `sending`, `sent` or `failed` (gave up).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: String,
    pub delivered_at: Option<NaiveDateTime>,
}

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

pub fn rules(conn: &mut DbConnection) -> Result<Vec<Rule>, DbError> {
    Ok(alert_rules::table
        .select(Rule::as_select())
        .order(alert_rules::name)
        .load(conn)?)
}

/// Adds `rule`, or replaces the rule of the same name; returns its id and
/// the rule it replaced.
pub fn save_rule(conn: &mut DbConnection, rule: &NewRule) -> Result<(i64, Option<Rule>), DbError> {
    conn.transaction(|conn| {
        let existing: Option<Rule> = alert_rules::table
            .filter(alert_rules::name.eq(&rule.name))
            .select(Rule::as_select())
            .first(conn)
            .optional()?;
        if let Some(old) = existing {
            let id = old.id;
            diesel::update(alert_rules::table.filter(alert_rules::id.eq(id)))
                .set((
                    alert_rules::kind.eq(&rule.kind),
                    alert_rules::basis.eq(&rule.basis),
                    alert_rules::percent.eq(rule.percent),
                    alert_rules::impact_micros.eq(rule.impact_micros),
                    alert_rules::days.eq(rule.days),
                    alert_rules::channels.eq(&rule.channels),
                ))
                .execute(conn)?;
            return Ok((id, Some(old)));
        }
        diesel::insert_into(alert_rules::table)
            .values(rule)
            .execute(conn)?;
        let id = alert_rules::table
            .filter(alert_rules::name.eq(&rule.name))
            .select(alert_rules::id)
            .first(conn)?;
        Ok((id, None))
    })
}

/// Removes the rule named `name`; false when there is none. Its alerts
/// stay in the history.
pub fn remove_rule(conn: &mut DbConnection, name: &str) -> Result<bool, DbError> {
    let n = diesel::delete(alert_rules::table.filter(alert_rules::name.eq(name))).execute(conn)?;
    Ok(n > 0)
}

/// Raises `alert` unless its rule raised the same episode already, with a
/// pending delivery to each of `channels`. Returns the new alert's id, or
/// `None` when the episode was raised before (by this process or
/// another: the unique key decides).
pub fn raise(
    conn: &mut DbConnection,
    alert: &NewAlert,
    channels: &[String],
) -> Result<Option<i64>, DbError> {
    conn.transaction(|conn| {
        let inserted = crate::with_backend!(conn, |c| diesel::insert_into(alerts::table)
            .values(alert)
            .on_conflict((alerts::rule_id, alerts::episode))
            .do_nothing()
            .execute(c))?;
        if inserted == 0 {
            return Ok(None);
        }
        let id: i64 = alerts::table
            .filter(alerts::rule_id.eq(alert.rule_id))
            .filter(alerts::episode.eq(&alert.episode))
            .select(alerts::id)
            .first(conn)?;
        for channel in channels {
            diesel::insert_into(alert_deliveries::table)
                .values((
                    alert_deliveries::alert_id.eq(id),
                    alert_deliveries::channel.eq(channel),
                    alert_deliveries::status.eq(PENDING),
                    alert_deliveries::attempts.eq(0i64),
                    alert_deliveries::next_attempt_at.eq(alert.raised_at),
                    alert_deliveries::last_error.eq(""),
                ))
                .execute(conn)?;
        }
        Ok(Some(id))
    })
}

/// The newest alerts first, at most `limit`.
pub fn latest(conn: &mut DbConnection, limit: i64) -> Result<Vec<Alert>, DbError> {
    Ok(alerts::table
        .select(Alert::as_select())
        .order((alerts::raised_at.desc(), alerts::id.desc()))
        .limit(limit)
        .load(conn)?)
}

pub fn alert(conn: &mut DbConnection, id: i64) -> Result<Option<Alert>, DbError> {
    Ok(alerts::table
        .filter(alerts::id.eq(id))
        .select(Alert::as_select())
        .first(conn)
        .optional()?)
}

/// The deliveries of the alerts `ids`.
pub fn deliveries_of(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<Delivery>, DbError> {
    Ok(alert_deliveries::table
        .filter(alert_deliveries::alert_id.eq_any(ids))
        .select(Delivery::as_select())
        .order((alert_deliveries::alert_id, alert_deliveries::channel))
        .load(conn)?)
}

/// Deliveries waiting whose next attempt is due at `now`.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<Delivery>, DbError> {
    Ok(alert_deliveries::table
        .filter(alert_deliveries::status.eq(PENDING))
        .filter(alert_deliveries::next_attempt_at.le(now))
        .select(Delivery::as_select())
        .order(alert_deliveries::id)
        .load(conn)?)
}

/// Takes delivery `id` for sending: true when this caller won it (it was
/// pending), so two processes never send the same delivery.
pub fn claim(
    conn: &mut DbConnection,
    id: i64,
    attempts: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        alert_deliveries::table
            .filter(alert_deliveries::id.eq(id))
            .filter(alert_deliveries::status.eq(PENDING))
            .filter(alert_deliveries::attempts.eq(attempts)),
    )
    .set((
        alert_deliveries::status.eq(SENDING),
        alert_deliveries::attempts.eq(attempts + 1),
        alert_deliveries::next_attempt_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records the outcome of a claimed delivery's attempt.
pub fn finish(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    next_attempt_at: NaiveDateTime,
    error: &str,
    delivered_at: Option<NaiveDateTime>,
) -> Result<(), DbError> {
    diesel::update(alert_deliveries::table.filter(alert_deliveries::id.eq(id)))
        .set((
            alert_deliveries::status.eq(status),
            alert_deliveries::next_attempt_at.eq(next_attempt_at),
            alert_deliveries::last_error.eq(error),
            alert_deliveries::delivered_at.eq(delivered_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deliveries left `sending` by a process that stopped mid-send before
/// `before` go back to pending.
pub fn release_stale(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    Ok(diesel::update(
        alert_deliveries::table
            .filter(alert_deliveries::status.eq(SENDING))
            .filter(alert_deliveries::next_attempt_at.lt(before)),
    )
    .set(alert_deliveries::status.eq(PENDING))
    .execute(conn)?)
}

/// A stored number of the alerting state (`evaluated_version`).
pub fn state(conn: &mut DbConnection, name: &str) -> Result<Option<i64>, DbError> {
    Ok(alert_state::table
        .filter(alert_state::name.eq(name))
        .select(alert_state::value)
        .first(conn)
        .optional()?)
}

pub fn set_state(conn: &mut DbConnection, name: &str, value: i64) -> Result<(), DbError> {
    crate::with_backend!(conn, |c| diesel::insert_into(alert_state::table)
        .values((alert_state::name.eq(name), alert_state::value.eq(value)))
        .on_conflict(alert_state::name)
        .do_update()
        .set(alert_state::value.eq(value))
        .execute(c))?;
    Ok(())
}
