//! Results that do not depend on who asks (forecasts, capacity plans,
//! scenario comparisons, recommendations), computed once per data version
//! and shared by every user and request. The response cache holds whole
//! pages per user (a page shows its viewer's name and what their role may
//! do); this holds what those pages are made from, so the second person
//! in a meeting does not wait for the forecast the first one already
//! waited for.
//!
//! Two requests for the same result at once compute it once: the second
//! waits for the first. A new data version empties the store.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

type Entry = Arc<dyn Any + Send + Sync>;

/// Results kept per data version (each a forecast, plan, comparison or
/// review for one set of parameters).
pub const RESULTS_KEPT: usize = 64;

#[derive(Default)]
struct Inner {
    version: Option<Option<i64>>,
    entries: HashMap<String, Entry>,
    order: VecDeque<String>,
    /// One lock per result being computed.
    computing: HashMap<String, Arc<Mutex<()>>>,
}

pub struct SharedResults {
    inner: Mutex<Inner>,
    max_entries: usize,
}

impl std::fmt::Debug for SharedResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.inner.lock().map(|i| i.entries.len()).unwrap_or(0);
        f.debug_struct("SharedResults")
            .field("held", &held)
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

impl SharedResults {
    pub fn new(max_entries: usize) -> SharedResults {
        SharedResults {
            inner: Mutex::new(Inner::default()),
            max_entries: max_entries.max(1),
        }
    }

    /// The store as seen at data `version`.
    pub fn at(self: &Arc<Self>, version: Option<i64>) -> Shared {
        Shared {
            results: self.clone(),
            version,
        }
    }

    /// Forgets everything (after a change made through this process that
    /// may not move the data version).
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.entries.clear();
            inner.order.clear();
        }
    }

    fn lookup(&self, key: &str, version: Option<i64>) -> Option<Entry> {
        let mut inner = self.inner.lock().ok()?;
        match inner.version {
            Some(seen) if seen == version => inner.entries.get(key).cloned(),
            // A request that read the version before an import: not
            // served newer results, and its own are not kept.
            Some(seen) if seen > version => None,
            _ => {
                inner.entries.clear();
                inner.order.clear();
                inner.version = Some(version);
                None
            }
        }
    }

    fn store(&self, key: String, version: Option<i64>, value: Entry) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.version != Some(version) {
            return;
        }
        if inner.entries.insert(key.clone(), value).is_none() {
            inner.order.push_back(key);
        }
        while inner.entries.len() > self.max_entries {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.entries.remove(&oldest);
        }
    }

    fn key_lock(&self, key: &str) -> Option<Arc<Mutex<()>>> {
        let mut inner = self.inner.lock().ok()?;
        Some(
            inner
                .computing
                .entry(key.to_string())
                .or_insert_with(|| Arc::new(Mutex::new(())))
                .clone(),
        )
    }

    fn release(&self, key: &str, lock: &Arc<Mutex<()>>) {
        if let Ok(mut inner) = self.inner.lock() {
            // Only this call and the map hold it: nobody else is waiting.
            if Arc::strong_count(lock) <= 2 {
                inner.computing.remove(key);
            }
        }
    }
}

/// The shared results at one data version.
#[derive(Clone)]
pub struct Shared {
    results: Arc<SharedResults>,
    version: Option<i64>,
}

impl Shared {
    /// The result stored under `key` at this data version, or `compute`'s
    /// (stored when it succeeds). `key` must name everything the result
    /// depends on besides the data: what it is and its parameters.
    pub fn get_or_compute<T, E>(
        &self,
        key: &str,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
    {
        let found = |entry: Entry| entry.downcast::<T>().ok();
        if let Some(hit) = self.results.lookup(key, self.version).and_then(found) {
            return Ok(hit);
        }
        let lock = self.results.key_lock(key);
        let guard = lock.as_ref().map(|l| l.lock());
        // Someone else may have computed it while this waited.
        let result = match self.results.lookup(key, self.version).and_then(found) {
            Some(hit) => Ok(hit),
            None => compute().map(|value| {
                let value = Arc::new(value);
                self.results
                    .store(key.to_string(), self.version, value.clone());
                value
            }),
        };
        drop(guard);
        if let Some(lock) = &lock {
            self.results.release(key, lock);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_result_is_computed_once_per_version_and_shared() {
        let results = Arc::new(SharedResults::new(8));
        let calls = AtomicUsize::new(0);
        let compute = || -> Result<usize, ()> { Ok(calls.fetch_add(1, Ordering::SeqCst) + 1) };
        let at1 = results.at(Some(1));
        assert_eq!(*at1.get_or_compute("f", compute).unwrap(), 1);
        assert_eq!(*at1.get_or_compute("f", compute).unwrap(), 1);
        // Another key, then a new version: computed again.
        assert_eq!(*at1.get_or_compute("g", compute).unwrap(), 2);
        let at2 = results.at(Some(2));
        assert_eq!(*at2.get_or_compute("f", compute).unwrap(), 3);
        // A failure is not stored.
        let failed: Result<Arc<usize>, &str> = at2.get_or_compute("h", || Err("no"));
        assert!(failed.is_err());
        assert_eq!(*at2.get_or_compute("h", compute).unwrap(), 4);
        // A request at an older version is neither served the newer
        // results nor keeps its own, and does not empty the store.
        assert_eq!(*at1.get_or_compute("f", compute).unwrap(), 5);
        assert_eq!(*at1.get_or_compute("f", compute).unwrap(), 6);
        assert_eq!(*at2.get_or_compute("f", compute).unwrap(), 3);
    }

    #[test]
    fn concurrent_requests_compute_once() {
        let results = Arc::new(SharedResults::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (results, calls) = (results.clone(), calls.clone());
                std::thread::spawn(move || {
                    let shared = results.at(Some(7));
                    *shared
                        .get_or_compute("slow", || -> Result<usize, ()> {
                            calls.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(100));
                            Ok(42)
                        })
                        .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), 42);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_store_is_bounded() {
        let results = Arc::new(SharedResults::new(2));
        let shared = results.at(None);
        for k in ["a", "b", "c"] {
            shared.get_or_compute(k, || Ok::<_, ()>(1)).unwrap();
        }
        let inner = results.inner.lock().unwrap();
        assert_eq!(inner.entries.len(), 2);
        assert!(!inner.entries.contains_key("a"));
    }
}
