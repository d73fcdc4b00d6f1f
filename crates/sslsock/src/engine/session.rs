//! The session a socket drives: one connection on its context's engine, one record at a
//! time (see the contract in `engine/mod.rs`).

use std::io::{self, Write};

use pki_types::CertificateDer;

use super::rustls_engine::session::RustlsSession;
use super::suites::CipherNames;
use super::EngineConfig;
use crate::error::Error;
use crate::plan::Target;

/// The session a socket drives, on the engine its context chose. Every method means the same
/// on both engines (see the module docs).
#[derive(Debug)]
// The default engine's session stays inline (no extra allocation or indirection on the
// common path); the rarer OpenSSL one is boxed.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Session {
    Rustls(RustlsSession),
    #[cfg(feature = "openssl")]
    OpenSsl(Box<super::openssl_engine::OsslSession>),
}

/// Runs `$call` on whichever session `$self` holds.
macro_rules! either {
    ($self:expr, $s:ident => $call:expr) => {
        match $self {
            Session::Rustls($s) => $call,
            #[cfg(feature = "openssl")]
            Session::OpenSsl($s) => $call,
        }
    };
}

impl Session {
    pub(crate) fn client(config: &EngineConfig, target: &Target) -> Result<Session, Error> {
        match config {
            EngineConfig::Rustls(c) => RustlsSession::client(c, target).map(Session::Rustls),
            #[cfg(feature = "openssl")]
            EngineConfig::OpenSsl(c) => super::openssl_engine::OsslSession::client(c, target)
                .map(|s| Session::OpenSsl(Box::new(s))),
        }
    }

    pub(crate) fn server(config: &EngineConfig) -> Result<Session, Error> {
        match config {
            EngineConfig::Rustls(c) => RustlsSession::server(c).map(Session::Rustls),
            #[cfg(feature = "openssl")]
            EngineConfig::OpenSsl(c) => {
                super::openssl_engine::OsslSession::server(c).map(|s| Session::OpenSsl(Box::new(s)))
            }
        }
    }

    pub(crate) fn feed_record(&mut self, record: &[u8]) -> Result<(), Error> {
        either!(self, s => s.feed_record(record))
    }

    pub(crate) fn feed_eof(&mut self) {
        either!(self, s => s.feed_eof())
    }

    pub(crate) fn plaintext(&mut self) -> io::Result<&[u8]> {
        either!(self, s => s.plaintext())
    }

    pub(crate) fn consume(&mut self, n: usize) {
        either!(self, s => s.consume(n))
    }

    pub(crate) fn pending(&self) -> usize {
        either!(self, s => s.pending())
    }

    pub(crate) fn write_plaintext(&mut self, data: &[u8]) -> io::Result<usize> {
        either!(self, s => s.write_plaintext(data))
    }

    pub(crate) fn wants_write(&self) -> bool {
        either!(self, s => s.wants_write())
    }

    pub(crate) fn write_tls(&mut self, w: &mut dyn Write) -> io::Result<usize> {
        either!(self, s => s.write_tls(w))
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        either!(self, s => s.is_handshaking())
    }

    pub(crate) fn send_close_notify(&mut self) {
        either!(self, s => s.send_close_notify())
    }

    pub(crate) fn cipher(&self) -> Option<CipherNames> {
        either!(self, s => s.cipher())
    }

    pub(crate) fn version(&self) -> Option<u16> {
        either!(self, s => s.version())
    }

    pub(crate) fn version_name(&self) -> Option<&'static str> {
        either!(self, s => s.version_name())
    }

    pub(crate) fn alpn(&self) -> Option<&[u8]> {
        either!(self, s => s.alpn())
    }

    /// The protocol agreed on with NPN (the openssl engine; the default one has no NPN).
    pub(crate) fn npn(&self) -> Option<&[u8]> {
        match self {
            Session::Rustls(_) => None,
            #[cfg(feature = "openssl")]
            Session::OpenSsl(s) => s.npn(),
        }
    }

    pub(crate) fn own_chain(&self) -> Option<&[CertificateDer<'static>]> {
        either!(self, s => s.own_chain())
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        either!(self, s => s.server_name())
    }

    pub(crate) fn resumed(&self) -> bool {
        either!(self, s => s.resumed())
    }

    pub(crate) fn group(&self) -> Option<String> {
        either!(self, s => s.group())
    }

    pub(crate) fn ech_status(&self) -> crate::ech::EchStatus {
        match self {
            Session::Rustls(s) => s.ech_status(),
            #[cfg(feature = "openssl")]
            Session::OpenSsl(_) => crate::ech::EchStatus::NotOffered,
        }
    }

    pub(crate) fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &str,
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        either!(self, s => s.export_keying_material(out, label, context))
    }

    pub(crate) fn tickets_received(&self) -> u32 {
        match self {
            Session::Rustls(s) => s.tickets_received(),
            #[cfg(feature = "openssl")]
            Session::OpenSsl(_) => 0,
        }
    }

    pub(crate) fn peer_outcome(&self) -> Option<&crate::peer::PeerOutcome> {
        either!(self, s => s.peer_outcome())
    }

    pub(crate) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        either!(self, s => s.peer_certificates())
    }
}
