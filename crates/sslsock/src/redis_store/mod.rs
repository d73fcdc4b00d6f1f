//! Servers of a fleet sharing sessions and ticket keys through Redis (feature `redis`).
//!
//! A client that resumes may come back to any server behind a load balancer. With a
//! [`RedisStore`] as every server's [`ServerSessionStore`] (TLS 1.2 session IDs, TLS 1.3
//! stateful tickets) and its [`RedisTicketKeys`] as their ticket keys, the fleet resumes as
//! one server does:
//!
//! - sessions are kept with their TLS lifetime as the Redis TTL, and a TLS 1.3 stateful ticket
//!   is taken with `GETDEL` (good for one use, fleet-wide);
//! - ticket keys rotate for the whole fleet (one writer per rotation), every server opening
//!   tickets of the current and the previous key;
//! - everything is sealed (AES-256-GCM-SIV) under a [`StoreKey`] read from a local file, and
//!   named by a keyed digest: reading Redis gives no session secret and no session ID;
//! - `redis://` and `rediss://` (TLS, with the system's roots or
//!   [`RedisConfig::ca_file`]); a user and password in the URL are sent with `AUTH`;
//! - a store that is slow or down never stops a server: each call has a deadline
//!   ([`RedisConfig::deadline`], 50 ms by default), a failure is a miss (a full handshake),
//!   an outage is warned about once when it starts and once when it ends, and calls try again
//!   every [`RedisConfig::retry`] in between.
//!
//! - it is also a [`StapleStore`](crate::ocsp::StapleStore) for
//!   [`Options::ocsp_staple_store`](crate::Options::ocsp_staple_store): one server of the
//!   fleet asks the OCSP responder (a `SET NX` claim decides which) and the others serve its
//!   answer, sealed like the sessions and checked by each server as its own.
//!
//! Store calls are made from the handshake and block it for at most the deadline.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sslsock::redis_store::{RedisConfig, StoreKey};
//! use sslsock::{Options, SslContext};
//!
//! let key = StoreKey::from_file("/etc/sslsock/store.key")?;
//! let store = Arc::new(RedisConfig::new("redis://10.0.0.5:6379/0", key).build()?);
//! let tickets = Arc::new(store.ticket_keys(Duration::from_secs(12 * 3600)));
//! let ctx = SslContext::new(
//!     &Options::new()
//!         .server(true)
//!         .cert_file("server.pem")
//!         .key_file("server.key")
//!         .server_session_store(store)
//!         .ticket_key_ring(tickets),
//! )?;
//! # let _ = ctx;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod link;
mod ring;
mod seal;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ::redis::{cmd, Client};

pub use ring::RedisTicketKeys;
pub use seal::StoreKey;

use crate::session::ServerSessionStore;

/// What may be wrong with a store's configuration (a store that does not answer is not an
/// error: it is a miss).
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is not a Redis URL the client can use.
    Url {
        /// The URL, without its password.
        url: String,
        /// Why.
        reason: String,
    },
    /// The store key file cannot be read, or does not hold a key.
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The CA file for `rediss://` cannot be read.
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Url { url, reason } => write!(f, "session store {url}: {reason}"),
            StoreError::KeyFile { path, reason } => {
                write!(f, "store key {}: {reason}", path.display())
            }
            StoreError::CaFile { path, reason } => {
                write!(f, "store CA file {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for StoreError {}

/// How to reach a Redis store: its URL, the store key, and the limits of each call.
///
/// ```
/// use std::time::Duration;
/// use sslsock::redis_store::{RedisConfig, StoreKey};
///
/// let store = RedisConfig::new("redis://127.0.0.1:6379/3", StoreKey::from_bytes(&[7; 32]))
///     .deadline(Duration::from_millis(20))
///     .prefix("shop:")
///     .build()?; // connects on first use: Redis need not be up yet
/// # let _ = store;
/// # Ok::<(), sslsock::redis_store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct RedisConfig {
    url: String,
    key: StoreKey,
    deadline: Duration,
    retry: Duration,
    prefix: String,
    ca_file: Option<PathBuf>,
}

impl RedisConfig {
    /// A store at `url` (`redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for
    /// TLS), sealing under `key`.
    pub fn new(url: impl Into<String>, key: StoreKey) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            key,
            deadline: Duration::from_millis(50),
            retry: Duration::from_secs(1),
            prefix: "sslsock:".to_owned(),
            ca_file: None,
        }
    }

    /// The longest a call may take (connecting, and each command): past it, the call is a
    /// miss. Defaults to 50 ms.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline.max(Duration::from_millis(1));
        self
    }

    /// While the store does not answer, how long calls miss at once before one tries again.
    /// Defaults to 1 s.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = retry;
        self
    }

    /// What every key this store writes begins with, to share a Redis database with other
    /// users or fleets. Defaults to `sslsock:`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// `rediss://`: trust the CA certificates (PEM) in `path` for the store's certificate,
    /// instead of the system's roots.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca_file = Some(path.as_ref().to_path_buf());
        self
    }

    /// The store. Nothing is sent yet: the first handshake that needs it connects.
    pub fn build(self) -> Result<RedisStore, StoreError> {
        let label = link::label(&self.url);
        let bad_url = |e: ::redis::RedisError| StoreError::Url {
            url: label.clone(),
            reason: e.to_string(),
        };
        let client = match &self.ca_file {
            None => Client::open(self.url.as_str()).map_err(bad_url)?,
            Some(path) => {
                if !self.url.starts_with("rediss://") {
                    return Err(StoreError::Url {
                        url: label,
                        reason: "a CA file is for rediss:// (TLS) only".to_owned(),
                    });
                }
                let root_cert = std::fs::read(path).map_err(|e| StoreError::CaFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                Client::build_with_tls(
                    self.url.as_str(),
                    ::redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(root_cert),
                    },
                )
                .map_err(bad_url)?
            }
        };
        Ok(RedisStore {
            link: Arc::new(link::Link::new(client, label, self.deadline, self.retry)),
            key: Arc::new(self.key),
            prefix: self.prefix,
        })
    }
}

