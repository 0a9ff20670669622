//! Stored anomalies and the feedback on them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::anomalies;
use super::{DbConnection, DbError};
use crate::money::Micros;

#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = anomalies)]
pub struct NewAnomaly {
    pub platform: String,
    pub region: String,
    pub service: String,
    pub currency: String,
    pub start_day: NaiveDate,
    pub end_day: NaiveDate,
    pub actual_micros: i64,
    pub expected_micros: i64,
    pub impact_micros: i64,
    pub why: String,
    pub event: String,
    pub explanation: String,
    pub feedback: String,
    pub feedback_by: String,
    pub detected_at: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = anomalies)]
pub struct Anomaly {
    pub id: i64,
    pub platform: String,
    pub region: String,
    pub service: String,
    pub currency: String,
    pub start_day: NaiveDate,
    pub end_day: NaiveDate,
    pub actual_micros: i64,
    pub expected_micros: i64,
    pub impact_micros: i64,
    pub why: String,
    pub event: String,
    pub explanation: String,
    pub feedback: String,
    pub feedback_by: String,
    pub detected_at: NaiveDateTime,
}

impl Anomaly {
    pub fn impact(&self) -> Micros {
        Micros(self.impact_micros)
    }

    /// The stored explanation: one line per service, region or account.
    pub fn explanation_lines(&self) -> Vec<String> {
        serde_json::from_str(&self.explanation).unwrap_or_default()
    }

    /// "PC · us-east-1 · Amazon EC2", or the total.
    pub fn scope_label(&self) -> String {
        crate::dims::scope_label(&self.platform, &self.region, &self.service)
    }
}

/// Replaces the anomalies found from `from` on that nobody gave feedback
/// on with `found`; an anomaly with feedback is kept, and a new one
/// starting on its day in its scope is dropped. Returns how many were
/// stored.
pub fn replace_unreviewed(
    conn: &mut DbConnection,
    from: NaiveDate,
    found: &[NewAnomaly],
) -> Result<usize, DbError> {
    diesel::delete(
        anomalies::table
            .filter(anomalies::start_day.ge(from))
            .filter(anomalies::feedback.eq("")),
    )
    .execute(conn)?;
    let reviewed: Vec<Anomaly> = anomalies::table
        .filter(anomalies::feedback.ne(""))
        .select(Anomaly::as_select())
        .load(conn)?;
    let fresh: Vec<&NewAnomaly> = found
        .iter()
        .filter(|n| n.start_day >= from)
        .filter(|n| {
            !reviewed.iter().any(|r| {
                r.platform == n.platform
                    && r.region == n.region
                    && r.service == n.service
                    && r.currency == n.currency
                    && r.start_day <= n.end_day
                    && r.end_day >= n.start_day
            })
        })
        .collect();
    let mut stored = 0;
    for chunk in fresh.chunks(500) {
        let rows: Vec<NewAnomaly> = chunk.iter().map(|n| (*n).clone()).collect();
        stored += crate::with_backend!(conn, |c| diesel::insert_into(anomalies::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(stored)
}

/// Anomalies overlapping `from..=to`, largest impact first.
pub fn between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Anomaly>, DbError> {
    Ok(anomalies::table
        .filter(anomalies::start_day.le(to))
        .filter(anomalies::end_day.ge(from))
        .select(Anomaly::as_select())
        .order((anomalies::impact_micros.desc(), anomalies::id))
        .load(conn)?)
}

/// Every anomaly someone gave feedback on.
pub fn reviewed(conn: &mut DbConnection) -> Result<Vec<Anomaly>, DbError> {
    Ok(anomalies::table
        .filter(anomalies::feedback.ne(""))
        .select(Anomaly::as_select())
        .load(conn)?)
}

/// Records feedback on anomaly `id`; `None` when there is no such anomaly.
pub fn set_feedback(
    conn: &mut DbConnection,
    id: i64,
    feedback: &str,
    by: &str,
) -> Result<Option<Anomaly>, DbError> {
    let n = diesel::update(anomalies::table.filter(anomalies::id.eq(id)))
        .set((
            anomalies::feedback.eq(feedback),
            anomalies::feedback_by.eq(by),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    Ok(anomalies::table
        .filter(anomalies::id.eq(id))
        .select(Anomaly::as_select())
        .first(conn)
        .optional()?)
}
