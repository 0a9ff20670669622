//! Alerts that reach people: rules (budget thresholds, anomalies above an
//! impact, commitments about to end, unallocated share, failed imports and
//! pulls) evaluated after every change of the data and on a schedule; each
//! episode raised once and delivered to the rule's channels (webhook,
//! Slack, e-mail) with retries.
//!
//! - `rule`: the kinds of rule and how one is checked before it is stored;
//! - `evaluate`: which episodes each rule sees in the stored data;
//! - `channel`, `message`, `deliver`: where alerts go, what they say, and
//!   sending them;
//! - [`cycle`]: one round (detect anomalies when costs changed, evaluate,
//!   deliver), which one process at a time runs;
//! - `schedule`: the rounds inside `serve`.

pub mod channel;
pub mod deliver;
pub mod evaluate;
pub mod message;
pub mod rule;
pub mod schedule;

use chrono::{NaiveDate, NaiveDateTime};

use crate::db::lock::{with_lock, Lock};
use crate::db::{alerts, ingest_runs, DbConnection, DbError};
pub use channel::Channel;
pub use deliver::DeliveryReport;
pub use evaluate::Evaluation;

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Budget(#[from] crate::budget::BudgetError),
    #[error(transparent)]
    Anomaly(#[from] crate::anomaly::run::AnomalyError),
}

impl From<diesel::result::Error> for AlertError {
    fn from(e: diesel::result::Error) -> AlertError {
        AlertError::Db(e.into())
    }
}

/// The sources whose runs change costs (after which anomalies are looked
/// for again).
const COST_SOURCES: [&str; 4] = ["focus", "cur", "cost-explorer", "demo"];

/// What the alerting needs from the settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertSettings {
    pub channels: Vec<Channel>,
    pub public_url: Option<String>,
    /// Look for anomalies again when costs changed.
    pub detect_anomalies: bool,
}

impl AlertSettings {
    pub fn from_settings(s: &crate::config::Settings) -> AlertSettings {
        AlertSettings {
            channels: s.alert_channels.clone(),
            public_url: s.public_url.clone(),
            detect_anomalies: s.detect_anomalies,
        }
    }

    pub fn channel_names(&self) -> Vec<String> {
        self.channels.iter().map(|c| c.name.clone()).collect()
    }
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CycleReport {
    /// Anomalies stored by the detection run after new costs, if it ran.
    pub anomalies_detected: Option<usize>,
    pub evaluation: Evaluation,
    pub delivery: DeliveryReport,
}

impl CycleReport {
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = self.anomalies_detected {
            parts.push(format!("{n} anomalies after new costs"));
        }
        parts.push(format!(
            "{} rules, {} new alerts",
            self.evaluation.rules,
            self.evaluation.raised.len()
        ));
        parts.push(format!(
            "{} sent, {} to retry, {} given up",
            self.delivery.sent, self.delivery.retrying, self.delivery.given_up
        ));
        parts.join("; ")
    }
}

/// When a round evaluates the rules.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Only when the data changed since the last evaluation (deliveries
    /// that are due are sent either way).
    Changed,
    /// Always (the periodic round, `finops alerts run`).
    Always,
}

