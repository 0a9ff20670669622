//! Sign-in rate limits, kept in the database so that every process on it
//! shares them and concurrent attempts cannot slip past: an attempt is
//! claimed (counted) before its password is checked, and a success gives
//! its claim back.
//!
//! Three counters, each with its own rule:
//! - a user name from one address: [`PER_PAIR`] attempts per [`WINDOW`],
//!   then that address waits for the window to pass;
//! - an address, whatever names it tries: [`PER_ADDRESS`] per window;
//! - a user name from anywhere: [`FREE_PER_USER`] attempts, then each one
//!   waits twice as long as the last (1 s, 2 s, 4 s … at most
//!   [`MAX_BACKOFF_SECONDS`]). This slows a guesser spread over many
//!   addresses without locking the user out: the right password from a
//!   clean address gets through after a short wait, and an address the
//!   user signed in from before ([`KNOWN_FOR_DAYS`]) does not wait at all.

use chrono::{Duration, NaiveDateTime};

use crate::db::sign_in_limits::{self, Counter};
use crate::db::{DbConnection, DbError};

/// Attempts allowed per user name from one address within the window.
pub const PER_PAIR: i64 = 5;
/// Attempts allowed per client address within the window.
pub const PER_ADDRESS: i64 = 20;
/// Attempts per user name (from anywhere) before each one must wait.
pub const FREE_PER_USER: i64 = 5;
/// The longest wait between attempts for one user name.
pub const MAX_BACKOFF_SECONDS: i64 = 60;
/// How long a window lasts; a user name's count also ends after this long
/// without attempts.
pub const WINDOW_MINUTES: i64 = 15;
/// How long an address a user signed in from counts as theirs.
pub const KNOWN_FOR_DAYS: i64 = 30;
/// Tries of a compare-and-swap before giving up for a second.
const SWAP_TRIES: usize = 64;

fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Pair,
    Address,
    User,
}

fn key(kind: Kind, user: &str, address: &str) -> String {
    match kind {
        Kind::Pair => format!("pair:{user}|{address}"),
        Kind::Address => format!("address:{address}"),
        Kind::User => format!("user:{user}"),
    }
}

fn known_key(user: &str, address: &str) -> String {
    format!("known:{user}|{address}")
}

/// The wait after the `n`th attempt for one user name.
fn backoff(n: i64) -> Duration {
    if n < FREE_PER_USER {
        return Duration::zero();
    }
    let exp = (n - FREE_PER_USER).min(20) as u32;
    Duration::seconds(2i64.pow(exp).min(MAX_BACKOFF_SECONDS))
}

/// The counter after one more attempt at `now`, or how long to wait.
fn counted(kind: Kind, c: &Counter, now: NaiveDateTime) -> Result<Counter, Duration> {
    match kind {
        Kind::Pair | Kind::Address => {
            let limit = if kind == Kind::Pair {
                PER_PAIR
            } else {
                PER_ADDRESS
            };
            let (attempts, start) = if now >= c.window_start + window() {
                (0, now)
            } else {
                (c.attempts, c.window_start)
            };
            if attempts >= limit {
                return Err(start + window() - now);
            }
            Ok(Counter {
                attempts: attempts + 1,
                window_start: start,
                next_at: now,
                ..c.clone()
            })
        }
        Kind::User => {
            if now < c.next_at {
                return Err(c.next_at - now);
            }
            let quiet = now >= c.next_at + window();
            let (attempts, start) = if quiet {
                (0, now)
            } else {
                (c.attempts, c.window_start)
            };
            Ok(Counter {
                attempts: attempts + 1,
                window_start: start,
                next_at: now + backoff(attempts + 1),
                ..c.clone()
            })
        }
    }
}

/// Counts one attempt on `key`, or says how long to wait.
fn take(
    conn: &mut DbConnection,
    kind: Kind,
    key: &str,
    now: NaiveDateTime,
) -> Result<Result<(), Duration>, DbError> {
    for _ in 0..SWAP_TRIES {
        let current = sign_in_limits::get_or_create(conn, key, now)?;
        match counted(kind, &current, now) {
            Err(wait) => return Ok(Err(wait)),
            Ok(new) => {
                if sign_in_limits::swap(conn, &current, &new)? {
                    return Ok(Ok(()));
                }
            }
        }
    }
    Ok(Err(Duration::seconds(1)))
}

/// Takes one attempt off `key` (a claim given back).
fn give_back(conn: &mut DbConnection, key: &str) -> Result<(), DbError> {
    for _ in 0..SWAP_TRIES {
        let Some(current) = sign_in_limits::get(conn, key)? else {
            return Ok(());
        };
        let new = Counter {
            attempts: (current.attempts - 1).max(0),
            ..current.clone()
        };
        if sign_in_limits::swap(conn, &current, &new)? {
            return Ok(());
        }
    }
    Ok(())
}

