//! `Options`: the typed form of the `SSL_*` arguments of IO::Socket::SSL.
//!
//! Every setter documents its default; the defaults themselves live in [`crate::defaults`].
//! Options are plain values: cheap to build and clone, checked when a context is made from
//! them ([`SslContext::new`](crate::SslContext::new)), which refuses what it cannot honour.
//!
//! ```
//! use std::time::Duration;
//! use sslsock::ocsp::OcspMode;
//! use sslsock::{Options, Scheme, SslContext};
//!
//! let client = Options::new()
//!     .ca_file("/etc/ssl/certs/ca-certificates.crt")
//!     .verifycn_scheme(Scheme::parse("smtp")?)
//!     .version("TLSv1_3")
//!     .alpn_protocols(["smtp"])
//!     .ocsp_mode(OcspMode::MUST_STAPLE)
//!     .timeout(Duration::from_secs(10));
//! // The same, as a Perl program writes it:
//! let same = sslsock::args::from_args([
//!     ("SSL_ca_file", "/etc/ssl/certs/ca-certificates.crt"),
//!     ("SSL_verifycn_scheme", "smtp"),
//!     ("SSL_version", "TLSv1_3"),
//!     ("SSL_alpn_protocols", "smtp"),
//!     ("SSL_ocsp_mode", "SSL_OCSP_MUST_STAPLE"),
//!     ("Timeout", "10"),
//! ])?;
//! // An option the engine cannot honour is refused, never dropped.
//! let err = SslContext::new(&Options::new().npn_protocols(["http/1.1"])).unwrap_err();
//! assert!(err.to_string().contains("openssl"), "{err}");
//! # let _ = (client, same);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{ConfigError, Error};
use crate::verify::chain::{VerifyCallback, VerifyInfo};
use crate::verify::hostname::Scheme;
use crate::verify::public_suffix::PublicSuffix;
use crate::x509::Password;

/// The `SSL_verify_mode` bits.
///
/// ```
/// use sslsock::VerifyMode;
/// let strict = VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT;
/// assert!(strict.contains(VerifyMode::PEER));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyMode(u8);

impl VerifyMode {
    /// Verify the peer's certificate (client: always present; server: when the client sends one).
    pub const PEER: VerifyMode = VerifyMode(1);
    /// Server: refuse clients without a certificate (implies `PEER`).
    pub const FAIL_IF_NO_PEER_CERT: VerifyMode = VerifyMode(2);
    /// Accepted for compatibility; has no effect (no renegotiation in TLS 1.3 or here).
    pub const CLIENT_ONCE: VerifyMode = VerifyMode(4);
    /// **Dangerous:** do not verify the peer. On a client anyone in the path can impersonate
    /// the server; a client context made with it logs a warning.
    pub const NONE: VerifyMode = VerifyMode(0);

    /// Builds a mode from the Perl numeric value (e.g. `1`, `3`).
    pub fn from_bits(bits: u8) -> VerifyMode {
        VerifyMode(bits & 0x7)
    }
    /// The numeric value as used by the Perl module.
    pub fn bits(self) -> u8 {
        self.0
    }
    /// True when every bit of `other` is set in `self`.
    pub fn contains(self, other: VerifyMode) -> bool {
        self.0 & other.0 == other.0
    }
    /// True when the peer is to be verified at all.
    pub fn verifies(self) -> bool {
        self.0 & (Self::PEER.0 | Self::FAIL_IF_NO_PEER_CERT.0) != 0
    }
}

impl std::ops::BitOr for VerifyMode {
    type Output = VerifyMode;
    fn bitor(self, rhs: VerifyMode) -> VerifyMode {
        VerifyMode(self.0 | rhs.0)
    }
}

impl fmt::Debug for VerifyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("VerifyMode::NONE");
        }
        let names: Vec<&str> = [(1, "PEER"), (2, "FAIL_IF_NO_PEER_CERT"), (4, "CLIENT_ONCE")]
            .iter()
            .filter(|(b, _)| self.0 & b != 0)
            .map(|(_, n)| *n)
            .collect();
        write!(f, "VerifyMode::{}", names.join("|"))
    }
}

/// Which IP family to use when a host name resolves to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Family {
    /// Try every address in resolver order (IPv6 and IPv4). Defaults to this.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// True when `addr` is of this family.
    pub fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

pub use crate::x509::Source;

/// What belongs to one connection rather than to the context it shares with others: whom
/// it is for, under which key its session is filed, how long it may take, where it comes
/// from. A field left unset comes from the context's options.
///
/// ```no_run
/// use std::time::Duration;
/// use sslsock::{Options, Peer, SslContext, SslSocket};
/// let ctx = SslContext::new(&Options::new())?;
/// // Connect to an address, send SNI for the service, check the certificate for it.
/// let peer = Peer::new().name("api.example.org").timeout(Duration::from_secs(5));
/// let sock = SslSocket::connect_to("192.0.2.10:443", &ctx, &peer)?;
/// # Ok::<(), sslsock::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Peer {
    pub(crate) name: Option<String>,
    pub(crate) verify_name: Option<String>,
    pub(crate) session_key: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) family: Option<Family>,
}

impl Peer {
    /// Everything from the context.
    pub fn new() -> Peer {
        Peer::default()
    }

    /// The peer's name: sent in SNI and checked against the certificate (instead of the host
    /// of the address).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The name the certificate must match when it is not the one sent (`SSL_verifycn_name`
    /// for this connection).
    pub fn verify_name(mut self, name: impl Into<String>) -> Self {
        self.verify_name = Some(name.into());
        self
    }

    /// The key this connection's session is filed under (`SSL_session_key`; default
    /// `host:port`).
    pub fn session_key(mut self, key: impl Into<String>) -> Self {
        self.session_key = Some(key.into());
        self
    }

