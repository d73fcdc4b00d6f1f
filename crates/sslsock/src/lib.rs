//! # sslsock: TLS sockets as easy as plain sockets
//!
//! IO::Socket::SSL for Rust: blocking client and server sockets, STARTTLS upgrade and
//! downgrade, SNI, ALPN, client certificates, hostname schemes, with secure defaults
//! (TLS 1.2+, peer verification, hostname check, X25519MLKEM768 offered first).
//!
//! ```no_run
//! use std::io::{Read, Write};
//! let mut sock = sslsock::SslSocket::connect("www.example.org:https")?;
//! sock.write_all(b"HEAD / HTTP/1.0\r\nHost: www.example.org\r\n\r\n")?;
//! let mut reply = Vec::new();
//! let _ = sock.read_to_end(&mut reply);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A server:
//!
//! ```no_run
//! use std::io::Write;
//! use sslsock::{Options, SslListener};
//! let listener = SslListener::bind("127.0.0.1:8443", &Options::new().cert_file("srv.pem").key_file("srv.key"))?;
//! let (mut client, _addr) = listener.accept()?;
//! client.write_all(b"hello\n")?;
//! client.close()?;
//! # Ok::<(), sslsock::Error>(())
//! ```
//!
//! Porting from Perl: `SSL_*` options map to [`Options`] setters of the same name
//! (`SSL_ca_file` -> [`Options::ca_file`]), `start_SSL` / `stop_SSL` / `connect_SSL` /
//! `accept_SSL` to [`SslSocket::start_ssl`], [`SslSocket::stop_ssl`],
//! [`SslSocket::connect_ssl`], [`SslSocket::accept_ssl`].

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "acme")]
#[cfg_attr(docsrs, doc(cfg(feature = "acme")))]
pub mod acme;
pub mod args;
pub mod context;
mod copy;
pub mod debug;
pub mod defaults;
pub mod ech;
mod engine;
pub mod error;
mod hello;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod http;
pub mod intercept;
pub mod listener;
pub mod ocsp;
pub mod options;
mod peer;
mod plan;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis_store;
mod session;
pub mod socket;
mod text;
mod timefmt;
pub mod verify;
pub mod x509;

pub use context::{set_default_context, ContextSource, SslContext};
pub use defaults::set_default_session_cache;
pub use engine::{CachedSession, SessionStore};
pub use hello::ClientHello;
pub use session::{
    MemorySessionStore, ServerSessionStore, SessionCache, TicketKey, TicketKeyCallback,
    TicketKeyRing, TicketKeys, SERVER_SESSION_LIFETIME,
};

/// Advanced: the engine's own configuration types, for [`Options::engine_callback`]
/// (feature `unstable-engine-config`: they follow the engine's versions, not sslsock's). Using
/// them ties code to the engine (rustls 0.23).
#[cfg(feature = "unstable-engine-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "unstable-engine-config")))]
pub mod advanced {
    pub use crate::engine::{ClientConfig, EngineConfigMut, EngineHook, ServerConfig};
}
pub use error::{errstr, Alert, ConfigError, Error, TlsError, VerifyError, Want};
pub use listener::SslListener;
pub use options::{Engine, Family, Options, Peer, Source, VerifyMode};
pub use plan::roots::{default_ca, set_default_ca, CaOrigin, DefaultCa};
pub use plan::Target;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use socket::async_io::AsyncSslSocket;
pub use socket::{CertField, Opened, SocketState, SslSocket, StartError, Transport};
pub use text::escape_control;
pub use timefmt::format_system_time;
pub use verify::fingerprint::FingerprintAlgorithm;
pub use verify::hostname::Scheme;
pub use x509::info::CertInfo;
pub use x509::SubjectAltName;

/// True: the engine can send SNI (`can_client_sni`).
pub fn can_client_sni() -> bool {
    true
}
/// True: the engine can serve per-name certificates (`can_server_sni`).
pub fn can_server_sni() -> bool {
    true
}
/// True: ALPN is supported (`can_alpn`).
pub fn can_alpn() -> bool {
    true
}
/// NPN (`can_npn`): on the openssl engine only, so true when it is built in;
/// [`Engine::can_npn`] answers per engine.
pub fn can_npn() -> bool {
    Engine::OpenSsl.can_npn()
}
/// PSK (`can_psk`): on the openssl engine only, so true when it is built in (the `openssl`
/// feature); [`Engine::can_psk`] answers per engine.
pub fn can_psk() -> bool {
    Engine::OpenSsl.can_psk()
}
/// True: ECDHE key exchange with configurable groups (`can_ecdh`).
pub fn can_ecdh() -> bool {
    true
}
/// True: IPv6 sockets (`can_ipv6`).
pub fn can_ipv6() -> bool {
    true
}
/// True: several certificates (RSA and ECDSA) per name (`can_multi_cert`).
pub fn can_multi_cert() -> bool {
    true
}
/// True: stateless tickets under application keys (`can_ticket_keycb`).
pub fn can_ticket_keycb() -> bool {
    true
}
/// True: OCSP stapling, the resolver and must-staple (`can_ocsp`); see [`ocsp`].
pub fn can_ocsp() -> bool {
    true
}
/// True: internationalised host names are turned into their A-label form (`xn--...`) before
/// they are checked against a certificate (`can_idn`), without any optional module.
///
/// ```
/// use sslsock::verify::hostname::verify_hostname;
/// use sslsock::x509::create::CertSpec;
/// assert!(sslsock::can_idn());
/// let cert = CertSpec::new("idn").san("xn--bcher-kva.example").self_signed()?;
/// let http = sslsock::Scheme::named("http").unwrap();
/// verify_hostname(&cert.cert_der, "bücher.example", &http)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn can_idn() -> bool {
    true
}
/// False: TLS 1.3 post-handshake authentication is not offered by the engine (`can_pha`).
pub fn can_pha() -> bool {
    false
}

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    /// The public socket, context and listener types can be moved to and shared between
    /// threads.
    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<crate::SslSocket>();
        assert_send_sync::<crate::SslSocket<std::net::TcpStream>>();
        assert_send_sync::<crate::SslContext>();
        assert_send_sync::<crate::SslListener>();
        assert_send_sync::<crate::Options>();
        assert_send_sync::<crate::Error>();
        assert_send_sync::<crate::SessionCache>();
        #[cfg(feature = "tokio")]
        assert_send_sync::<crate::socket::async_io::AsyncSslSocket<tokio::net::TcpStream>>();
    }
}

/// Every option and method of the IO::Socket::SSL manual, with its sslsock spelling (the
/// repository's `MIGRATING.md`; its Rust examples are compiled as doctests).
#[doc = include_str!("../MIGRATING.md")]
pub mod migrating {}