/// One round, by at most one process at a time (a PostgreSQL advisory
/// lock; `None` when another process holds it): when costs changed since
/// the last round, anomalies are looked for again; then the rules are
/// evaluated (always, or when the data changed) and due deliveries sent.
pub fn cycle(
    conn: &mut DbConnection,
    settings: &AlertSettings,
    when: When,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<Option<CycleReport>, AlertError> {
    with_lock(conn, Lock::Alerts, |conn| {
        let mut report = CycleReport::default();
        let version = ingest_runs::data_version(conn)?.unwrap_or(0);
        let seen = alerts::state(conn, EVALUATED_VERSION)?.unwrap_or(0);
        let changed = version > seen;
        if changed {
            let costs_changed = ingest_runs::after(conn, seen)?
                .iter()
                .any(|r| r.status == "ok" && COST_SOURCES.contains(&r.source.as_str()));
            if costs_changed && settings.detect_anomalies {
                let currency = crate::currency::reporting(conn)?;
                let n = crate::anomaly::run::run(
                    conn,
                    &currency,
                    &crate::anomaly::run::RunOptions::default(),
                )?;
                report.anomalies_detected = Some(n);
            }
        }
        if changed || when == When::Always {
            report.evaluation = evaluate::evaluate(conn, today, now)?;
            // The version after this round's own writes (the detection run).
            let version = ingest_runs::data_version(conn)?.unwrap_or(0);
            alerts::set_state(conn, EVALUATED_VERSION, version)?;
        }
        report.delivery = deliver::deliver_due(
            conn,
            &settings.channels,
            settings.public_url.as_deref(),
            now,
        )?;
        Ok(report)
    })
}

/// `alert_state` key: the data version the rules were last evaluated at.
const EVALUATED_VERSION: &str = "evaluated_version";

/// After a CLI import or pull: a round when any rule exists, so that a
/// cron job without a server alerts too. Failures are reported, never
/// fatal to the import that already succeeded.
pub fn after_change(conn: &mut DbConnection, settings: &AlertSettings) -> Option<String> {
    match alerts::rules(conn) {
        Ok(rules) if rules.is_empty() => return None,
        Ok(_) => {}
        Err(e) => return Some(format!("alerts not evaluated: {e}")),
    }
    match cycle(
        conn,
        settings,
        When::Changed,
        crate::clock::today(),
        crate::clock::now(),
    ) {
        Ok(Some(r)) => Some(format!("alerts: {}", r.summary())),
        Ok(None) => Some("alerts: another process is evaluating them".to_string()),
        Err(e) => Some(format!("alerts not evaluated: {e}")),
    }
}

/// Stores a rule (replacing the rule of the same name) and records the
/// change as a run, in one transaction; returns the rule it replaced.
pub fn save_rule(
    conn: &mut DbConnection,
    rule: &alerts::NewRule,
) -> Result<Option<alerts::Rule>, AlertError> {
    use diesel::Connection;
    conn.transaction::<_, AlertError, _>(|conn| {
        let (_, replaced) = alerts::save_rule(conn, rule)?;
        crate::runs::record_change(
            conn,
            crate::runs::Source::AlertRules,
            "alert rule",
            1,
            crate::clock::now(),
            format!(
                "alert rule '{}' ({}) {}",
                rule.name,
                rule.kind,
                if replaced.is_some() {
                    "replaced"
                } else {
                    "added"
                }
            ),
        )?;
        Ok(replaced)
    })
}

/// Removes the rule named `name` and records the change; false when there
/// is no such rule.
pub fn remove_rule(conn: &mut DbConnection, name: &str) -> Result<bool, AlertError> {
    use diesel::Connection;
    conn.transaction::<_, AlertError, _>(|conn| {
        if !alerts::remove_rule(conn, name)? {
            return Ok(false);
        }
        crate::runs::record_change(
            conn,
            crate::runs::Source::AlertRules,
            "alert rule",
            1,
            crate::clock::now(),
            format!("alert rule '{name}' removed"),
        )?;
        Ok(true)
    })
}

/// An alert with its deliveries, for lists.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AlertView {
    #[serde(flatten)]
    pub alert: alerts::Alert,
    pub deliveries: Vec<alerts::Delivery>,
}

/// The latest `limit` alerts with their deliveries.
pub fn latest(conn: &mut DbConnection, limit: i64) -> Result<Vec<AlertView>, AlertError> {
    let list = alerts::latest(conn, limit)?;
    let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    let mut deliveries = alerts::deliveries_of(conn, &ids)?;
    Ok(list
        .into_iter()
        .map(|alert| {
            let mine: Vec<alerts::Delivery> = deliveries
                .iter()
                .filter(|d| d.alert_id == alert.id)
                .cloned()
                .collect();
            deliveries.retain(|d| d.alert_id != alert.id);
            AlertView {
                alert,
                deliveries: mine,
            }
        })
        .collect())
}
