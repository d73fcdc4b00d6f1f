//! Client session caches that several contexts can share (`SSL_session_cache`).

#[cfg(feature = "openssl")]
use std::collections::HashMap;
use std::fmt;
#[cfg(feature = "openssl")]
use std::sync::Mutex;
use std::sync::{Arc, RwLock};

pub use crate::session::SessionCache;

use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::NamedGroup;
use rustls_pki_types::ServerName;

/// The engine's side of [`SessionCache`]: the cache is the engine's store behind an opaque
/// handle, so that options can hold one without naming the engine.
impl SessionCache {
    /// A cache holding up to `size` sessions.
    pub fn new(size: usize) -> SessionCache {
        let store: Arc<Stores> = Arc::new(Stores {
            memory: Arc::new(ClientSessionMemoryCache::new(size)),
            #[cfg(feature = "openssl")]
            encoded: Mutex::new(Encoded {
                size,
                sessions: HashMap::new(),
                order: std::collections::VecDeque::new(),
            }),
        });
        SessionCache { store }
    }

    fn stores(&self) -> Arc<Stores> {
        self.store
            .clone()
            .downcast()
            .expect("a SessionCache is made only by SessionCache::new")
    }

    /// The default engine's store.
    pub(crate) fn memory(&self) -> Arc<ClientSessionMemoryCache> {
        self.stores().memory.clone()
    }

    /// The openssl engine's session (DER) stored under `key` for connections verified by
    /// `policy`; a TLS 1.3 one leaves the cache (single-use).
    #[cfg(feature = "openssl")]
    pub(crate) fn encoded(&self, key: &str, policy: &[u8]) -> Option<Vec<u8>> {
        let stores = self.stores();
        let mut encoded = lock(&stores.encoded);
        let (p, der, single_use) = encoded.sessions.get(key)?;
        if p != policy {
            return None;
        }
        let der = der.clone();
        if *single_use {
            encoded.remove(key);
        }
        Some(der)
    }

    /// Files the openssl engine's session `der` under `key`, for connections verified by
    /// `policy`.
    #[cfg(feature = "openssl")]
    pub(crate) fn add_encoded(&self, key: &str, session: EncodedSession) {
        let stores = self.stores();
        lock(&stores.encoded).insert(key, session);
    }

    /// Takes the session stored under `key` (`get_session`): `host:port`, or the
    /// `session_key` of the connections; `None` when there is none.
    ///
    /// A TLS 1.2 session stays in the cache (it may be resumed again); a TLS 1.3 ticket is
    /// single-use (RFC 8446, section C.4), so it leaves the cache with the returned
    /// [`CachedSession`] and comes back only through [`SessionCache::add`].
    ///
    /// ```
    /// let cache = sslsock::SessionCache::new(10);
    /// assert!(cache.get("example.org:443").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<CachedSession> {
        let name = keyed_name(key);
        let session = CachedSession {
            tls12: self.memory().tls12_session(&name),
            tls13: self.memory().take_tls13_ticket(&name),
            #[cfg(feature = "openssl")]
            encoded: {
                let stores = self.stores();
                let mut encoded = lock(&stores.encoded);
                let found = encoded.sessions.get(key).cloned();
                if found.as_ref().is_some_and(|(_, _, single_use)| *single_use) {
                    encoded.remove(key);
                }
                found
            },
        };
        session.holds_any().then_some(session)
    }

    /// Files `session` under `key` (`add_session`); the next connection with that
    /// `host:port` or `session_key` offers it.
    pub fn add(&self, key: &str, session: CachedSession) {
        let name = keyed_name(key);
        if let Some(tls12) = session.tls12 {
            self.memory().set_tls12_session(name.clone(), tls12);
        }
        if let Some(tls13) = session.tls13 {
            self.memory().insert_tls13_ticket(name, tls13);
        }
        #[cfg(feature = "openssl")]
        if let Some(encoded) = session.encoded {
            self.add_encoded(key, encoded);
        }
    }

    /// Forgets the sessions stored under `key` (`del_session`).
    pub fn del(&self, key: &str) {
        let name = keyed_name(key);
        self.memory().remove_tls12_session(&name);
        while self.memory().take_tls13_ticket(&name).is_some() {}
        #[cfg(feature = "openssl")]
        lock(&self.stores().encoded).remove(key);
    }
}

/// What a [`SessionCache`] holds: the default engine's sessions and, with the openssl
/// engine built in, that engine's (encoded, by key and verification policy).
struct Stores {
    memory: Arc<ClientSessionMemoryCache>,
    #[cfg(feature = "openssl")]
    encoded: Mutex<Encoded>,
}

