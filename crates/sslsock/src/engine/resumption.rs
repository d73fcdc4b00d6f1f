//! Client session caches that several contexts can share (`SSL_session_cache`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::session::SessionCache;

use pki_types::ServerName;
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::NamedGroup;

/// The engine's side of [`SessionCache`]: the cache is the engine's store behind an opaque
/// handle, so that options can hold one without naming the engine.
impl SessionCache {
    /// A cache holding up to `size` sessions.
    pub fn new(size: usize) -> SessionCache {
        Self::made(ClientStore::new(size), size)
    }

    /// A cache whose sessions live in `store`, the application's (Perl's cache object with
    /// `get_session`, `add_session` and `del_session`): every session a connection gets is
    /// added there under the connection's key, and every connection asks it for one. A
    /// session it hands back is offered only to a connection checking the name the session
    /// was verified for ([`CachedSession::verified_name`]), through the engine that made it.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::{Arc, Mutex};
    /// use sslsock::{CachedSession, SessionCache, SessionStore};
    ///
    /// #[derive(Default)]
    /// struct MyStore(Mutex<HashMap<String, CachedSession>>);
    ///
    /// impl SessionStore for MyStore {
    ///     fn get_session(&self, key: &str) -> Option<CachedSession> {
    ///         self.0.lock().unwrap().remove(key)
    ///     }
    ///     fn add_session(&self, key: &str, session: CachedSession) {
    ///         self.0.lock().unwrap().insert(key.to_owned(), session);
    ///     }
    ///     fn del_session(&self, key: &str) {
    ///         self.0.lock().unwrap().remove(key);
    ///     }
    /// }
    ///
    /// let cache = SessionCache::with_store(Arc::new(MyStore::default()));
    /// let opts = sslsock::Options::new().session_cache(&cache);
    /// ```
    pub fn with_store(store: Arc<dyn SessionStore>) -> SessionCache {
        let mut memory = ClientStore::new(TRANSIT_SIZE);
        memory.external = Some(store);
        Self::made(memory, TRANSIT_SIZE)
    }

