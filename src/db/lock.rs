//! Work that exactly one process should do at a time (scheduled alert
//! evaluation, scheduled pulls) when several `serve` processes and CLI jobs
//! share one PostgreSQL database: a session-level advisory lock, taken
//! without waiting. On SQLite the database file is one machine's and
//! writes are serialised already, so the lock is always granted; the
//! work itself stays safe to repeat (unique keys, claimed rows).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::{DbConnection, DbError};

/// The locks finops takes, each a fixed 64-bit key.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Lock {
    /// Alert evaluation and delivery.
    Alerts,
}

impl Lock {
    fn key(self) -> i64 {
        // "finops" in ASCII, then a number per lock.
        const BASE: i64 = 0x66_69_6e_6f_70_73_00_00;
        BASE + match self {
            Lock::Alerts => 1,
        }
    }
}

#[derive(QueryableByName)]
struct Granted {
    #[diesel(sql_type = Bool)]
    granted: bool,
}

/// Runs `f` holding `lock`, or returns `Ok(None)` at once when another
/// session holds it. The lock is released however `f` ends.
pub fn with_lock<T, E: From<DbError>>(
    conn: &mut DbConnection,
    lock: Lock,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<Option<T>, E> {
    if let DbConnection::Sqlite(_) = conn {
        return f(conn).map(Some);
    }
    let granted: Granted = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS granted")
        .bind::<BigInt, _>(lock.key())
        .get_result(conn)
        .map_err(DbError::from)?;
    if !granted.granted {
        return Ok(None);
    }
    let result = f(conn);
    let released = diesel::sql_query("SELECT pg_advisory_unlock($1) AS granted")
        .bind::<BigInt, _>(lock.key())
        .get_result::<Granted>(conn);
    if let Err(e) = released {
        tracing::warn!(error = %e, "releasing an advisory lock failed");
    }
    result.map(Some)
}

/// The key of a lock held while one named job runs (a scheduled pull):
/// a 64-bit hash of the name, apart from the fixed [`Lock`] keys.
pub fn job_key(name: &str) -> i64 {
    // FNV-1a, then the top bit cleared and a tag bit set so that no job
    // key equals a fixed lock's.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ((h & 0x3fff_ffff_ffff_ffff) | 0x4000_0000_0000_0000) as i64
}

/// Takes the session-level advisory lock `key` without waiting; `true`
/// when this session now holds it. Held until [`release`] or until the
/// session ends (a process that dies frees it). Always `true` on SQLite.
pub fn try_hold(conn: &mut DbConnection, key: i64) -> Result<bool, DbError> {
    if let DbConnection::Sqlite(_) = conn {
        return Ok(true);
    }
    let granted: Granted = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS granted")
        .bind::<BigInt, _>(key)
        .get_result(conn)?;
    Ok(granted.granted)
}

/// Releases a lock taken with [`try_hold`] (logged if it fails).
pub fn release(conn: &mut DbConnection, key: i64) {
    if let DbConnection::Sqlite(_) = conn {
        return;
    }
    if let Err(e) = diesel::sql_query("SELECT pg_advisory_unlock($1) AS granted")
        .bind::<BigInt, _>(key)
        .get_result::<Granted>(conn)
    {
        tracing::warn!(error = %e, "releasing an advisory lock failed");
    }
}
