//! Client session caches that several contexts can share (`SSL_session_cache`).

use std::fmt;
use std::sync::{Arc, RwLock};

use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::NamedGroup;
use rustls_pki_types::ServerName;

/// A client-side cache of TLS sessions (TLS 1.2 session ids and tickets, TLS 1.3 tickets),
/// filed under `host:port` of the peer or the connection's `session_key`. Sessions are
/// opaque: the handshake gets and adds them, [`SessionCache::del`] forgets them. A session
/// resumes only under the verification that accepted it:
/// connections of one [`crate::SslContext`] (and its clones) resume from the cache, while
/// another context, with verification of its own, does a full handshake even when it
/// shares the cache.
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

    /// Forgets the sessions stored under `key` (`del_session`): `host:port`, or the
    /// `session_key` of the connections. Sessions are opaque; the handshake itself gets and
    /// adds them.
    pub fn del(&self, key: &str) {
        let name = keyed_name(key);
        self.store.remove_tls12_session(&name);
        while self.store.take_tls13_ticket(&name).is_some() {}
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
