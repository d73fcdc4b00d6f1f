//! What contexts share about sessions and that options hold: the client session cache
//! (made and read by the engine, opaque here), the server's session store and its session
//! ticket keys.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A client-side cache of TLS sessions (TLS 1.2 session ids and tickets, TLS 1.3 tickets),
/// filed under `host:port` of the peer or the connection's `session_key`. The handshake gets
/// and adds sessions by itself; [`SessionCache::get`], [`SessionCache::add`] and
/// [`SessionCache::del`] do it by hand (`get_session`, `add_session`, `del_session`), for
/// example to file a session under another key. A session is offered only to a connection
/// that checks the name it was verified for (a key shared between addresses never shares a
/// session between names), and resumes only under the verification that accepted it: contexts built with the same
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
    /// The engine's store, opaque here (made and read by the engine only).
    pub(crate) store: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionCache")
    }
}

/// The ticket key callback: with `None` it returns the current key; with the name found in a
/// ticket it returns that name's key, or `None` for a retired one (no resumption then).
pub type TicketKeyCallback = Arc<dyn Fn(Option<&[u8; 16]>) -> Option<TicketKey> + Send + Sync>;

/// A session ticket key: the name written into each ticket, and the AES-256-GCM key.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketKey {
    /// The key's name (16 bytes), by which a ticket finds its key again.
    pub name: [u8; 16],
    /// The key (32 bytes).
    pub key: [u8; 32],
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketKey")
            .field("name", &self.name)
            .field("key", &"(redacted)")
            .finish()
    }
}

/// Where a server keeps the sessions it can resume: TLS 1.2 session IDs and TLS 1.3 stateful
/// tickets, by the id the client will present. Servers given the same store resume each
/// other's sessions, so a client that comes back to another server of a fleet resumes there
/// ([`Options::server_session_store`](crate::Options::server_session_store)). A session
/// holds the secrets of a connection: a store outside the process should protect what it
/// keeps.
///
/// Calls come from the handshake: a store should answer quickly, and a failure is a miss
/// (the client gets a full handshake), never an error of the connection.
///
/// ```
/// use std::sync::Arc;
/// use sslsock::{MemorySessionStore, Options};
///
/// let shared = Arc::new(MemorySessionStore::new(10_000));
/// let a = Options::new().server(true).server_session_store(shared.clone());
/// let b = Options::new().server(true).server_session_store(shared);
/// // Contexts made from `a` and `b` (with their certificates) resume each other's sessions.
/// # let _ = (a, b);
/// ```
pub trait ServerSessionStore: Send + Sync {
    /// Keeps `value` under `key` for `lifetime`; false when it was not kept.
    fn put(&self, key: &[u8], value: Vec<u8>, lifetime: Duration) -> bool;
    /// The value under `key`, if it is there and current.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Removes and returns the value under `key` (a TLS 1.3 ticket is good for one use).
    fn take(&self, key: &[u8]) -> Option<Vec<u8>>;
}

/// How long a server keeps a session for resumption (OpenSSL's default session timeout).
pub const SERVER_SESSION_LIFETIME: Duration = Duration::from_secs(7200);

/// A [`ServerSessionStore`] in this process's memory, bounded: shared by several listeners
/// of one process, or the model of a store of your own.
pub struct MemorySessionStore {
    capacity: usize,
    sessions: Mutex<HashMap<Vec<u8>, Kept>>,
}

/// A session and when it stops being resumable.
type Kept = (Vec<u8>, Instant);

