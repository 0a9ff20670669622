//! The one clock: the time of day (UTC, to the microsecond both backends
//! store), today's date, and a monotonic reading for timeouts and caches.
//!
//! Code with a service's state reads the state's clock (`AppState::clock`),
//! so a test can move time forward instead of sleeping ([`Clock::offset`]);
//! code without one (the CLI, an import) reads [`now`] and [`today`], the
//! system's.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, Timelike, Utc};

/// Real time, plus an offset that only tests move.
#[derive(Debug, Default)]
pub struct Clock {
    offset: Mutex<Duration>,
}

/// A clock shared by everything one service does.
pub type SharedClock = Arc<Clock>;

impl Clock {
    /// The system's clock.
    pub fn system() -> SharedClock {
        Arc::new(Clock::default())
    }

    fn offset_now(&self) -> Duration {
        self.offset.lock().map(|o| *o).unwrap_or_default()
    }

    /// Now, UTC, to the microsecond.
    pub fn now(&self) -> NaiveDateTime {
        let offset = chrono::Duration::from_std(self.offset_now()).unwrap_or_default();
        truncate(Utc::now().naive_utc() + offset)
    }

    pub fn today(&self) -> NaiveDate {
        self.now().date()
    }

    /// A monotonic reading, for how long something has been cached.
    pub fn instant(&self) -> Instant {
        Instant::now() + self.offset_now()
    }

    /// Moves this clock forward (tests: instead of sleeping).
    pub fn offset(&self, by: Duration) {
        if let Ok(mut o) = self.offset.lock() {
            *o += by;
        }
    }
}

fn truncate(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// Now, UTC, to the microsecond (the system's clock).
pub fn now() -> NaiveDateTime {
    truncate(Utc::now().naive_utc())
}

/// Today's date, UTC (the system's clock).
pub fn today() -> NaiveDate {
    now().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_moves_every_reading() {
        let c = Clock::default();
        let (t0, i0) = (c.now(), c.instant());
        assert_eq!(t0.nanosecond() % 1000, 0, "microseconds");
        c.offset(Duration::from_secs(3600));
        assert!(c.now() - t0 >= chrono::Duration::seconds(3600));
        assert!(c.instant() - i0 >= Duration::from_secs(3600));
        assert!(
            now() - t0 < chrono::Duration::seconds(60),
            "the system clock is not moved"
        );
    }
}