    /// A cache around `memory`; `size` bounds the openssl engine's sessions too.
    #[cfg_attr(not(feature = "openssl"), allow(unused_variables))]
    fn made(memory: ClientStore, size: usize) -> SessionCache {
        let store: Arc<Stores> = Arc::new(Stores {
            memory: Arc::new(memory),
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
    pub(crate) fn memory(&self) -> Arc<ClientStore> {
        self.stores().memory.clone()
    }

    /// The openssl engine's session (DER) in `slot` for connections verified by `policy`; a
    /// TLS 1.3 one leaves the cache (single-use).
    #[cfg(feature = "openssl")]
    pub(crate) fn encoded(&self, slot: &Slot, policy: &[u8]) -> Option<Vec<u8>> {
        let stores = self.stores();
        if let Some(external) = &stores.memory.external {
            // The application's store: a session verified for this name under this policy;
            // what may be resumed again, and what is not for this connection, goes back.
            let (key, name) = slot.key_and_name();
            let session = external.get_session(key)?;
            let fits = |(p, _, _): &&EncodedSession| session.name == name && p == policy;
            let der = session.encoded.as_ref().filter(fits).map(|e| e.1.clone());
            let single_use = session.encoded.as_ref().is_some_and(|e| e.2);
            if der.is_none() || !single_use {
                external.add_session(key, session);
            }
            return der;
        }
        let mut encoded = lock(&stores.encoded);
        let (p, der, single_use) = encoded.sessions.get(slot.as_str())?;
        if p != policy {
            return None;
        }
        let der = der.clone();
        if *single_use {
            encoded.remove(slot.as_str());
        }
        Some(der)
    }

    /// Files the openssl engine's session in `slot`, for connections verified by `policy`.
    #[cfg(feature = "openssl")]
    pub(crate) fn add_encoded(&self, slot: &Slot, session: EncodedSession) {
        let stores = self.stores();
        if let Some(external) = &stores.memory.external {
            // The application's store holds it; nothing stays here.
            let (key, name) = slot.key_and_name();
            let session = CachedSession {
                tls12: None,
                tls13: None,
                encoded: Some(session),
                name: name.to_owned(),
            };
            external.add_session(key, session);
            return;
        }
        stores.memory.note(slot);
        lock(&stores.encoded).insert(slot.as_str(), session);
    }

    /// Takes the session stored under `key` (`get_session`): `host:port`, or the
    /// `session_key` of the connections; `None` when there is none. When connections checking
    /// different names shared the key, the session of the name filed last.
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
        let stores = self.stores();
        if let Some(external) = &stores.memory.external {
            return external.get_session(key);
        }
        stores.memory.names_under(key).into_iter().find_map(|name| {
            let slot = Slot::new(key, &name);
            let rustls_name = slot.server_name();
            let session = CachedSession {
                tls12: stores.memory.cache.tls12_session(&rustls_name),
                tls13: stores.memory.cache.take_tls13_ticket(&rustls_name),
                #[cfg(feature = "openssl")]
                encoded: {
                    let mut encoded = lock(&stores.encoded);
                    let found = encoded.sessions.get(slot.as_str()).cloned();
                    if found.as_ref().is_some_and(|(_, _, single_use)| *single_use) {
                        encoded.remove(slot.as_str());
                    }
                    found
                },
                name,
            };
            session.holds_any().then_some(session)
        })
    }

    /// Files `session` under `key` (`add_session`); the next connection with that
    /// `host:port` or `session_key` offers it, if it checks the name the session was
    /// verified for.
    pub fn add(&self, key: &str, session: CachedSession) {
        let stores = self.stores();
        if let Some(external) = &stores.memory.external {
            return external.add_session(key, session);
        }
        let slot = Slot::new(key, &session.name);
        stores.memory.note(&slot);
        let name = slot.server_name();
        if let Some(tls12) = session.tls12 {
            stores.memory.cache.set_tls12_session(name.clone(), tls12);
        }
        if let Some(tls13) = session.tls13 {
            stores.memory.cache.insert_tls13_ticket(name, tls13);
        }
        #[cfg(feature = "openssl")]
        if let Some(encoded) = session.encoded {
            self.add_encoded(&slot, encoded);
        }
    }

    /// Forgets the sessions stored under `key` (`del_session`), for every name.
    pub fn del(&self, key: &str) {
        let stores = self.stores();
        if let Some(external) = &stores.memory.external {
            external.del_session(key);
        }
        for name in stores.memory.forget(key) {
            let slot = Slot::new(key, &name);
            let rustls_name = slot.server_name();
            stores.memory.cache.remove_tls12_session(&rustls_name);
            while stores
                .memory
                .cache
                .take_tls13_ticket(&rustls_name)
                .is_some()
            {}
            #[cfg(feature = "openssl")]
            lock(&stores.encoded).remove(slot.as_str());
        }
    }
}

/// Where a connection's sessions are filed: its session key (`host:port` or `session_key`,
/// which may be shared between addresses) together with the name the connection checks
/// (normalised; empty for a connection that checks none). A session is never offered to a
/// connection checking another name, whatever key the two share. The rest of the verified
/// identity is the engine's to compare: the default engine resumes only under the verifier
/// and client-certificate objects that made a session (shared per policy, see
/// [`super::interned`]), the openssl engine files the policy's digest with each session.
#[derive(Debug, Clone)]
pub(crate) struct Slot(String);

impl Slot {
    /// The slot for sessions filed under `key` by connections checking `checked`.
    pub(crate) fn new(key: &str, checked: &str) -> Slot {
        Slot(format!("{key}\0{}", normalised_name(checked)))
    }

    /// The slot as text, for stores keyed by text.
    #[cfg(feature = "openssl")]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The same slot as a name, as the default engine files sessions by server name.
    fn server_name(&self) -> ServerName<'static> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.0.as_bytes());
        let hex = crate::text::hex::encode(&digest.as_ref()[..16]);
        ServerName::try_from(format!("s{hex}.session.invalid")).unwrap_or(ServerName::IpAddress(
            std::net::Ipv4Addr::UNSPECIFIED.into(),
        ))
    }

    fn key_and_name(&self) -> (&str, &str) {
        self.0.rsplit_once('\0').unwrap_or((&self.0, ""))
    }
}

/// A checked name as sessions are filed under it: DNS names are case-insensitive and a
/// trailing dot names the same host.
fn normalised_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The default engine's sessions, and which names have sessions under each key (for
/// [`SessionCache::get`] and [`SessionCache::del`], which know the key only).
pub(crate) struct ClientStore {
    cache: ClientSessionMemoryCache,
    names: Mutex<Names>,
    /// The application's store ([`SessionCache::with_store`]): sessions pass through
    /// `cache` on their way to and from it.
    external: Option<Arc<dyn SessionStore>>,
}

/// A cache in front of an application's store holds sessions only while a connection
/// hands them over: a few are enough.
const TRANSIT_SIZE: usize = 16;

/// A client session cache the application provides (IO::Socket::SSL's cache object):
/// connections add the sessions they get under their key (`host:port` or `session_key`)
/// and ask for one under the same key. Use it with [`SessionCache::with_store`].
///
/// A [`CachedSession`] is single-use when it holds a TLS 1.3 ticket, so `get_session` may
/// hand it out once (remove it); a session verified for another name than the connection
/// checks is given back with `add_session` and not used.
pub trait SessionStore: Send + Sync {
    /// The session filed under `key`, if any (`get_session`).
    fn get_session(&self, key: &str) -> Option<CachedSession>;
    /// Files `session` under `key` (`add_session`), replacing what was there.
    fn add_session(&self, key: &str, session: CachedSession);
    /// Forgets what is filed under `key` (`del_session`).
    fn del_session(&self, key: &str);
}

/// The names with sessions under each key, the most recent last; keys beyond `size` are
/// forgotten oldest first (their sessions are then found by connections only).
struct Names {
    size: usize,
    by_key: HashMap<String, Vec<String>>,
    order: std::collections::VecDeque<String>,
}

/// Names kept per key: more than a few names behind one key is not a use to optimise for.
const NAMES_PER_KEY: usize = 8;

impl ClientStore {
    pub(crate) fn new(size: usize) -> ClientStore {
        ClientStore {
            cache: ClientSessionMemoryCache::new(size),
            names: Mutex::new(Names {
                size: size.max(1),
                by_key: HashMap::new(),
                order: std::collections::VecDeque::new(),
            }),
            external: None,
        }
    }

