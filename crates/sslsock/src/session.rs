//! What contexts share about sessions and that options hold: the client session cache
//! (made and read by the engine, opaque here) and the server's session ticket keys.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

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