    /// The deadline for connecting and for the handshake.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// The local address to connect from.
    pub fn local_addr(mut self, addr: SocketAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }

    /// The address family to use.
    pub fn family(mut self, f: Family) -> Self {
        self.family = Some(f);
        self
    }
}

/// A server certificate for clients asking for `name` with SNI.
#[derive(Debug, Clone)]
pub(crate) struct SniCert {
    /// The name (`*.example.org` for a wildcard).
    pub(crate) name: String,
    /// The certificate chain.
    pub(crate) cert: Source,
    /// Its key; `None`: in the certificate's source.
    pub(crate) key: Option<Source>,
}

/// Cipher lists for clients asking for `name` with SNI; `None` keeps the context's list.
#[derive(Debug, Clone)]
pub(crate) struct NamedCiphers {
    /// The name (`*.example.org` for a wildcard).
    pub(crate) name: String,
    /// TLS 1.2 cipher string.
    pub(crate) cipher_list: Option<String>,
    /// TLS 1.3 suites.
    pub(crate) ciphersuites: Option<String>,
}

/// A callback that gets the still-plain stream and the error when a server-side handshake fails
/// (`SSL_error_trap`), e.g. to answer an HTTP client in plain text.
pub type ErrorTrap = Arc<dyn Fn(&mut dyn PlainStream, &Error) + Send + Sync>;

/// A plain byte stream handed to an [`ErrorTrap`].
pub trait PlainStream: std::io::Read + std::io::Write {}
impl<T: std::io::Read + std::io::Write> PlainStream for T {}

/// The TLS implementation behind a context ([`Options::engine`]).
///
/// Both engines run sslsock's own verification (schemes, pins, CRLs, OCSP, name constraints)
/// and report in the same [`Error`]s. The openssl engine is for peers the
/// default one cannot reach; an option only it has is refused on the default engine, by name:
///
/// ```
/// use sslsock::{Engine, Options, SslContext};
///
/// // A TLS 1.0 peer needs the openssl engine (built with the `openssl` feature).
/// let legacy = Options::new().version("TLSv1:TLSv1_1:TLSv1_2").engine(Engine::OpenSsl);
/// match SslContext::new(&legacy) {
///     Ok(_) => assert!(Engine::OpenSsl.can_tls10()),
///     Err(e) => {
///         assert!(!Engine::OpenSsl.available());
///         assert!(e.to_string().contains("openssl"), "{e}");
///     }
/// }
/// // On the default engine the same versions are refused with the reason, never narrowed silently.
/// let err = SslContext::new(&Options::new().version("TLSv1")).unwrap_err();
/// println!("{err}");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// rustls: memory-safe, TLS 1.2 and 1.3 (the default).
    #[default]
    Rustls,
    /// The system's OpenSSL (the `openssl` feature): TLS 1.0 to 1.3, OpenSSL cipher strings,
    /// PSK, finite-field DHE, for legacy peers.
    #[cfg_attr(docsrs, doc(cfg(feature = "openssl")))]
    OpenSsl,
}

impl Engine {
    /// Whether this engine is built in (the openssl engine needs the `openssl` feature).
    pub fn available(self) -> bool {
        match self {
            Engine::Rustls => true,
            Engine::OpenSsl => cfg!(feature = "openssl"),
        }
    }
    /// TLS 1.0 and 1.1 (`SSL_version` `TLSv1`, `TLSv1_1`).
    pub fn can_tls10(self) -> bool {
        self == Engine::OpenSsl && self.available()
    }
    /// Pre-shared keys.
    pub fn can_psk(self) -> bool {
        self == Engine::OpenSsl && self.available()
    }
    /// Finite-field DHE with the server's parameters (`SSL_dh_file`, `SSL_dh`).
    pub fn can_dh(self) -> bool {
        self == Engine::OpenSsl && self.available()
    }
    /// NPN (`SSL_npn_protocols`).
    pub fn can_npn(self) -> bool {
        self == Engine::OpenSsl && self.available()
    }
    /// Encrypted Client Hello: the default engine.
    pub fn can_ech(self) -> bool {
        self == Engine::Rustls
    }
}

impl std::str::FromStr for Engine {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.to_ascii_lowercase().as_str() {
            "rustls" | "default" => Ok(Engine::Rustls),
            "openssl" => Ok(Engine::OpenSsl),
            _ => Err(ConfigError::Invalid(format!(
                "unknown engine \"{s}\" (rustls or openssl)"
            ))),
        }
    }
}

/// Where DH parameters come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DhParams {
    File(PathBuf),
    Pem(Vec<u8>),
}

