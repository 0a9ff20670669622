//! Login rate limiting: failed sign-ins are counted per user name and per
//! client address over a sliding window; past the limit, sign-in is refused
//! (before any password is checked) until the oldest failure leaves the
//! window. A successful sign-in clears the user name's count.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per user name within the window.
pub const PER_USER: usize = 5;
/// Failures allowed per client address within the window.
pub const PER_ADDRESS: usize = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys tracked at most; the oldest are dropped beyond this.
const MAX_KEYS: usize = 10_000;

/// Whole minutes to tell someone to wait (at least 1).
pub fn minutes(wait: Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

fn user_key(user: &str) -> String {
    format!("u:{user}")
}

fn address_key(address: &str) -> String {
    format!("a:{address}")
}

impl LoginThrottle {
    pub fn new() -> LoginThrottle {
        LoginThrottle::default()
    }

    /// `Some(wait)` when `user` from `address` must wait before trying again.
    pub fn blocked(&self, user: &str, address: &str, now: Instant) -> Option<Duration> {
        let Ok(mut map) = self.failures.lock() else {
            return None;
        };
        let mut wait = None;
        for (key, limit) in [
            (user_key(user), PER_USER),
            (address_key(address), PER_ADDRESS),
        ] {
            if let Some(times) = map.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= WINDOW)
                {
                    times.pop_front();
                }
                if times.len() >= limit {
                    if let Some(first) = times.front() {
                        let left = WINDOW.saturating_sub(now.duration_since(*first));
                        wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                    }
                }
            }
        }
        wait
    }

    pub fn failed(&self, user: &str, address: &str, now: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        for key in [user_key(user), address_key(address)] {
            map.entry(key).or_default().push_back(now);
        }
    }

    pub fn succeeded(&self, user: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&user_key(user));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let t = LoginThrottle::new();
        let start = Instant::now();
        for i in 0..PER_USER {
            assert_eq!(t.blocked("ana", "10.0.0.1", start), None, "attempt {i}");
            t.failed("ana", "10.0.0.1", start + Duration::from_secs(i as u64));
        }
        let wait = t.blocked("ana", "10.0.0.1", start + Duration::from_secs(10));
        assert_eq!(wait, Some(WINDOW - Duration::from_secs(10)));
        assert_eq!(minutes(WINDOW - Duration::from_secs(10)), 15);
        assert_eq!(minutes(Duration::from_secs(1)), 1);
        // Another user from the same address is not blocked yet.
        assert_eq!(t.blocked("bo", "10.0.0.1", start), None);
        // The window slides: the first failure has left it.
        assert_eq!(t.blocked("ana", "10.0.0.1", start + WINDOW), None);
        t.succeeded("ana");
        assert_eq!(
            t.blocked("ana", "10.0.0.1", start + Duration::from_secs(10)),
            None
        );
    }

    #[test]
    fn an_address_guessing_many_names_is_blocked() {
        let t = LoginThrottle::new();
        let now = Instant::now();
        for i in 0..PER_ADDRESS {
            t.failed(&format!("user{i}"), "10.0.0.9", now);
        }
        assert!(t.blocked("someone-new", "10.0.0.9", now).is_some());
        assert!(t.blocked("someone-new", "10.0.0.8", now).is_none());
    }
}
