//! Sign-in limit counters as stored: one row per key (a user name, an
//! address, or both), changed only by compare-and-swap on `version`, so
//! concurrent requests in any number of processes each see and claim a
//! distinct count.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sign_in_limits;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sign_in_limits)]
pub struct Counter {
    pub key: String,
    pub attempts: i64,
    pub window_start: NaiveDateTime,
    pub next_at: NaiveDateTime,
    pub version: i64,
}

/// The counter of `key`, made (empty, as of `now`) when missing.
pub fn get_or_create(
    conn: &mut DbConnection,
    key: &str,
    now: NaiveDateTime,
) -> Result<Counter, DbError> {
    if let Some(found) = get(conn, key)? {
        return Ok(found);
    }
    let fresh = Counter {
        key: key.to_string(),
        attempts: 0,
        window_start: now,
        next_at: now,
        version: 0,
    };
    crate::with_backend!(conn, |c| diesel::insert_into(sign_in_limits::table)
        .values(&fresh)
        .on_conflict(sign_in_limits::key)
        .do_nothing()
        .execute(c))?;
    get(conn, key)?.ok_or_else(|| DbError::Query(diesel::result::Error::NotFound))
}

pub fn get(conn: &mut DbConnection, key: &str) -> Result<Option<Counter>, DbError> {
    Ok(sign_in_limits::table
        .filter(sign_in_limits::key.eq(key))
        .select(Counter::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces `old` by `new` if nobody changed it since it was read; `false`
/// when someone did (read again and retry).
pub fn swap(conn: &mut DbConnection, old: &Counter, new: &Counter) -> Result<bool, DbError> {
    let n = diesel::update(
        sign_in_limits::table
            .filter(sign_in_limits::key.eq(&old.key))
            .filter(sign_in_limits::version.eq(old.version)),
    )
    .set((
        sign_in_limits::attempts.eq(new.attempts),
        sign_in_limits::window_start.eq(new.window_start),
        sign_in_limits::next_at.eq(new.next_at),
        sign_in_limits::version.eq(old.version + 1),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn delete(conn: &mut DbConnection, key: &str) -> Result<(), DbError> {
    diesel::delete(sign_in_limits::table.filter(sign_in_limits::key.eq(key))).execute(conn)?;
    Ok(())
}

/// Drops counters idle since `counters_before`, and remembered addresses
/// (`known:` keys) idle since `known_before`.
pub fn delete_idle(
    conn: &mut DbConnection,
    counters_before: NaiveDateTime,
    known_before: NaiveDateTime,
) -> Result<usize, DbError> {
    let counters = diesel::delete(
        sign_in_limits::table
            .filter(sign_in_limits::key.not_like("known:%"))
            .filter(sign_in_limits::window_start.lt(counters_before))
            .filter(sign_in_limits::next_at.lt(counters_before)),
    )
    .execute(conn)?;
    let known = diesel::delete(
        sign_in_limits::table
            .filter(sign_in_limits::key.like("known:%"))
            .filter(sign_in_limits::window_start.lt(known_before)),
    )
    .execute(conn)?;
    Ok(counters + known)
}