/// Pre-shared keys: a client's one identity and key, or a server's keys by identity.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Psk {
    pub(crate) keys: Vec<(String, Vec<u8>)>,
    pub(crate) identity_hint: Option<String>,
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys are secrets.
        f.debug_struct("Psk")
            .field(
                "identities",
                &self.keys.iter().map(|(i, _)| i).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The options of a TLS socket, context or listener: one field per `SSL_*` argument.
///
/// Build with chained setters; every setter says what it defaults to.
///
/// ```
/// use sslsock::{Options, VerifyMode};
/// let opts = Options::new()
///     .ca_file("/etc/ssl/certs/ca-certificates.crt")
///     .alpn_protocols(["h2", "http/1.1"])
///     .version("TLSv1_2:TLSv1_3");
/// assert_eq!(opts.verify_mode_value(), None);
/// ```
#[derive(Clone, Default)]
pub struct Options {
    pub(crate) server: bool,
    pub(crate) peer: Option<String>,
    pub(crate) peer_port: Option<String>,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) family: Family,
    pub(crate) ca_files: Vec<PathBuf>,
    pub(crate) ca_paths: Vec<PathBuf>,
    pub(crate) ca_certs: Vec<Vec<u8>>,
    pub(crate) no_ca: bool,
    pub(crate) cert: Option<Source>,
    pub(crate) key: Option<Source>,
    pub(crate) use_cert: Option<bool>,
    pub(crate) hostname: Option<String>,
    pub(crate) verify_mode: Option<VerifyMode>,
    pub(crate) verifycn_name: Option<String>,
    pub(crate) verifycn_scheme: Option<Scheme>,
    pub(crate) version: Option<String>,
    pub(crate) cipher_list: Option<String>,
    pub(crate) ciphersuites: Option<String>,
    pub(crate) ecdh_curve: Option<String>,
    pub(crate) alpn_protocols: Vec<Vec<u8>>,
    pub(crate) alpn_strict: bool,
    pub(crate) unclean_close_is_eof: bool,
    pub(crate) start_handshake: Option<bool>,
    pub(crate) keep_socket_on_error: bool,
    pub(crate) error_trap: Option<ErrorTrap>,
    pub(crate) fingerprints: Vec<String>,
    pub(crate) force_fingerprint: bool,
    pub(crate) verify_callback: Option<VerifyCallback>,
    pub(crate) check_crl: bool,
    pub(crate) crl_files: Vec<PathBuf>,
    pub(crate) ocsp_mode: Option<crate::ocsp::OcspMode>,
    pub(crate) ocsp_staple_callback: Option<crate::ocsp::StapleCallback>,
    pub(crate) ocsp_cache: Option<crate::ocsp::OcspCache>,
    pub(crate) ocsp_staple: Option<crate::ocsp::StapleSource>,
    pub(crate) ocsp_staple_store: Option<Arc<dyn crate::ocsp::StapleStore>>,
    pub(crate) crl_fetch: bool,
    pub(crate) ech: Option<crate::ech::EchMode>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) client_ca_files: Vec<PathBuf>,
    pub(crate) client_ca_certs: Vec<Vec<u8>>,
    /// `None`: the built-in list; `Some(None)`: no check; `Some(Some(list))`: that list.
    pub(crate) public_suffix: Option<Option<Arc<PublicSuffix>>>,
    pub(crate) password: Password,
    pub(crate) sni_certs: Vec<SniCert>,
    pub(crate) session_cache_size: Option<usize>,
    pub(crate) session_cache: Option<crate::session::SessionCache>,
    pub(crate) ticket_keycb: Option<crate::session::TicketKeyCallback>,
    pub(crate) server_session_store: Option<Arc<dyn crate::session::ServerSessionStore>>,
    pub(crate) honor_cipher_order: Option<bool>,
    pub(crate) npn_protocols: Vec<Vec<u8>>,
    pub(crate) engine: Option<Engine>,
    pub(crate) psk: Option<Psk>,
    /// Finite-field DH parameters, `SSL_dh_file` / `SSL_dh`.
    pub(crate) dh_params: Option<DhParams>,
    /// The engine's configuration hook (`engine_callback`, made and read by the engine).
    #[cfg(feature = "unstable-engine-config")]
    pub(crate) engine_hook: Option<Arc<dyn std::any::Any + Send + Sync>>,
    pub(crate) release_buffers: bool,
    pub(crate) per_name_ciphers: Vec<NamedCiphers>,
    pub(crate) session_key: Option<String>,
}

