//! Stateless session tickets under keys the application rotates (`SSL_ticket_keycb`).

use std::fmt;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use rustls::server::ProducesTickets;

use crate::session::{TicketKey, TicketKeyCallback};

/// How long a ticket may be used, as told to clients.
const LIFETIME_SECS: u32 = 12 * 3600;

pub(crate) struct KeyCallbackTicketer {
    pub(crate) callback: TicketKeyCallback,
    /// The server's client policy: sealed into each ticket, so that a server that checks
    /// clients otherwise, though it shares the keys, does not open it.
    pub(crate) scope: Vec<u8>,
}

impl KeyCallbackTicketer {
    /// The additional data of a ticket: its key's name and the client policy.
    fn aad(&self, name: &[u8; 16]) -> Vec<u8> {
        [&name[..], &self.scope].concat()
    }
}

impl fmt::Debug for KeyCallbackTicketer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyCallbackTicketer")
    }
}

fn sealing_key(key: &[u8; 32]) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key)
        .ok()
        .map(LessSafeKey::new)
}

impl ProducesTickets for KeyCallbackTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        LIFETIME_SECS
    }

    /// name (16) || nonce (12) || AES-256-GCM(plain) with the name and the client policy as
    /// additional data.
    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let TicketKey { name, key } = (self.callback)(None)?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).ok()?;
        let mut body = plain.to_vec();
        sealing_key(&key)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(&name)),
                &mut body,
            )
            .ok()?;
        let mut out = Vec::with_capacity(16 + NONCE_LEN + body.len());
        out.extend_from_slice(&name);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Some(out)
    }

    /// Tickets under a retired name, or that do not authenticate, are ignored: full handshake.
    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        let name: [u8; 16] = cipher.get(..16)?.try_into().ok()?;
        let nonce: [u8; NONCE_LEN] = cipher.get(16..16 + NONCE_LEN)?.try_into().ok()?;
        let TicketKey { key, .. } = (self.callback)(Some(&name))?;
        let mut body = cipher.get(16 + NONCE_LEN..)?.to_vec();
        let plain = sealing_key(&key)?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(&name)),
                &mut body,
            )
            .ok()?;
        Some(plain.to_vec())
    }
}

/// A [`ServerSessionStore`](crate::session::ServerSessionStore) as rustls's server session
/// storage: TLS 1.2 session IDs and TLS 1.3 stateful tickets go to the shared store, filed
/// under the server's client policy (`scope`), so that only servers that check clients alike
/// resume each other's sessions.
pub(crate) struct SharedSessions {
    pub(crate) store: std::sync::Arc<dyn crate::session::ServerSessionStore>,
    pub(crate) scope: Vec<u8>,
}

impl SharedSessions {
    fn key(&self, id: &[u8]) -> Vec<u8> {
        [self.scope.as_slice(), id].concat()
    }
}

impl fmt::Debug for SharedSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSessions")
    }
}

impl rustls::server::StoresServerSessions for SharedSessions {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.store.put(
            &self.key(&key),
            value,
            crate::session::SERVER_SESSION_LIFETIME,
        )
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.store.get(&self.key(key))
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.store.take(&self.key(key))
    }

    fn can_cache(&self) -> bool {
        true
    }
}
