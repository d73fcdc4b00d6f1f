//! Client session caches that several contexts can share (`SSL_session_cache`).

use std::fmt;
use std::sync::{Arc, RwLock};

use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::NamedGroup;
use rustls_pki_types::ServerName;

/// A client-side cache of TLS sessions (TLS 1.2 session ids and tickets, TLS 1.3 tickets),
/// filed under `host:port` of the peer or the connection's `session_key`. The handshake gets and adds sessions by itself; [`SessionCache::get`],
/// [`SessionCache::add`] and [`SessionCache::del`] do it by hand (`get_session`,
/// `add_session`, `del_session`), for example to file a session under another key. A session
/// resumes only under the verification that accepted it: contexts built with the same
/// verification policy (trusted CAs, pins, verify mode, hostname scheme and name, callback)
/// and client certificate resume each other's sessions from a shared cache, while a context
/// whose verification differs in anything (or that checks CRLs) does a full handshake.
///
/// ```
/// let cache = sslsock::SessionCache::new(100);
/// let opts = sslsock::Options::new().session_cache(&cache);
/// ```
#[derive(Clone)]
pub struct SessionCache {
    pub(crate) store: Arc<ClientSessionMemoryCache>,
}

impl fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionCache")
    }
}

impl SessionCache {
    /// A cache holding up to `size` sessions.
    pub fn new(size: usize) -> SessionCache {
        SessionCache {
            store: Arc::new(ClientSessionMemoryCache::new(size)),
        }
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
            tls12: self.store.tls12_session(&name),
            tls13: self.store.take_tls13_ticket(&name),
        };
        (session.tls12.is_some() || session.tls13.is_some()).then_some(session)
    }

    /// Files `session` under `key` (`add_session`); the next connection with that
    /// `host:port` or `session_key` offers it.
    pub fn add(&self, key: &str, session: CachedSession) {
        let name = keyed_name(key);
        if let Some(tls12) = session.tls12 {
            self.store.set_tls12_session(name.clone(), tls12);
        }
        if let Some(tls13) = session.tls13 {
            self.store.insert_tls13_ticket(name, tls13);
        }
    }

    /// Forgets the sessions stored under `key` (`del_session`).
    pub fn del(&self, key: &str) {
        let name = keyed_name(key);
        self.store.remove_tls12_session(&name);
        while self.store.take_tls13_ticket(&name).is_some() {}
    }
}

/// A session taken from a [`SessionCache`]: the TLS 1.2 session and the TLS 1.3 ticket
/// stored under one key, opaque apart from what it resumes. It resumes only through a
/// context with the verification that accepted it.
pub struct CachedSession {
    tls12: Option<Tls12ClientSessionValue>,
    tls13: Option<Tls13ClientSessionValue>,
}

impl CachedSession {
    /// The TLS version the session resumes, as `version()` of a socket names it:
    /// `"TLSv1_3"` when it holds a ticket, else `"TLSv1_2"`.
    pub fn version(&self) -> &'static str {
        if self.tls13.is_some() {
            "TLSv1_3"
        } else {
            "TLSv1_2"
        }
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