    /// With an application store: moves its session under the slot's key here when it was
    /// verified for the slot's name. What may be resumed again (a TLS 1.2 session) stays in
    /// the store too; a session verified for another name goes back unused.
    fn pull(&self, slot: &Slot) {
        let Some(external) = self.external.as_ref() else {
            return;
        };
        let (key, name) = slot.key_and_name();
        let Some(mut session) = external.get_session(key) else {
            return;
        };
        if session.name != name || (session.tls12.is_none() && session.tls13.is_none()) {
            return external.add_session(key, session);
        }
        let server_name = slot.server_name();
        if let Some(tls13) = session.tls13.take() {
            self.cache.insert_tls13_ticket(server_name.clone(), tls13);
        }
        if let Some(tls12) = &session.tls12 {
            self.cache.set_tls12_session(server_name, tls12.clone());
            external.add_session(key, session);
        }
    }

    /// With an application store: hands it what the default engine filed in `slot`.
    fn push(&self, slot: &Slot) {
        let Some(external) = &self.external else {
            return;
        };
        let (key, name) = slot.key_and_name();
        let server_name = slot.server_name();
        let session = CachedSession {
            tls12: self.cache.tls12_session(&server_name),
            tls13: self.cache.take_tls13_ticket(&server_name),
            #[cfg(feature = "openssl")]
            encoded: None,
            name: name.to_owned(),
        };
        self.cache.remove_tls12_session(&server_name);
        if session.holds_any() {
            external.add_session(key, session);
        }
    }

    /// Records that `slot` holds sessions.
    fn note(&self, slot: &Slot) {
        let (key, name) = slot.key_and_name();
        let mut names = lock(&self.names);
        let Names {
            size,
            by_key,
            order,
        } = &mut *names;
        let list = by_key.entry(key.to_owned()).or_insert_with(|| {
            order.push_back(key.to_owned());
            Vec::new()
        });
        list.retain(|n| n != name);
        list.push(name.to_owned());
        if list.len() > NAMES_PER_KEY {
            list.remove(0);
        }
        while by_key.len() > *size {
            let Some(oldest) = order.pop_front() else {
                break;
            };
            by_key.remove(&oldest);
        }
    }