/// An openssl engine session: the digest of the verification policy that accepted it, the
/// session in DER, and whether it is single-use (a TLS 1.3 ticket).
#[cfg(feature = "openssl")]
pub(crate) type EncodedSession = (Vec<u8>, Vec<u8>, bool);

/// The openssl engine's sessions by key, the oldest dropped first beyond `size`.
#[cfg(feature = "openssl")]
struct Encoded {
    size: usize,
    sessions: HashMap<String, EncodedSession>,
    order: std::collections::VecDeque<String>,
}

#[cfg(feature = "openssl")]
impl Encoded {
    fn insert(&mut self, key: &str, session: EncodedSession) {
        if self.size == 0 {
            return;
        }
        if self.sessions.insert(key.to_owned(), session).is_none() {
            self.order.push_back(key.to_owned());
        }
        while self.sessions.len() > self.size {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            self.sessions.remove(&oldest);
        }
    }

    fn remove(&mut self, key: &str) {
        if self.sessions.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
}

#[cfg(feature = "openssl")]
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A session taken from a [`SessionCache`]: the TLS 1.2 session and the TLS 1.3 ticket
/// stored under one key, opaque apart from what it resumes. It resumes only through a
/// context with the verification that accepted it.
pub struct CachedSession {
    tls12: Option<Tls12ClientSessionValue>,
    tls13: Option<Tls13ClientSessionValue>,
    #[cfg(feature = "openssl")]
    encoded: Option<EncodedSession>,
}

impl CachedSession {
    /// The TLS version the session resumes, as `version()` of a socket names it:
    /// `"TLSv1_3"` when it holds a ticket, else `"TLSv1_2"`.
    pub fn version(&self) -> &'static str {
        #[cfg(feature = "openssl")]
        let encoded_tls13 = self.encoded.as_ref().is_some_and(|(_, _, single)| *single);
        #[cfg(not(feature = "openssl"))]
        let encoded_tls13 = false;
        if self.tls13.is_some() || encoded_tls13 {
            "TLSv1_3"
        } else {
            "TLSv1_2"
        }
    }

    fn holds_any(&self) -> bool {
        #[cfg(feature = "openssl")]
        if self.encoded.is_some() {
            return true;
        }
        self.tls12.is_some() || self.tls13.is_some()
    }
}

impl fmt::Debug for CachedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedSession")
            .field("tls12", &self.tls12.is_some())
            .field("tls13", &self.tls13.is_some())
            .finish()
    }
}

/// The name sessions are filed under for `key`: a valid DNS name derived from it, as the
/// engine files sessions by server name.
pub(crate) fn keyed_name(key: &str) -> ServerName<'static> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ServerName::try_from(format!("s{hex}.session.invalid")).unwrap_or(ServerName::IpAddress(
        std::net::Ipv4Addr::UNSPECIFIED.into(),
    ))
}

/// Files every session of a connection under its key (`host:port` or `session_key`)
/// instead of the server name.
#[derive(Debug)]
pub(crate) struct KeyedStore {
    pub(crate) inner: Arc<dyn ClientSessionStore>,
    pub(crate) key: ServerName<'static>,
}

impl ClientSessionStore for KeyedStore {
    fn set_kx_hint(&self, _: ServerName<'static>, group: NamedGroup) {
        self.inner.set_kx_hint(self.key.clone(), group);
    }
    fn kx_hint(&self, _: &ServerName<'_>) -> Option<NamedGroup> {
        self.inner.kx_hint(&self.key)
    }
    fn set_tls12_session(&self, _: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.inner.set_tls12_session(self.key.clone(), value);
    }
    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.inner.tls12_session(&self.key)
    }
    fn remove_tls12_session(&self, _: &ServerName<'static>) {
        self.inner.remove_tls12_session(&self.key);
    }
    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.inner.insert_tls13_ticket(self.key.clone(), value);
    }
    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.inner.take_tls13_ticket(&self.key)
    }
}

static DEFAULT: RwLock<Option<SessionCache>> = RwLock::new(None);

/// Sets the cache used by contexts that name none (`set_default_session_cache`); `None`
/// returns to one cache per context.
pub fn set_default_session_cache(cache: Option<SessionCache>) {
    if let Ok(mut g) = DEFAULT.write() {
        *g = cache;
    }
}

pub(crate) fn default_session_cache() -> Option<SessionCache> {
    DEFAULT.read().ok().and_then(|g| g.clone())
}
