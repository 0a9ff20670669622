//! Rendered answers (pages, API, exports) cached per URL and keyed by the
//! data version: reports only change when data is imported, and every
//! import is an `ingest_runs` row. The version is re-read from the database
//! at most once per `recheck` interval, so an import by another process
//! shows within that interval, and repeated views of the same month in a
//! review meeting cost no database work at all.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::SharedClock;

use super::Payload as Cached;

#[derive(Debug)]
struct Inner {
    version: Option<i64>,
    checked_at: Option<Instant>,
    entries: HashMap<String, Cached>,
    order: VecDeque<String>,
    bytes: usize,
}

#[derive(Debug)]
pub struct ResponseCache {
    inner: Mutex<Inner>,
    /// The results pages are made from, emptied with the pages.
    results: std::sync::Arc<super::shared::SharedResults>,
    clock: SharedClock,
    recheck: Duration,
    max_entries: usize,
    max_bytes: usize,
}

impl ResponseCache {
    pub fn new(
        clock: SharedClock,
        recheck: Duration,
        max_entries: usize,
        max_bytes: usize,
    ) -> ResponseCache {
        ResponseCache {
            clock,
            results: std::sync::Arc::new(super::shared::SharedResults::new(
                super::shared::RESULTS_KEPT,
            )),
            inner: Mutex::new(Inner {
                version: None,
                checked_at: None,
                entries: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            }),
            recheck,
            max_entries,
            max_bytes,
        }
    }

    /// The entry for `key`, if the data version was confirmed recently.
    pub fn get_fresh(&self, key: &str) -> Option<Cached> {
        let inner = self.inner.lock().ok()?;
        let checked = inner.checked_at?;
        if self.clock.instant().saturating_duration_since(checked) > self.recheck {
            return None;
        }
        inner.entries.get(key).cloned()
    }

    /// Records the data version just read; a new version empties the cache.
    pub fn confirm_version(&self, version: Option<i64>) {
        if let Ok(mut inner) = self.inner.lock() {
            if inner.version != version || inner.checked_at.is_none() {
                inner.entries.clear();
                inner.order.clear();
                inner.bytes = 0;
                inner.version = version;
            }
            inner.checked_at = Some(self.clock.instant());
        }
    }

    /// The entry for `key` under the confirmed version.
    pub fn get(&self, key: &str) -> Option<Cached> {
        self.inner.lock().ok()?.entries.get(key).cloned()
    }

    /// Stores an answer made from data at `version` (dropped if the version
    /// moved on meanwhile), evicting the oldest entries beyond the bounds.
    pub fn put(&self, key: String, version: Option<i64>, value: Cached) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.version != version || value.body.len() > self.max_bytes / 4 {
            return;
        }
        if let Some(old) = inner.entries.insert(key.clone(), value.clone()) {
            inner.bytes -= old.body.len();
        } else {
            inner.order.push_back(key);
        }
        inner.bytes += value.body.len();
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(old) = inner.entries.remove(&oldest) {
                inner.bytes -= old.body.len();
            }
        }
    }

    /// The shared results ([`super::shared`]) that go with these pages.
    pub fn results(&self) -> std::sync::Arc<super::shared::SharedResults> {
        self.results.clone()
    }

    /// Forgets everything (after an import or a change made by this
    /// process), the shared results too.
    pub fn invalidate(&self) {
        self.results.clear();
        if let Ok(mut inner) = self.inner.lock() {
            inner.entries.clear();
            inner.order.clear();
            inner.bytes = 0;
            inner.checked_at = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize) -> Cached {
        Cached {
            content_type: "text/plain",
            file_name: None,
            body: vec![b'x'; n].into(),
        }
    }

    #[test]
    fn serves_entries_only_while_the_version_is_confirmed() {
        let clock = crate::clock::Clock::system();
        let c = ResponseCache::new(clock.clone(), Duration::from_secs(1), 10, 1000);
        assert!(c.get_fresh("/a").is_none());
        c.confirm_version(Some(1));
        c.put("/a".into(), Some(1), body(3));
        assert!(c.get_fresh("/a").is_some());
        clock.offset(Duration::from_secs(2));
        assert!(c.get_fresh("/a").is_none(), "stale until re-confirmed");
        c.confirm_version(Some(1));
        assert!(c.get_fresh("/a").is_some(), "same version keeps entries");
        c.confirm_version(Some(2));
        assert!(c.get("/a").is_none(), "a new import empties the cache");
    }

    #[test]
    fn ignores_answers_from_an_older_version_and_bounds_its_size() {
        let c = ResponseCache::new(
            crate::clock::Clock::system(),
            Duration::from_secs(1),
            2,
            1000,
        );
        c.confirm_version(Some(5));
        c.put("/old".into(), Some(4), body(1));
        assert!(c.get("/old").is_none());
        c.put("/1".into(), Some(5), body(1));
        c.put("/2".into(), Some(5), body(1));
        c.put("/3".into(), Some(5), body(1));
        assert!(c.get("/1").is_none(), "oldest evicted");
        assert!(c.get("/3").is_some());
        c.put("/big".into(), Some(5), body(600));
        assert!(c.get("/big").is_none(), "too big to cache");
    }
}