/// A [`ServerSessionStore`] in Redis, shared by the servers of a fleet: see the
/// [module](self) for what it keeps and how it fails.
pub struct RedisStore {
    link: Arc<link::Link>,
    key: Arc<StoreKey>,
    prefix: String,
}

impl RedisStore {
    /// The fleet's session ticket keys in the same Redis, rotated every `period` (nginx and
    /// the `serve` command use 12 hours).
    pub fn ticket_keys(&self, period: Duration) -> RedisTicketKeys {
        RedisTicketKeys::new(
            self.link.clone(),
            self.key.clone(),
            self.prefix.clone(),
            period,
        )
    }

    /// The store's URL without its password, as messages give it.
    pub fn address(&self) -> &str {
        &self.link.label
    }

    /// Whether the store is in an outage now (its last call failed).
    pub fn is_down(&self) -> bool {
        self.link.is_down()
    }

    /// The Redis key for `id` of `kind` (`s` sessions, `st` staples, `stc` staple claims):
    /// the prefix, the kind, and a keyed digest of `id`.
    fn named(&self, kind: &str, id: &[u8]) -> String {
        format!("{}{kind}:{}", self.prefix, self.key.name(id))
    }

    fn open(&self, name: &str, sealed: Option<Vec<u8>>) -> Option<Vec<u8>> {
        let opened = self.key.open(name, &sealed?);
        if opened.is_none() {
            log::warn!(
                "session store {}: session {name} does not open (changed, or sealed under another store key): not resumed",
                self.link.label
            );
        }
        opened
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("store", &self.link.label)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ServerSessionStore for RedisStore {
    fn put(&self, key: &[u8], value: Vec<u8>, lifetime: Duration) -> bool {
        let name = self.named("s", key);
        let Some(sealed) = self.key.seal(&name, &value) else {
            return false;
        };
        let ttl = lifetime.as_millis().max(1).to_string();
        self.link
            .run::<()>(cmd("SET").arg(&name).arg(sealed).arg("PX").arg(ttl))
            .is_some()
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let name = self.named("s", key);
        let sealed = self.link.run::<Option<Vec<u8>>>(cmd("GET").arg(&name))?;
        self.open(&name, sealed)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let name = self.named("s", key);
        let sealed = self.link.run::<Option<Vec<u8>>>(cmd("GETDEL").arg(&name))?;
        self.open(&name, sealed)
    }
}

/// The fleet's OCSP staples: sealed like sessions (a staple is public, but only the fleet
/// may put one), kept until the response runs out; the claim to fetch is a `SET NX` that
/// lapses on its own.
impl crate::ocsp::StapleStore for RedisStore {
    fn get_staple(&self, key: &[u8]) -> Option<Vec<u8>> {
        let name = self.named("st", key);
        let sealed = self.link.run::<Option<Vec<u8>>>(cmd("GET").arg(&name))??;
        let opened = self.key.open(&name, &sealed);
        if opened.is_none() {
            log::warn!(
                "session store {}: OCSP staple {name} does not open (changed, or sealed under another store key)",
                self.link.label
            );
        }
        opened
    }

    fn put_staple(&self, key: &[u8], der: &[u8], ttl: Duration) {
        let name = self.named("st", key);
        let Some(sealed) = self.key.seal(&name, der) else {
            return;
        };
        let ttl = ttl.as_millis().max(1).to_string();
        let _ = self
            .link
            .run::<()>(cmd("SET").arg(&name).arg(sealed).arg("PX").arg(ttl));
    }

    fn claim_fetch(&self, key: &[u8], hold: Duration) -> bool {
        let name = self.named("stc", key);
        let hold = hold.as_millis().max(1).to_string();
        let claimed = self
            .link
            .run::<Option<String>>(cmd("SET").arg(&name).arg(1).arg("NX").arg("PX").arg(hold));
        // Not answering: nobody to coordinate with, so this server fetches its own.
        claimed.is_none_or(|reply| reply.is_some())
    }
}
