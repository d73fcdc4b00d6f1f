//! `SSL_ocsp_cache`: verified OCSP statuses, kept until they stop being current.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::{CertId, CertStatus, VerifiedStatus};

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
    /// The application's store ([`OcspCache::with_store`]), which then holds the statuses.
    external: Option<Arc<dyn OcspStore>>,
}

/// An OCSP cache the application provides (IO::Socket::SSL's cache object with `get` and
/// `put`), for example one shared between processes. Use it with
/// [`OcspCache::with_store`]. sslsock keeps its own rules in front of it: a status is used
/// only while it is current (nextUpdate not passed), and a newer status or a revocation is
/// never replaced by an older or a "good" one.
pub trait OcspStore: Send + Sync {
    /// The status kept for `id`, if any (current or not: sslsock checks).
    fn get(&self, id: &CertId) -> Option<VerifiedStatus>;
    /// Keeps `status` for `id`, replacing what was there.
    fn put(&self, id: CertId, status: VerifiedStatus);
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
            external: None,
        }
    }

    /// A cache whose statuses live in `store`, the application's.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::{Arc, Mutex};
    /// use sslsock::ocsp::{CertId, OcspCache, OcspStore, VerifiedStatus};
    ///
    /// #[derive(Default)]
    /// struct MyStore(Mutex<HashMap<CertId, VerifiedStatus>>);
    ///
    /// impl OcspStore for MyStore {
    ///     fn get(&self, id: &CertId) -> Option<VerifiedStatus> {
    ///         self.0.lock().unwrap().get(id).cloned()
    ///     }
    ///     fn put(&self, id: CertId, status: VerifiedStatus) {
    ///         self.0.lock().unwrap().insert(id, status);
    ///     }
    /// }
    ///
    /// let opts = sslsock::Options::new()
    ///     .ocsp_cache(OcspCache::with_store(Arc::new(MyStore::default())));
    /// ```
    pub fn with_store(store: Arc<dyn OcspStore>) -> OcspCache {
        OcspCache {
            external: Some(store),
            ..OcspCache::new(1)
        }
    }

    /// The status for `id`, when one is cached and still current at `now`.
    pub fn get(&self, id: &CertId, now: SystemTime) -> Option<VerifiedStatus> {
        if let Some(external) = &self.external {
            return external.get(id).filter(|s| s.valid_until >= now);
        }
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

    /// Keeps `status` for `id`, unless it is no longer current at `now`, or the cache holds
    /// a current status that it must not replace: a newer one (by thisUpdate), or a
    /// revocation (other than certificateHold), which no "good" undoes.
    pub fn put(&self, id: CertId, status: VerifiedStatus, now: SystemTime) {
        self.keep(id, status, now);
    }

    /// [`put`](Self::put), and the status that stands for `id` afterwards: `status`, or the
    /// cached one that it did not replace.
    pub(crate) fn keep(
        &self,
        id: CertId,
        status: VerifiedStatus,
        now: SystemTime,
    ) -> VerifiedStatus {
        if status.valid_until < now {
            return status;
        }
        if let Some(external) = &self.external {
            // One lock cannot span the application's get and put: two answers arriving at
            // once may both be put, the later put winning; each was verified.
            if let Some(old) = self.get(&id, now).filter(|old| !replaces(&status, old)) {
                return old;
            }
            external.put(id, status.clone());
            return status;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return status;
        };
        if let Some(old) = inner.entries.get(&id).filter(|o| o.valid_until >= now) {
            if !replaces(&status, old) {
                return old.clone();
            }
        }
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
        inner.entries.insert(id, status.clone());
        status
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

    /// How many statuses are held (current or not yet dropped); 0 when the application's
    /// store holds them.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.entries.len())
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `new` may replace the current `old`: not when it is older (by thisUpdate), nor
/// when `old` is a revocation (other than certificateHold) that a "good" would undo.
fn replaces(new: &VerifiedStatus, old: &VerifiedStatus) -> bool {
    let older = new.this_update < old.this_update;
    let unrevokes =
        old.status.is_permanently_revoked() && !matches!(new.status, CertStatus::Revoked { .. });
    !(older || unrevokes)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::ocsp::{CertStatus, HashAlgorithm};

    fn id(n: u8) -> CertId {
        CertId {
            hash: HashAlgorithm::Sha1,
            issuer_name_hash: vec![1; 20],
            issuer_key_hash: vec![2; 20],
            serial: vec![n],
        }
    }

    fn status(until: SystemTime) -> VerifiedStatus {
        VerifiedStatus {
            status: CertStatus::Good,
            this_update: until - Duration::from_secs(60),
            next_update: Some(until),
            valid_until: until,
            responder: "/CN=r".into(),
            subject: "/CN=s".into(),
            serial: "01".into(),
        }
    }

    #[test]
    fn entries_last_until_next_update_and_no_longer() {
        let now = SystemTime::now();
        let cache = OcspCache::new(4);
        cache.put(id(1), status(now + Duration::from_secs(600)), now);
        // Fresh entries are kept (not dropped while current).
        assert!(cache.get(&id(1), now + Duration::from_secs(599)).is_some());
        assert!(cache.get(&id(1), now + Duration::from_secs(601)).is_none());
        assert!(cache.is_empty(), "an out-of-date entry is dropped when met");
        // An entry already out of date is not kept.
        cache.put(id(2), status(now - Duration::from_secs(1)), now);
        assert!(cache.is_empty());
    }

    fn with(status: CertStatus, this_update: SystemTime) -> VerifiedStatus {
        VerifiedStatus {
            status,
            this_update,
            ..self::status(this_update + Duration::from_secs(3600))
        }
    }

    fn revoked(reason: &str) -> CertStatus {
        CertStatus::Revoked {
            time: SystemTime::UNIX_EPOCH,
            reason: Some(reason.into()),
        }
    }

    /// An application's store: a plain map, no rules of its own.
    #[derive(Default)]
    struct MapStore(Mutex<HashMap<CertId, VerifiedStatus>>);

    impl OcspStore for MapStore {
        fn get(&self, id: &CertId) -> Option<VerifiedStatus> {
            self.0.lock().unwrap().get(id).cloned()
        }
        fn put(&self, id: CertId, status: VerifiedStatus) {
            self.0.lock().unwrap().insert(id, status);
        }
    }

    #[test]
    fn the_newest_status_stands_and_good_never_undoes_a_revocation() {
        newest_stands_and_good_never_undoes(OcspCache::new(4));
    }

    /// The same rules hold in front of an application's store, and an entry past its
    /// nextUpdate in the store is not used.
    #[test]
    fn an_application_store_gets_the_same_rules() {
        let store = Arc::new(MapStore::default());
        newest_stands_and_good_never_undoes(OcspCache::with_store(store.clone()));
        let now = SystemTime::now();
        let stale = status(now - Duration::from_secs(1));
        store.put(id(9), stale.clone());
        let cache = OcspCache::with_store(store);
        assert!(cache.get(&id(9), now).is_none());
        assert!(cache.get(&id(9), now - Duration::from_secs(2)).is_some());
    }

    fn newest_stands_and_good_never_undoes(cache: OcspCache) {
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        // A revocation, then an older "good" (a replayed staple): the revocation stands.
        cache.put(id(1), with(revoked("keyCompromise"), now), now);
        let stood = cache.keep(id(1), with(CertStatus::Good, now - hour), now);
        assert!(matches!(stood.status, CertStatus::Revoked { .. }));
        assert!(matches!(
            cache.get(&id(1), now).unwrap().status,
            CertStatus::Revoked { .. }
        ));
        // Not even a newer "good" undoes it.
        cache.put(
            id(1),
            with(CertStatus::Good, now + Duration::from_secs(60)),
            now,
        );
        assert!(matches!(
            cache.get(&id(1), now).unwrap().status,
            CertStatus::Revoked { .. }
        ));
        // A hold is lifted by a newer "good", not by an older one.
        cache.put(id(2), with(revoked("certificateHold"), now), now);
        cache.put(id(2), with(CertStatus::Good, now - hour), now);
        assert!(matches!(
            cache.get(&id(2), now).unwrap().status,
            CertStatus::Revoked { .. }
        ));
        cache.put(
            id(2),
            with(CertStatus::Good, now + Duration::from_secs(60)),
            now,
        );
        assert_eq!(cache.get(&id(2), now).unwrap().status, CertStatus::Good);
        // Between two "good" answers the newer stands.
        cache.put(id(3), with(CertStatus::Good, now), now);
        cache.put(id(3), with(CertStatus::Good, now - hour), now);
        assert_eq!(cache.get(&id(3), now).unwrap().this_update, now);
    }

    #[test]
    fn full_cache_drops_what_expires_soonest() {
        let now = SystemTime::now();
        let cache = OcspCache::new(2);
        cache.put(id(1), status(now + Duration::from_secs(100)), now);
        cache.put(id(2), status(now + Duration::from_secs(300)), now);
        cache.put(id(3), status(now + Duration::from_secs(200)), now);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&id(1), now).is_none());
        assert!(cache.get(&id(2), now).is_some() && cache.get(&id(3), now).is_some());
        // Shared by clones.
        let other = cache.clone();
        other.put(id(4), status(now + Duration::from_secs(400)), now);
        assert!(cache.get(&id(4), now).is_some());
    }
}
