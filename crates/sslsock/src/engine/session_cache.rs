//! Client session caches that several contexts can share (`SSL_session_cache`).

use std::fmt;
use std::sync::{Arc, RwLock};

use rustls::client::ClientSessionMemoryCache;

/// A client-side cache of TLS sessions (TLS 1.2 session ids and tickets, TLS 1.3 tickets),
/// keyed by server name. A session resumes only under the verification that accepted it:
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