/// An attempt that was counted: settle it once the password is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    user: String,
    address: String,
    counted: Vec<Kind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password, then [`settle`] the claim.
    Go(Claim),
    /// Refused before any password is checked: try again after this long.
    Wait(std::time::Duration),
}

/// Whether `user` signed in from `address` within [`KNOWN_FOR_DAYS`].
fn known(
    conn: &mut DbConnection,
    user: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    Ok(sign_in_limits::get(conn, &known_key(user, address))?
        .is_some_and(|c| now - c.window_start < Duration::days(KNOWN_FOR_DAYS)))
}

/// Counts a sign-in attempt by `user` from `address` before its password
/// is checked; refuses it when a limit is reached (nothing is counted then).
pub fn claim(
    conn: &mut DbConnection,
    user: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<Verdict, DbError> {
    let mut kinds = vec![Kind::Pair, Kind::Address];
    if !known(conn, user, address, now)? {
        kinds.push(Kind::User);
    }
    let mut counted = Vec::new();
    for kind in kinds {
        match take(conn, kind, &key(kind, user, address), now)? {
            Ok(()) => counted.push(kind),
            Err(wait) => {
                for k in &counted {
                    give_back(conn, &key(*k, user, address))?;
                }
                let wait = wait.to_std().unwrap_or_default();
                return Ok(Verdict::Wait(wait.max(std::time::Duration::from_secs(1))));
            }
        }
    }
    Ok(Verdict::Go(Claim {
        user: user.to_string(),
        address: address.to_string(),
        counted,
    }))
}

/// Settles a claim: a wrong password stays counted; the right one clears
/// the user name's counts, gives the address its attempt back and
/// remembers the address as the user's.
pub fn settle(
    conn: &mut DbConnection,
    claim: &Claim,
    succeeded: bool,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if !succeeded {
        return Ok(());
    }
    let (user, address) = (&claim.user, &claim.address);
    sign_in_limits::delete(conn, &key(Kind::Pair, user, address))?;
    sign_in_limits::delete(conn, &key(Kind::User, user, address))?;
    if claim.counted.contains(&Kind::Address) {
        give_back(conn, &key(Kind::Address, user, address))?;
    }
    let known = known_key(user, address);
    sign_in_limits::delete(conn, &known)?;
    sign_in_limits::get_or_create(conn, &known, now)?;
    // Housekeeping, on successful sign-ins: counters idle for a day, and
    // addresses not used for longer than they are remembered.
    sign_in_limits::delete_idle(
        conn,
        now - Duration::days(1),
        now - Duration::days(KNOWN_FOR_DAYS),
    )?;
    Ok(())
}

/// "N seconds" or "N minutes" to wait, rounded up.
pub fn wait_text(wait: std::time::Duration) -> String {
    let secs = wait.as_secs().max(1);
    if secs < 90 {
        format!("{secs} second{}", if secs == 1 { "" } else { "s" })
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + s, 0)
            .unwrap()
            .naive_utc()
    }

    fn empty(now: NaiveDateTime) -> Counter {
        Counter {
            key: "k".into(),
            attempts: 0,
            window_start: now,
            next_at: now,
            version: 0,
        }
    }

    #[test]
    fn a_pair_waits_for_its_window_after_the_limit() {
        let mut c = empty(at(0));
        for i in 0..PER_PAIR {
            c = counted(Kind::Pair, &c, at(i)).unwrap();
        }
        assert_eq!(
            counted(Kind::Pair, &c, at(10)),
            Err(window() - Duration::seconds(10))
        );
        // The window passes: counting starts again.
        let fresh = counted(Kind::Pair, &c, at(WINDOW_MINUTES * 60)).unwrap();
        assert_eq!(fresh.attempts, 1);
    }

    #[test]
    fn a_user_name_slows_down_but_is_never_locked_for_long() {
        let mut c = empty(at(0));
        let mut t = 0;
        let mut waits = Vec::new();
        for _ in 0..12 {
            loop {
                match counted(Kind::User, &c, at(t)) {
                    Ok(next) => {
                        c = next;
                        break;
                    }
                    Err(w) => {
                        waits.push(w.num_seconds());
                        t += w.num_seconds();
                    }
                }
            }
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60]);
        assert!(waits.iter().all(|w| *w <= MAX_BACKOFF_SECONDS));
        // Quiet for a window after the last wait: counting starts again.
        let later = c.next_at + window();
        let fresh = counted(Kind::User, &c, later).unwrap();
        assert_eq!(fresh.attempts, 1);
        assert_eq!(fresh.next_at, later, "no wait after a quiet window");
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(wait_text(std::time::Duration::from_secs(1)), "1 second");
        assert_eq!(wait_text(std::time::Duration::from_secs(45)), "45 seconds");
        assert_eq!(wait_text(std::time::Duration::from_secs(899)), "15 minutes");
    }
}