impl MemorySessionStore {
    /// A store of at most `capacity` sessions (at least one).
    pub fn new(capacity: usize) -> MemorySessionStore {
        MemorySessionStore {
            capacity: capacity.max(1),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Sessions held, expired ones included until they are pushed out.
    pub fn len(&self) -> usize {
        self.sessions.lock().map_or(0, |s| s.len())
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("capacity", &self.capacity)
            .field("held", &self.len())
            .finish()
    }
}

impl ServerSessionStore for MemorySessionStore {
    fn put(&self, key: &[u8], value: Vec<u8>, lifetime: Duration) -> bool {
        let Ok(mut sessions) = self.sessions.lock() else {
            return false;
        };
        let now = Instant::now();
        if sessions.len() >= self.capacity {
            sessions.retain(|_, (_, until)| *until > now);
        }
        if sessions.len() >= self.capacity {
            // Still full of current sessions: the one that ends first makes room.
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(key.to_vec(), (value, now + lifetime));
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let sessions = self.sessions.lock().ok()?;
        let (value, until) = sessions.get(key)?;
        (*until > Instant::now()).then(|| value.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (value, until) = self.sessions.lock().ok()?.remove(key)?;
        (until > Instant::now()).then_some(value)
    }
}

/// Where a server's session ticket keys come from: the current key seals new tickets, the
/// keys still open (the current one and the one before) open them, and rotation makes a new
/// current key. Servers given the same keys
/// ([`Options::ticket_key_ring`](crate::Options::ticket_key_ring)) open each other's tickets:
/// share keys only between servers that check clients alike, since a ticket resumes under
/// whatever the server that opens it checks.
///
/// Calls come from the handshake: a source should answer quickly. `None` from
/// [`current`](Self::current) means no ticket now (clients come back to a full handshake),
/// and from [`find`](Self::find) a ticket that does not resume.
pub trait TicketKeys: Send + Sync {
    /// The key that seals new tickets, or `None` when there is none to use now.
    fn current(&self) -> Option<TicketKey>;
    /// The key called `name`, while it still opens tickets.
    fn find(&self, name: &[u8; 16]) -> Option<TicketKey>;
    /// Makes a new current key now (the current one still opens tickets until the next
    /// rotation).
    fn rotate(&self);
}

/// Session ticket keys that rotate: a new current key every `period`, the key before it
/// still opening tickets, older ones retired, so that a ticket resumes for at most two
/// periods. Servers given the same ring ([`Options::ticket_key_ring`](crate::Options::ticket_key_ring))
/// open each other's tickets (share a ring only between servers that check clients alike);
/// keys are made here, from the system's random source, and never leave the process. For
/// servers in several processes, see `redis_store::RedisTicketKeys` (feature `redis`).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sslsock::{Options, TicketKeyRing};
///
/// let ring = Arc::new(TicketKeyRing::new(Duration::from_secs(12 * 3600)));
/// let a = Options::new().server(true).ticket_key_ring(ring.clone());
/// let b = Options::new().server(true).ticket_key_ring(ring.clone());
/// ring.rotate(); // at once, as after a suspected leak: tickets of the old key still resume
/// # let _ = (a, b);
/// ```
pub struct TicketKeyRing {
    period: Duration,
    /// The current key and when it became current, then the previous one.
    keys: Mutex<Vec<(TicketKey, Instant)>>,
}

impl TicketKeyRing {
    /// A ring whose current key changes every `period` (at least a second).
    pub fn new(period: Duration) -> TicketKeyRing {
        TicketKeyRing {
            period: period.max(Duration::from_secs(1)),
            keys: Mutex::new(Vec::new()),
        }
    }

    /// Makes a new current key now; the current one becomes the previous one, and the
    /// previous one is retired.
    pub fn rotate(&self) {
        if let Ok(mut keys) = self.keys.lock() {
            if let Some(fresh) = fresh_key() {
                keys.insert(0, (fresh, Instant::now()));
                keys.truncate(2);
            }
        }
    }

    /// The current key (`name` `None`), rotated when its period is over; or the key called
    /// `name`, when it is the current or the previous one. The [`TicketKeyCallback`]
    /// contract.
    pub fn key(&self, name: Option<&[u8; 16]>) -> Option<TicketKey> {
        let mut keys = self.keys.lock().ok()?;
        if keys
            .first()
            .is_none_or(|(_, since)| since.elapsed() >= self.period)
        {
            keys.insert(0, (fresh_key()?, Instant::now()));
            keys.truncate(2);
        }
        match name {
            None => keys.first().map(|(k, _)| k.clone()),
            Some(n) => keys
                .iter()
                .find(|(k, _)| &k.name == n)
                .map(|(k, _)| k.clone()),
        }
    }
}

impl TicketKeys for TicketKeyRing {
    fn current(&self) -> Option<TicketKey> {
        self.key(None)
    }

    fn find(&self, name: &[u8; 16]) -> Option<TicketKey> {
        self.key(Some(name))
    }

    fn rotate(&self) {
        TicketKeyRing::rotate(self)
    }
}

impl fmt::Debug for TicketKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketKeyRing")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// A key with a random name; `None` when the system's random source fails.
pub(crate) fn fresh_key() -> Option<TicketKey> {
    let mut key = TicketKey {
        name: [0; 16],
        key: [0; 32],
    };
    aws_lc_rs::rand::fill(&mut key.name).ok()?;
    aws_lc_rs::rand::fill(&mut key.key).ok()?;
    Some(key)
}