impl Options {
    /// These options over the defaults `d`: what is set here stays, what is unset is taken
    /// from `d` (lists whole; a flag that is on in either is on). The defaults layers
    /// ([`crate::args::set_defaults`]) and the client/server ones meet here.
    pub(crate) fn or_defaults(self, d: Options) -> Options {
        Options {
            server: self.server,
            peer: self.peer.or(d.peer),
            peer_port: self.peer_port.or(d.peer_port),
            local_addr: self.local_addr.or(d.local_addr),
            timeout: self.timeout.or(d.timeout),
            family: if self.family == Family::Any {
                d.family
            } else {
                self.family
            },
            ca_files: if self.ca_files.is_empty() {
                d.ca_files
            } else {
                self.ca_files
            },
            ca_paths: if self.ca_paths.is_empty() {
                d.ca_paths
            } else {
                self.ca_paths
            },
            ca_certs: if self.ca_certs.is_empty() {
                d.ca_certs
            } else {
                self.ca_certs
            },
            no_ca: self.no_ca || d.no_ca,
            cert: self.cert.or(d.cert),
            key: self.key.or(d.key),
            use_cert: self.use_cert.or(d.use_cert),
            hostname: self.hostname.or(d.hostname),
            verify_mode: self.verify_mode.or(d.verify_mode),
            verifycn_name: self.verifycn_name.or(d.verifycn_name),
            verifycn_scheme: self.verifycn_scheme.or(d.verifycn_scheme),
            version: self.version.or(d.version),
            cipher_list: self.cipher_list.or(d.cipher_list),
            ciphersuites: self.ciphersuites.or(d.ciphersuites),
            ecdh_curve: self.ecdh_curve.or(d.ecdh_curve),
            alpn_protocols: if self.alpn_protocols.is_empty() {
                d.alpn_protocols
            } else {
                self.alpn_protocols
            },
            alpn_strict: self.alpn_strict || d.alpn_strict,
            unclean_close_is_eof: self.unclean_close_is_eof || d.unclean_close_is_eof,
            start_handshake: self.start_handshake.or(d.start_handshake),
            keep_socket_on_error: self.keep_socket_on_error || d.keep_socket_on_error,
            error_trap: self.error_trap.or(d.error_trap),
            fingerprints: if self.fingerprints.is_empty() {
                d.fingerprints
            } else {
                self.fingerprints
            },
            force_fingerprint: self.force_fingerprint || d.force_fingerprint,
            verify_callback: self.verify_callback.or(d.verify_callback),
            check_crl: self.check_crl || d.check_crl,
            crl_files: if self.crl_files.is_empty() {
                d.crl_files
            } else {
                self.crl_files
            },
            ocsp_mode: self.ocsp_mode.or(d.ocsp_mode),
            ocsp_staple_callback: self.ocsp_staple_callback.or(d.ocsp_staple_callback),
            ocsp_cache: self.ocsp_cache.or(d.ocsp_cache),
            ocsp_staple: self.ocsp_staple.or(d.ocsp_staple),
            ocsp_staple_store: self.ocsp_staple_store.or(d.ocsp_staple_store),
            crl_fetch: self.crl_fetch || d.crl_fetch,
            ech: self.ech.or(d.ech),
            idle_timeout: self.idle_timeout.or(d.idle_timeout),
            client_ca_files: if self.client_ca_files.is_empty() {
                d.client_ca_files
            } else {
                self.client_ca_files
            },
            client_ca_certs: if self.client_ca_certs.is_empty() {
                d.client_ca_certs
            } else {
                self.client_ca_certs
            },
            public_suffix: self.public_suffix.or(d.public_suffix),
            password: if matches!(self.password, Password::None) {
                d.password
            } else {
                self.password
            },
            sni_certs: if self.sni_certs.is_empty() {
                d.sni_certs
            } else {
                self.sni_certs
            },
            session_cache_size: self.session_cache_size.or(d.session_cache_size),
            session_cache: self.session_cache.or(d.session_cache),
            ticket_keycb: self.ticket_keycb.or(d.ticket_keycb),
            server_session_store: self.server_session_store.or(d.server_session_store),
            honor_cipher_order: self.honor_cipher_order.or(d.honor_cipher_order),
            npn_protocols: if self.npn_protocols.is_empty() {
                d.npn_protocols
            } else {
                self.npn_protocols
            },
            engine: self.engine.or(d.engine),
            psk: self.psk.or(d.psk),
            dh_params: self.dh_params.or(d.dh_params),
            #[cfg(feature = "unstable-engine-config")]
            engine_hook: self.engine_hook.or(d.engine_hook),
            release_buffers: self.release_buffers || d.release_buffers,
            per_name_ciphers: if self.per_name_ciphers.is_empty() {
                d.per_name_ciphers
            } else {
                self.per_name_ciphers
            },
            session_key: self.session_key.or(d.session_key),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("server", &self.server)
            .field("peer", &self.peer)
            .field("peer_port", &self.peer_port)
            .field("verify_mode", &self.verify_mode)
            .field("hostname", &self.hostname)
            .field("version", &self.version)
            .field("cipher_list", &self.cipher_list)
            .field("alpn", &self.alpn_protocols.len())
            .field(
                "server_session_store",
                &self.server_session_store.as_ref().map(|_| "(a store)"),
            )
            .field(
                "ocsp_staple_store",
                &self.ocsp_staple_store.as_ref().map(|_| "(a store)"),
            )
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Options with every default (a verifying client).
    pub fn new() -> Options {
        Options::default()
    }

    /// Options for the server side (`SSL_server => 1`). Defaults to client.
    #[doc(alias = "SSL_server")]
    pub fn server(mut self, yes: bool) -> Self {
        self.server = yes;
        self
    }
    /// The address to connect to (`PeerAddr`, `PeerHost`): `host:port`, `[v6]:port`,
    /// `host:service`, or a host alone with [`peer_port`](Self::peer_port). It is the
    /// address connected to when the constructor is given none
    /// (`SslSocket::connect_with("", &options)`); a constructor's own address that differs is
    /// refused as a contradiction. Without a [`hostname`](Self::hostname) its host is also the
    /// name sent (SNI) and verified. No default.
    ///
    /// ```no_run
    /// use sslsock::{Options, SslSocket};
    /// let opts = Options::new().peer("example.org").peer_port("https");
    /// let sock = SslSocket::connect_with("", &opts)?;
    /// # Ok::<(), sslsock::Error>(())
    /// ```
    #[doc(alias = "PeerAddr")]
    #[doc(alias = "PeerHost")]
    pub fn peer(mut self, addr: impl Into<String>) -> Self {
        self.peer = Some(addr.into());
        self
    }
    /// The port of [`peer`](Self::peer) when that has none (`PeerPort`): a number or a
    /// service name (`https`, `imaps`). A port written in `peer` wins, as in Perl. No default.
    #[doc(alias = "PeerPort")]
    pub fn peer_port(mut self, port: impl Into<String>) -> Self {
        self.peer_port = Some(port.into());
        self
    }
    /// The local address to bind before connecting (`LocalAddr`). Defaults to any.
    pub fn local_addr(mut self, addr: SocketAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }
    /// After the handshake, end a read when the peer has sent nothing for `t`, with
    /// [`Error::Timeout`]: blocking sockets arm it as their read
    /// timeout (unless the caller set one), [`AsyncSslSocket`](crate::AsyncSslSocket) with a
    /// timer; a non-blocking socket (mio, or `set_blocking(false)`) leaves it to its event loop
    /// and says so with a warning. A read timeout the caller sets replaces it. Defaults to none.
    #[doc(alias = "SSL_idle_timeout")]
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = Some(t);
        self
    }
    /// Timeout for the TCP connect and for the handshake (`Timeout`). Defaults to none.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// Force IPv4 or IPv6. Defaults to [`Family::Any`].
    pub fn family(mut self, f: Family) -> Self {
        self.family = f;
        self
    }
    /// A CA bundle file (`SSL_ca_file`); may be given several times. Defaults to [`crate::default_ca`].
    #[doc(alias = "SSL_ca_file")]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }
    /// CA directories (`SSL_ca_path`), several separated by ':'. Defaults to [`crate::default_ca`].
    #[doc(alias = "SSL_ca_path")]
    pub fn ca_path(mut self, paths: impl AsRef<str>) -> Self {
        self.ca_paths.extend(
            paths
                .as_ref()
                .split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        );
        self
    }
    /// A trusted CA certificate in memory, PEM or DER (`SSL_ca`). Defaults to none.
    #[doc(alias = "SSL_ca")]
    pub fn ca_cert(mut self, pem_or_der: impl Into<Vec<u8>>) -> Self {
        self.ca_certs.push(pem_or_der.into());
        self
    }
    /// Use no CA at all (`SSL_ca_file => undef, SSL_ca_path => undef`): only pins or
    /// `VerifyMode::NONE` can then accept a peer. Defaults to false.
    pub fn no_ca(mut self) -> Self {
        self.no_ca = true;
        self
    }
    /// Own certificate chain file, PEM (leaf first) or DER (`SSL_cert_file`). Defaults to none.
    #[doc(alias = "SSL_cert_file")]
    pub fn cert_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert = Some(Source::File(path.into()));
        self
    }
    /// Own private key file, PEM or DER (`SSL_key_file`). Defaults to the key inside the cert file.
    #[doc(alias = "SSL_key_file")]
    pub fn key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(Source::File(path.into()));
        self
    }
    /// Own certificate chain in memory, PEM or DER (`SSL_cert`). Defaults to none.
    #[doc(alias = "SSL_cert")]
    pub fn cert_pem(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.cert = Some(Source::Memory(bytes.into()));
        self
    }
    /// Own private key in memory, PEM or DER (`SSL_key`). Defaults to none.
    #[doc(alias = "SSL_key")]
    pub fn key_pem(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.key = Some(Source::Memory(bytes.into()));
        self
    }
    /// Client: send the configured certificate (`SSL_use_cert`). Defaults to true when a
    /// certificate is given.
    #[doc(alias = "SSL_use_cert")]
    pub fn use_cert(mut self, yes: bool) -> Self {
        self.use_cert = Some(yes);
        self
    }
    /// Name sent in SNI (`SSL_hostname`); `""` disables SNI. Defaults to the peer host name.
    #[doc(alias = "SSL_hostname")]
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = Some(name.into());
        self
    }
    /// `SSL_verify_mode`. Defaults to `PEER` on clients, `NONE` on servers.
    #[doc(alias = "SSL_verify_mode")]
    pub fn verify_mode(mut self, mode: VerifyMode) -> Self {
        self.verify_mode = Some(mode);
        self
    }
    /// The configured verify mode, if one was set explicitly.
    pub fn verify_mode_value(&self) -> Option<VerifyMode> {
        self.verify_mode
    }
    /// The name the certificate must match (`SSL_verifycn_name`). Defaults to the SNI name,
    /// else the peer host.
    #[doc(alias = "SSL_verifycn_name")]
    pub fn verifycn_name(mut self, name: impl Into<String>) -> Self {
        self.verifycn_name = Some(name.into());
        self
    }
    /// The hostname scheme (`SSL_verifycn_scheme`). Defaults to `default`, the Perl module's
    /// default; new code should choose `Scheme::named("strict")` (SAN only, RFC 9525). The
    /// schemes are tabled in [`crate::verify::hostname`].
    #[doc(alias = "SSL_verifycn_scheme")]
    pub fn verifycn_scheme(mut self, scheme: Scheme) -> Self {
        self.verifycn_scheme = Some(scheme);
        self
    }
    /// Protocol versions (`SSL_version`), e.g. `"TLSv1_2"`, `"SSLv23:!TLSv1_3"`.
    /// Defaults to TLS 1.2 and 1.3.
    #[doc(alias = "SSL_version")]
    pub fn version(mut self, spec: impl Into<String>) -> Self {
        self.version = Some(spec.into());
        self
    }
    /// TLS 1.2 cipher string in OpenSSL syntax (`SSL_cipher_list`). Defaults to every suite the engine has.
    #[doc(alias = "SSL_cipher_list")]
    pub fn cipher_list(mut self, spec: impl Into<String>) -> Self {
        self.cipher_list = Some(spec.into());
        self
    }
    /// TLS 1.3 suites, ':'-separated (`SSL_ciphersuites`). Defaults to every TLS 1.3 suite.
    #[doc(alias = "SSL_ciphersuites")]
    pub fn ciphersuites(mut self, spec: impl Into<String>) -> Self {
        self.ciphersuites = Some(spec.into());
        self
    }
    /// Key exchange groups (`SSL_ecdh_curve`), e.g. `"X25519:P-256"` or `"auto"`.
    /// Defaults to X25519MLKEM768, X25519, P-256, P-384.
    #[doc(alias = "SSL_ecdh_curve")]
    pub fn ecdh_curve(mut self, spec: impl Into<String>) -> Self {
        self.ecdh_curve = Some(spec.into());
        self
    }
    /// ALPN protocols in preference order (`SSL_alpn_protocols`). Defaults to none.
    #[doc(alias = "SSL_alpn_protocols")]
    pub fn alpn_protocols<I, P>(mut self, protos: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn_protocols = protos.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }
    /// Reads a peer's close without close_notify as an ordinary end of stream, as the Perl
    /// module does. Defaults to off: such a read fails with `io::ErrorKind::UnexpectedEof`
    /// ("peer closed the connection without sending close_notify (possible truncation)"),
    /// because an attacker who can cut the connection can cut the data short too; turn this
    /// on only for peers known to close that way whose protocol carries its own lengths.
    pub fn treat_unclean_close_as_eof(mut self, yes: bool) -> Self {
        self.unclean_close_is_eof = yes;
        self
    }
    /// Server: refuse a client whose ALPN offer shares no protocol with ours (alert
    /// `no_application_protocol`, RFC 7301's strict reading). Defaults to off: as OpenSSL and
    /// the Perl module do, the handshake goes on without ALPN and
    /// [`crate::SslSocket::alpn_selected`] says `None`.
    pub fn alpn_strict(mut self, strict: bool) -> Self {
        self.alpn_strict = strict;
        self
    }
    /// `false` delays the handshake until `connect_ssl`/`accept_ssl` (`SSL_startHandshake`).
    /// Defaults to true.
    #[doc(alias = "SSL_startHandshake")]
    pub fn start_handshake(mut self, yes: bool) -> Self {
        self.start_handshake = Some(yes);
        self
    }
    /// Give the plain stream back when the handshake fails (`SSL_keepSocketOnError`).
    /// Defaults to false (the stream is closed).
    #[doc(alias = "SSL_keepSocketOnError")]
    pub fn keep_socket_on_error(mut self, yes: bool) -> Self {
        self.keep_socket_on_error = yes;
        self
    }
    /// Called with the plain stream when a server handshake fails (`SSL_error_trap`). Defaults to none.
    pub fn error_trap(
        mut self,
        trap: impl Fn(&mut dyn PlainStream, &Error) + Send + Sync + 'static,
    ) -> Self {
        self.error_trap = Some(Arc::new(trap));
        self
    }

    /// Accept a peer whose leaf certificate matches this fingerprint, whatever its chain
    /// and name (`SSL_fingerprint`); may be given several times. Forms: `sha256$hex`,
    /// `sha256$pub$hex` (public key), bare hex (algorithm from its length); colons are
    /// ignored. A leaf that matches no pin is verified as usual, unless
    /// [`force_fingerprint`](Self::force_fingerprint). Defaults to none.
    #[doc(alias = "SSL_fingerprint")]
    pub fn fingerprint(mut self, pin: impl Into<String>) -> Self {
        self.fingerprints.push(pin.into());
        self
    }
    /// Make the pins mandatory: a leaf matching none is refused even when its chain
    /// verifies. Defaults to false.
    pub fn force_fingerprint(mut self, yes: bool) -> Self {
        self.force_fingerprint = yes;
        self
    }
    /// Decide per certificate of the peer's chain (`SSL_verify_callback`); see
    /// [`VerifyCallback`] for when it is called and what it may override. Defaults to none.
    pub fn verify_callback(
        mut self,
        cb: impl Fn(&VerifyInfo<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.verify_callback = Some(Arc::new(cb));
        self
    }
    /// Check revocation with CRLs (`SSL_check_crl`): from [`crl_file`](Self::crl_file), else
    /// those found in the CA files and directories. A CRL of the leaf's issuer is required;
    /// intermediates are checked when their issuer's CRL is present. Defaults to false.
    #[doc(alias = "SSL_check_crl")]
    pub fn check_crl(mut self, yes: bool) -> Self {
        self.check_crl = yes;
        self
    }
    /// A CRL file, PEM (several CRLs) or DER (`SSL_crl_file`); implies
    /// [`check_crl`](Self::check_crl). May be given several times. Defaults to none.
    #[doc(alias = "SSL_crl_file")]
    pub fn crl_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.crl_files.push(path.into());
        self
    }
    /// How revocation is checked with OCSP (`SSL_ocsp_mode`); see [`crate::ocsp`]. Defaults
    /// to [`OcspMode::TRY_STAPLE`](crate::ocsp::OcspMode::TRY_STAPLE) when the peer is
    /// verified. [`OcspMode::NO_CHECK`](crate::ocsp::OcspMode::NO_CHECK) is logged as
    /// dangerous.
    #[doc(alias = "SSL_ocsp_mode")]
    pub fn ocsp_mode(mut self, mode: crate::ocsp::OcspMode) -> Self {
        self.ocsp_mode = Some(mode);
        self
    }
    /// The configured OCSP mode, if one was set explicitly (a context's
    /// [`options`](crate::SslContext::options) hold the defaults and Perl arguments applied).
    pub fn ocsp_mode_value(&self) -> Option<crate::ocsp::OcspMode> {
        self.ocsp_mode
    }
    /// Replace the built-in check of the stapled OCSP response (`SSL_ocsp_staple_callback`);
    /// see [`StapleCallback`](crate::ocsp::StapleCallback). Defaults to the built-in check.
    pub fn ocsp_staple_callback(
        mut self,
        cb: impl Fn(&crate::ocsp::StapleInfo<'_>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.ocsp_staple_callback = Some(Arc::new(cb));
        self
    }
    /// The OCSP response cache (`SSL_ocsp_cache`). Defaults to the process-wide
    /// [`OcspCache::process_default`](crate::ocsp::OcspCache::process_default).
    pub fn ocsp_cache(mut self, cache: crate::ocsp::OcspCache) -> Self {
        self.ocsp_cache = Some(cache);
        self
    }
    /// Client: when no staple settled the leaf's status, fetch its issuer's CRL from the
    /// leaf's CRL distribution point during the handshake (kept until the CRL's nextUpdate).
    /// A listed leaf is refused; a CRL that cannot be fetched or verified is a soft error,
    /// fatal under [`OcspMode::FAIL_HARD`](crate::ocsp::OcspMode::FAIL_HARD). Defaults to
    /// false.
    #[doc(alias = "SSL_crl_fetch")]
    pub fn crl_fetch(mut self, yes: bool) -> Self {
        self.crl_fetch = yes;
        self
    }
    /// Client: Encrypted Client Hello ([`crate::ech`]): encrypt the ClientHello to a server's
    /// configuration so the server name does not travel in the clear, or send GREASE. ECH
    /// needs TLS 1.3: with the default versions the context offers TLS 1.3 only; a version
    /// spec that also allows TLS 1.2 is narrowed to TLS 1.3 with a warning, and one that
    /// allows only TLS 1.2 is refused. Defaults to [`EchMode::Off`](crate::ech::EchMode::Off).
    ///
    /// ```
    /// use sslsock::ech::EchMode;
    /// let opts = sslsock::Options::new().ech(EchMode::Grease);
    /// # let _ = opts;
    /// ```
    pub fn ech(mut self, mode: crate::ech::EchMode) -> Self {
        self.ech = Some(mode);
        self
    }
    /// Server: staple an OCSP response to the certificate (and to each SNI certificate):
    /// from a file, or fetched from the responder and renewed before it runs out; see
    /// [`StapleSource`](crate::ocsp::StapleSource). A fixed response that does not verify
    /// for the certificate, or is not current, is a configuration error. Defaults to none.
    #[doc(alias = "SSL_ocsp_staple")]
    pub fn ocsp_staple(mut self, source: crate::ocsp::StapleSource) -> Self {
        self.ocsp_staple = Some(source);
        self
    }
    /// Server: share the staples fetched from the responder ([`ocsp_staple`](Self::ocsp_staple)
    /// with [`StapleSource::Auto`](crate::ocsp::StapleSource::Auto)) with the other servers
    /// of a fleet through `store`: one server asks the responder and the others serve its
    /// answer, each checking it as its own. Refused without `StapleSource::Auto`. Defaults
    /// to none (each server asks the responder).
    pub fn ocsp_staple_store(mut self, store: Arc<dyn crate::ocsp::StapleStore>) -> Self {
        self.ocsp_staple_store = Some(store);
        self
    }
    /// Server: CA certificates whose names are sent as the acceptable CA list when asking for
    /// a client certificate (`SSL_client_ca_file`). Defaults to the names of the trusted CAs.
    #[doc(alias = "SSL_client_ca_file")]
    pub fn client_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_ca_files.push(path.into());
        self
    }
    /// Server: like [`client_ca_file`](Self::client_ca_file) from PEM or DER in memory (`SSL_client_ca`).
    #[doc(alias = "SSL_client_ca")]
    pub fn client_ca(mut self, pem_or_der: impl Into<Vec<u8>>) -> Self {
        self.client_ca_certs.push(pem_or_der.into());
        self
    }
    /// The public suffix list that keeps certificate wildcards from covering a suffix
    /// (`SSL_verifycn_publicsuffix`); `None` turns the check off. Defaults to the built-in list.
    #[doc(alias = "SSL_verifycn_publicsuffix")]
    pub fn verifycn_publicsuffix(mut self, list: Option<Arc<PublicSuffix>>) -> Self {
        self.public_suffix = Some(list);
        self
    }

    /// The password of an encrypted private key or PKCS#12 file. Defaults to none.
    #[doc(alias = "SSL_key_password")]
    pub fn key_password(mut self, password: impl Into<String>) -> Self {
        self.password = Password::Fixed(password.into());
        self
    }
    /// A callback giving the password of an encrypted key or PKCS#12 file (`SSL_passwd_cb`);
    /// called only when encrypted material is met. Defaults to none.
    pub fn passwd_cb(mut self, cb: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.password = Password::Callback(Arc::new(cb));
        self
    }

    /// Server: a certificate for clients asking for `name` with SNI (`SSL_cert_file` as a
    /// hash). `""` is the default for clients without SNI or with an unknown name; a name may
    /// be a wildcard (`*.example.org`); `name%anything` adds an alternate (an RSA and an ECDSA
    /// certificate for one name: the client's signature algorithms pick). Without a key the
    /// key is looked for in the certificate file. Defaults to none (the one `cert_file`).
    pub fn sni_cert(mut self, name: &str, cert: impl Into<PathBuf>, key: Option<PathBuf>) -> Self {
        let name = name.split('%').next().unwrap_or("").to_owned();
        self.sni_certs.push(SniCert {
            name,
            cert: Source::File(cert.into()),
            key: key.map(Source::File),
        });
        self
    }
    /// Server: TLS 1.2 cipher string (`cipher_list`) and/or TLS 1.3 suites (`ciphersuites`) for
    /// clients asking for `name` with SNI (the hash form of `SSL_cipher_list` /
    /// `SSL_ciphersuites`); wildcards as in [`sni_cert`](Self::sni_cert). Defaults to the
    /// context's lists for every name.
    pub fn ciphers_for(
        mut self,
        name: &str,
        cipher_list: Option<&str>,
        ciphersuites: Option<&str>,
    ) -> Self {
        self.per_name_ciphers.push(NamedCiphers {
            name: name.to_owned(),
            cipher_list: cipher_list.map(str::to_owned),
            ciphersuites: ciphersuites.map(str::to_owned),
        });
        self
    }
    /// Client: sessions kept for resumption; server: sessions kept in its cache
    /// (`SSL_session_cache_size`); 0 turns caching off. Defaults to 256 on both sides.
    #[doc(alias = "SSL_session_cache_size")]
    pub fn session_cache_size(mut self, n: usize) -> Self {
        self.session_cache_size = Some(n);
        self
    }
    /// Client: file sessions under this key instead of `host:port` (`SSL_session_key`), e.g.
    /// to resume across the ports of one server (FTPS control and data). Defaults to
    /// `host:port` of the peer (for `start_ssl`: the `peer` option, else the server name).
    #[doc(alias = "SSL_session_key")]
    pub fn session_key(mut self, key: impl Into<String>) -> Self {
        self.session_key = Some(key.into());
        self
    }
    /// Client: a cache shared with other contexts (`SSL_session_cache`). Defaults to the
    /// process-wide cache when one is set ([`crate::set_default_session_cache`]), else one per context.
    pub fn session_cache(mut self, cache: &crate::session::SessionCache) -> Self {
        self.session_cache = Some(cache.clone());
        self
    }
    /// Server: stateless session tickets under keys from `cb` (`SSL_ticket_keycb`): called
    /// with `None` it returns the current (key, name); with a ticket's name it returns that
    /// key, or `None` for a retired one, and the client then does a full handshake. Resumed
    /// clients get new tickets under the current key. Defaults to tickets bound to the
    /// server's session cache.
    pub fn ticket_keycb(
        mut self,
        cb: impl Fn(Option<&[u8; 16]>) -> Option<crate::session::TicketKey> + Send + Sync + 'static,
    ) -> Self {
        self.ticket_keycb = Some(Arc::new(cb));
        self
    }
    /// Server: stateless session tickets under the keys of `ring`, which rotates them
    /// ([`TicketKeyRing`](crate::TicketKeyRing) in this process, a fleet's shared keys, or
    /// your own [`TicketKeys`](crate::TicketKeys)); servers given the same keys open each
    /// other's tickets. The same as [`ticket_keycb`](Self::ticket_keycb) with the ring's
    /// [`current`](crate::TicketKeys::current) and [`find`](crate::TicketKeys::find), on
    /// both engines.
    pub fn ticket_key_ring(self, ring: Arc<dyn crate::session::TicketKeys>) -> Self {
        self.ticket_keycb(move |name| match name {
            None => ring.current(),
            Some(name) => ring.find(name),
        })
    }
    /// Server: keep resumable sessions (TLS 1.2 session IDs, TLS 1.3 stateful tickets) in
    /// `store` instead of the context's own cache, so that servers sharing the store resume
    /// each other's sessions. TLS 1.3 tickets are then stateful unless
    /// [`ticket_keycb`](Self::ticket_keycb) gives shared ticket keys. The default engine only: the openssl
    /// engine keeps sessions in OpenSSL's cache and refuses it, by name. Defaults to the
    /// context's own cache.
    pub fn server_session_store(
        mut self,
        store: Arc<dyn crate::session::ServerSessionStore>,
    ) -> Self {
        self.server_session_store = Some(store);
        self
    }
    /// Server: choose the cipher suite by the server's order (`SSL_honor_cipher_order`).
    /// Defaults to true.
    #[doc(alias = "SSL_honor_cipher_order")]
    pub fn honor_cipher_order(mut self, yes: bool) -> Self {
        self.honor_cipher_order = Some(yes);
        self
    }
    /// The TLS implementation of the context: [`Engine::Rustls`] (the default) or
    /// [`Engine::OpenSsl`] (the `openssl` feature), for legacy peers: TLS 1.0/1.1, OpenSSL
    /// cipher strings as they are, PSK, finite-field DHE. Never chosen silently: an option
    /// only the openssl engine has is refused on the default one, naming it.
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = Some(engine);
        self
    }
    /// Client: authenticate with a pre-shared key instead of certificates (openssl engine):
    /// the identity sent and the key.
    pub fn psk(mut self, identity: impl Into<String>, key: impl Into<Vec<u8>>) -> Self {
        self.psk = Some(Psk {
            keys: vec![(identity.into(), key.into())],
            identity_hint: None,
        });
        self
    }
    /// Server: the pre-shared keys by identity (openssl engine). A client's identity that is
    /// not among them fails its handshake.
    pub fn psk_server<I, S, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = (S, K)>,
        S: Into<String>,
        K: Into<Vec<u8>>,
    {
        self.psk = Some(Psk {
            keys: keys
                .into_iter()
                .map(|(i, k)| (i.into(), k.into()))
                .collect(),
            identity_hint: self.psk.and_then(|p| p.identity_hint),
        });
        self
    }
    /// Server: the identity hint sent to PSK clients in TLS 1.2 (openssl engine).
    pub fn psk_identity_hint(mut self, hint: impl Into<String>) -> Self {
        let mut psk = self.psk.take().unwrap_or(Psk {
            keys: Vec::new(),
            identity_hint: None,
        });
        psk.identity_hint = Some(hint.into());
        self.psk = Some(psk);
        self
    }
    /// Server: finite-field Diffie-Hellman parameters for DHE suites, from a PEM file made by
    /// `openssl dhparam` (`SSL_dh_file`; openssl engine), read when the context is made.
    pub fn dh_file(mut self, path: impl AsRef<Path>) -> Self {
        self.dh_params = Some(DhParams::File(path.as_ref().to_owned()));
        self
    }
    /// Server: DH parameters as PEM text (`SSL_dh`; openssl engine).
    pub fn dh_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.dh_params = Some(DhParams::Pem(pem.into()));
        self
    }
    /// NPN (`SSL_npn_protocols`, TLS 1.2 and older): the protocols a server advertises or a
    /// client picks from, by preference. Obsolete; the openssl engine has it, and on the
    /// default engine any protocol here fails the configuration, naming that engine. Use ALPN.
    pub fn npn_protocols<I, P>(mut self, protos: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.npn_protocols = protos.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }
    /// Free the input buffer whenever it runs empty (`SSL_mode_release_buffers`): an idle
    /// connection then holds only the engine's state, at the cost of an allocation per
    /// record while data flows. Defaults to false (the buffer is allocated at the first read
    /// and kept).
    #[doc(alias = "SSL_mode_release_buffers")]
    pub fn release_buffers(mut self, yes: bool) -> Self {
        self.release_buffers = yes;
        self
    }

    pub(crate) fn is_lazy(&self) -> bool {
        self.start_handshake == Some(false)
    }
}

#[cfg(feature = "unstable-engine-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "unstable-engine-config")))]
impl Options {
    /// **Unstable and dangerous** (`SSL_create_ctx_callback`): change the engine configuration
    /// before it is frozen. This ties the caller to the engine's types ([`crate::advanced`]); everything
    /// sslsock set (verification included) can be undone here, so use it with care.
    pub fn engine_callback(
        mut self,
        hook: impl Fn(crate::advanced::EngineConfigMut<'_>) + Send + Sync + 'static,
    ) -> Self {
        let hook: crate::advanced::EngineHook = Arc::new(hook);
        self.engine_hook = Some(Arc::new(hook));
        self
    }
}
