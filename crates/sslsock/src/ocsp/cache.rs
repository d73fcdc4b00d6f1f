//! `SSL_ocsp_cache`: verified OCSP statuses, kept until they stop being current.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::{CertId, VerifiedStatus};

/// A bounded cache of verified OCSP statuses keyed by [`CertId`]. An entry is used until its
/// `valid_until` (nextUpdate) passes; when full, expired entries go first, then those that
/// expire soonest. Cloning shares the cache: give one to several contexts with
/// [`crate::Options::ocsp_cache`]; contexts given none share
/// [`OcspCache::process_default`].
///
/// ```
/// use sslsock::{ocsp::OcspCache, Options};
/// let cache = OcspCache::new(1000);
/// let a = Options::new().ocsp_cache(cache.clone());
/// let b = Options::new().ocsp_cache(cache);
/// ```
#[derive(Clone)]
pub struct OcspCache {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    capacity: usize,
    entries: HashMap<CertId, VerifiedStatus>,
}

impl fmt::Debug for OcspCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcspCache")
            .field("len", &self.len())
            .finish()
    }
}

impl Default for OcspCache {
    fn default() -> OcspCache {
        OcspCache::new(super::DEFAULT_CACHE_SIZE)
    }
}

impl OcspCache {
    /// A cache of at most `capacity` statuses (at least one).
    pub fn new(capacity: usize) -> OcspCache {
        OcspCache {
            inner: Arc::new(Mutex::new(Inner {
                capacity: capacity.max(1),
                entries: HashMap::new(),
            })),
        }
    }

    /// The status for `id`, when one is cached and still current at `now`.
    pub fn get(&self, id: &CertId, now: SystemTime) -> Option<VerifiedStatus> {
        let mut inner = self.inner.lock().ok()?;
        match inner.entries.get(id) {
            Some(s) if s.valid_until >= now => Some(s.clone()),
            Some(_) => {
                inner.entries.remove(id);
                None
            }
            None => None,
        }
    }

    /// Keeps `status` for `id`, unless it is no longer current at `now`.
    pub fn put(&self, id: CertId, status: VerifiedStatus, now: SystemTime) {
        if status.valid_until < now {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if !inner.entries.contains_key(&id) && inner.entries.len() >= inner.capacity {
            inner.entries.retain(|_, s| s.valid_until >= now);
            if inner.entries.len() >= inner.capacity {
                let soonest = inner
                    .entries
                    .iter()
                    .min_by_key(|(_, s)| s.valid_until)
                    .map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    inner.entries.remove(&k);
                }
            }
        }
        inner.entries.insert(id, status);
    }

    /// The process-wide cache, used by contexts given none.
    pub fn process_default() -> OcspCache {
        static DEFAULT: std::sync::LazyLock<OcspCache> =
            std::sync::LazyLock::new(OcspCache::default);
        DEFAULT.clone()
    }

    /// Identifies the shared cache (equal for clones).
    pub(crate) fn identity(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// How many statuses are held (current or not yet dropped).
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.entries.len())
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
