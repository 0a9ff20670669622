//! The audit log as stored: one row per thing someone did.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_log;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    /// How many times this happened (repeated refusals are one entry).
    pub repeats: i64,
    /// When it last happened, if more than once.
    pub last_at: Option<NaiveDateTime>,
}

impl AuditEntry {
    /// The detail, with how often it happened when more than once.
    pub fn detail_with_repeats(&self) -> String {
        match (self.repeats, self.last_at) {
            (n, Some(last)) if n > 1 => format!(
                "{} ({n} times, last {} UTC)",
                self.detail,
                last.format("%Y-%m-%d %H:%M:%S")
            ),
            _ => self.detail.clone(),
        }
    }
}

/// An entry to append. Entries with the same `group` (which includes the
/// actor) are one row that counts its repeats and keeps the latest detail:
/// a sign-in flood is one row per user name and window, a viewer hammering
/// an admin page one row per route and window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewAudit {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    pub group: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct Row<'a> {
    at: NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    outcome: &'a str,
    detail: &'a str,
    group_key: Option<&'a str>,
}

/// Appends an entry stamped now, or counts one more of its group.
pub fn insert(conn: &mut DbConnection, entry: &NewAudit) -> Result<(), DbError> {
    let now = crate::clock::now();
    let row = Row {
        at: now,
        actor: &entry.actor,
        action: &entry.action,
        target: &entry.target,
        outcome: &entry.outcome,
        detail: &entry.detail,
        group_key: entry.group.as_deref(),
    };
    if entry.group.is_none() {
        diesel::insert_into(audit_log::table)
            .values(&row)
            .execute(conn)?;
        return Ok(());
    }
    crate::with_backend!(conn, |c| diesel::insert_into(audit_log::table)
        .values(&row)
        .on_conflict(audit_log::group_key)
        .do_update()
        .set((
            audit_log::repeats.eq(audit_log::repeats + 1),
            audit_log::last_at.eq(now),
            audit_log::detail.eq(diesel::upsert::excluded(audit_log::detail)),
        ))
        .execute(c))?;
    Ok(())
}

/// Which entries to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Actions starting with this (`import`, `user.`, …).
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Entries older than this id (paging).
    pub before: Option<i64>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConnection, filter: &AuditFilter) -> Result<Vec<AuditEntry>, DbError> {
    let mut q = audit_log::table
        .select(AuditEntry::as_select())
        .order(audit_log::id.desc())
        .limit(filter.limit.clamp(1, 1000))
        .into_boxed();
    if let Some(action) = &filter.action {
        q = q.filter(
            audit_log::action
                .eq(action.clone())
                .or(audit_log::action.like(format!("{}.%", escape_like(action)))),
        );
    }
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_log::actor.eq(actor.clone()));
    }
    if let Some(before) = filter.before {
        q = q.filter(audit_log::id.lt(before));
    }
    Ok(q.load(conn)?)
}

/// `%` and `_` are not wildcards in an action name.
fn escape_like(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect()
}

/// The distinct actions recorded, for the filter.
pub fn actions(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    Ok(audit_log::table
        .select(audit_log::action)
        .distinct()
        .order(audit_log::action)
        .load(conn)?)
}