    /// The names with sessions under `key`, the most recent first.
    fn names_under(&self, key: &str) -> Vec<String> {
        let names = lock(&self.names);
        let mut list = names.by_key.get(key).cloned().unwrap_or_default();
        list.reverse();
        list
    }

    /// Forgets the names under `key`; returns them.
    fn forget(&self, key: &str) -> Vec<String> {
        let mut names = lock(&self.names);
        names.order.retain(|k| k != key);
        names.by_key.remove(key).unwrap_or_default()
    }
}

impl fmt::Debug for ClientStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientStore")
    }
}

/// What a [`SessionCache`] holds: the default engine's sessions and, with the openssl
/// engine built in, that engine's (encoded, by slot and verification policy).
struct Stores {
    memory: Arc<ClientStore>,
    #[cfg(feature = "openssl")]
    encoded: Mutex<Encoded>,
}

/// An openssl engine session: the digest of the verification policy that accepted it, the
/// session in DER, and whether it is single-use (a TLS 1.3 ticket).
#[cfg(feature = "openssl")]
pub(crate) type EncodedSession = (Vec<u8>, Vec<u8>, bool);

/// The openssl engine's sessions by slot, the oldest dropped first beyond `size`.
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A session taken from a [`SessionCache`]: the TLS 1.2 session and the TLS 1.3 ticket
/// stored under one key, and the name they were verified for, opaque apart from what it
/// resumes. It resumes only through a context with the verification that accepted it, for
/// a connection checking that name.
pub struct CachedSession {
    tls12: Option<Tls12ClientSessionValue>,
    tls13: Option<Tls13ClientSessionValue>,
    #[cfg(feature = "openssl")]
    encoded: Option<EncodedSession>,
    /// The name the session was verified for (normalised; empty: none).
    name: String,
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

    /// The host name (or IP address) the session's server was verified for; empty when the
    /// connection checked no name.
    ///
    /// ```
    /// let cache = sslsock::SessionCache::new(10);
    /// if let Some(s) = cache.get("127.0.0.1:8443") {
    ///     println!("a session verified for {}", s.verified_name());
    /// }
    /// ```
    pub fn verified_name(&self) -> &str {
        &self.name
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
            .field("verified_name", &self.name)
            .finish()
    }
}

/// Files every session of a connection in its [`Slot`] instead of under the server name
/// (which may be a placeholder, or another name than the one checked).
#[derive(Debug)]
pub(crate) struct KeyedStore {
    inner: Arc<ClientStore>,
    slot: Slot,
    name: ServerName<'static>,
    /// The application's store was asked (once per connection).
    pulled: std::sync::Once,
}

impl KeyedStore {
    pub(crate) fn new(inner: Arc<ClientStore>, slot: Slot) -> KeyedStore {
        KeyedStore {
            inner,
            name: slot.server_name(),
            slot,
            pulled: std::sync::Once::new(),
        }
    }

    fn pull_once(&self) {
        self.pulled.call_once(|| {
            self.inner.pull(&self.slot);
        });
    }
}

impl ClientSessionStore for KeyedStore {
    fn set_kx_hint(&self, _: ServerName<'static>, group: NamedGroup) {
        self.inner.cache.set_kx_hint(self.name.clone(), group);
    }
    fn kx_hint(&self, _: &ServerName<'_>) -> Option<NamedGroup> {
        self.inner.cache.kx_hint(&self.name)
    }
    fn set_tls12_session(&self, _: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.inner.note(&self.slot);
        self.inner.cache.set_tls12_session(self.name.clone(), value);
        self.inner.push(&self.slot);
    }
    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.pull_once();
        self.inner.cache.tls12_session(&self.name)
    }
    fn remove_tls12_session(&self, _: &ServerName<'static>) {
        self.inner.cache.remove_tls12_session(&self.name);
    }
    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.inner.note(&self.slot);
        self.inner
            .cache
            .insert_tls13_ticket(self.name.clone(), value);
        self.inner.push(&self.slot);
    }
    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.pull_once();
        self.inner.cache.take_tls13_ticket(&self.name)
    }
}
