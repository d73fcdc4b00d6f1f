//! `mio` integration: a TLS socket over a mio stream is itself a `mio::event::Source`.

use mio::event::Source;
use mio::{Interest, Registry, Token};

use super::SslSocket;

/// Registers the underlying stream. Before waiting for readiness, check
/// [`SslSocket::pending`] (data may sit decrypted in the socket) and
/// [`SslSocket::wants_write`] (encrypted output may wait for the stream to turn writable).
#[cfg_attr(docsrs, doc(cfg(feature = "mio")))]
impl<S: Source + super::Transport> Source for SslSocket<S> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> std::io::Result<()> {
        self.get_mut().register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> std::io::Result<()> {
        self.get_mut().reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> std::io::Result<()> {
        self.get_mut().deregister(registry)
    }
}

/// Non-blocking: time is the caller's.
#[cfg_attr(docsrs, doc(cfg(feature = "mio")))]
impl super::Transport for mio::net::TcpStream {}
