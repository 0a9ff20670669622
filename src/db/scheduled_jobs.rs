//! Scheduled jobs as stored: when each last started and how it ended,
//! shared by every process on the database. A process runs a job only
//! after claiming it ([`claim`]): a compare-and-swap on `last_started_at`
//! that at most one of several processes wins per interval.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::scheduled_jobs;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = scheduled_jobs)]
pub struct Job {
    pub name: String,
    pub last_started_at: NaiveDateTime,
    pub last_finished_at: Option<NaiveDateTime>,
    /// `ok`, `failed`, `skipped` or empty (never finished).
    pub last_status: String,
    pub last_message: String,
    pub runs: i64,
    /// Which process started it last (host and process id).
    pub started_by: String,
}

impl Job {
    /// Started and not finished since (or finished before it started).
    pub fn running(&self) -> bool {
        self.runs > 0
            && self
                .last_finished_at
                .is_none_or(|f| f < self.last_started_at)
    }
}

/// How long a job that never said it finished counts as running (its
/// process may have died).
pub const RUNNING_AT_MOST: Duration = Duration::hours(6);

fn never() -> NaiveDateTime {
    NaiveDateTime::default()
}

fn ensure(conn: &mut DbConnection, name: &str) -> Result<(), DbError> {
    let fresh = Job {
        name: name.to_string(),
        last_started_at: never(),
        last_finished_at: None,
        last_status: String::new(),
        last_message: String::new(),
        runs: 0,
        started_by: String::new(),
    };
    crate::with_backend!(conn, |c| diesel::insert_into(scheduled_jobs::table)
        .values(&fresh)
        .on_conflict(scheduled_jobs::name)
        .do_nothing()
        .execute(c))?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, name: &str) -> Result<Option<Job>, DbError> {
    Ok(scheduled_jobs::table
        .filter(scheduled_jobs::name.eq(name))
        .select(Job::as_select())
        .first(conn)
        .optional()?)
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<Job>, DbError> {
    Ok(scheduled_jobs::table
        .select(Job::as_select())
        .order(scheduled_jobs::name)
        .load(conn)?)
}

/// Claims `name` for `by` when it last started at least `every` before
/// `now` (or never): a compare-and-swap, so of several callers one wins.
/// Whether it is running elsewhere is the caller's to know (an advisory
/// lock, or [`Job::running`]).
pub fn claim(
    conn: &mut DbConnection,
    name: &str,
    every: Duration,
    now: NaiveDateTime,
    by: &str,
) -> Result<bool, DbError> {
    ensure(conn, name)?;
    let Some(job) = get(conn, name)? else {
        return Ok(false);
    };
    if job.runs > 0 && now - job.last_started_at < every {
        return Ok(false);
    }
    let n = diesel::update(
        scheduled_jobs::table
            .filter(scheduled_jobs::name.eq(name))
            .filter(scheduled_jobs::last_started_at.eq(job.last_started_at))
            .filter(scheduled_jobs::runs.eq(job.runs)),
    )
    .set((
        scheduled_jobs::last_started_at.eq(now),
        scheduled_jobs::runs.eq(job.runs + 1),
        scheduled_jobs::started_by.eq(by),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records how the run `name` started at `started_at` ended.
pub fn finish(
    conn: &mut DbConnection,
    name: &str,
    started_at: NaiveDateTime,
    now: NaiveDateTime,
    status: &str,
    message: &str,
) -> Result<(), DbError> {
    diesel::update(
        scheduled_jobs::table
            .filter(scheduled_jobs::name.eq(name))
            .filter(scheduled_jobs::last_started_at.eq(started_at)),
    )
    .set((
        scheduled_jobs::last_finished_at.eq(Some(now)),
        scheduled_jobs::last_status.eq(status),
        scheduled_jobs::last_message.eq(message),
    ))
    .execute(conn)?;
    Ok(())
}
