//! The one error type of sslsock, with typed detail for each failure class.
//!
//! Every fallible call returns [`Error`]. Its `Display` (and its `Debug`, so `?` in `main`
//! prints it) is one line a user can act on; its variants say which class failed:
//! configuration (before a byte is sent), verification ([`VerifyError`], with the TLS alert
//! that was sent), the protocol ([`TlsError`]), a peer that does not speak TLS, timeouts and
//! the transport. A program that wants to react matches on them:
//!
//! ```
//! use sslsock::x509::create::CertSpec;
//! use sslsock::{Error, Options, SslListener, SslSocket, VerifyError};
//!
//! // A server whose certificate names "other.example", not the name the client checks.
//! let ca = CertSpec::new("Example CA").ca().self_signed()?;
//! let leaf = CertSpec::new("other.example").san("other.example").signed_by(&ca)?;
//! let server = Options::new().cert_pem(leaf.cert_pem).key_pem(leaf.key_pem);
//! let listener = SslListener::bind("127.0.0.1:0", &server)?;
//! let addr = listener.local_addr()?.to_string();
//! std::thread::spawn(move || { let _ = listener.accept(); });
//!
//! let client = Options::new().ca_cert(ca.cert_pem).hostname("www.example");
//! match SslSocket::connect_with(&addr, &client) {
//!     Err(Error::Verify(VerifyError::NameMismatch { expected, presented, .. })) => {
//!         assert_eq!(expected, "www.example");
//!         assert_eq!(presented, ["other.example"]);
//!     }
//!     Err(other) => panic!("another failure: {other}"),
//!     Ok(_) => panic!("a certificate for another name was accepted"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

/// An error's message as written, before control characters are escaped.
trait Words {
    fn words(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// `Words` as `Display`.
struct Raw<'a, T: ?Sized>(&'a T);

impl<T: Words + ?Sized> fmt::Display for Raw<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.words(f)
    }
}

/// Messages carry names and bytes from peers and files: shown with control characters
/// escaped (see [`crate::escape_control`]).
macro_rules! escaped_display {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let raw = Raw(self).to_string();
                f.write_str(&crate::text::escape_control(&raw))
            }
        }
    };
}

/// Everything that can go wrong when configuring, connecting, handshaking or talking TLS.
///
/// The `Display` text is one line, precise enough to act on, e.g.
/// `certificate verify failed: hostname "a.example" does not match certificate names [b.example] (scheme default)`.
///
/// `{:?}` shows the same text, so `fn main() -> Result<(), Box<dyn std::error::Error>>` prints
/// what a user can act on; `{:#?}` shows the structured form, and a `match` reaches every detail:
///
/// ```
/// use sslsock::{Error, VerifyError};
///
/// let e = Error::Verify(VerifyError::NoPeerCertificate);
/// assert_eq!(format!("{e:?}"), "certificate verify failed: peer did not send a certificate");
/// assert_eq!(format!("{e:#?}"), "Verify(\n    NoPeerCertificate,\n)");
/// match e {
///     Error::Verify(VerifyError::NoPeerCertificate) => { /* ask for a client certificate */ }
///     Error::Verify(other) => eprintln!("refused: {other} (TLS alert {})", other.alert()),
///     other => eprintln!("{other}"),
/// }
/// ```
#[non_exhaustive]
pub enum Error {
    /// An option, option string or file given in the configuration is unusable.
    Config(ConfigError),
    /// The peer's certificate was not accepted.
    Verify(VerifyError),
    /// The TLS protocol failed: an alert from the peer, a version or cipher mismatch, a bad message.
    Tls(TlsError),
    /// The peer does not speak TLS; `first_bytes` shows what it sent instead.
    NotTls {
        /// Up to 16 bytes the peer sent, printable characters kept and others escaped.
        first_bytes: String,
    },
    /// The peer closed the connection before the handshake finished.
    HandshakeEof,
    /// Connecting, handshaking or waiting for the peer took longer than the configured timeout.
    Timeout(&'static str),
    /// Name resolution failed or yielded no usable address.
    Resolve {
        /// The host that was looked up.
        host: String,
        /// Why it failed.
        reason: String,
    },
    /// The listening socket could not be bound.
    Bind {
        /// The address (as given).
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// The TCP connection could not be established.
    Connect {
        /// The address (as given) that was tried.
        addr: String,
        /// The last error seen.
        source: io::Error,
    },
    /// An operation was called in a state where it makes no sense (e.g. `stop_ssl` on a plain socket).
    State(&'static str),
    /// The transport failed.
    Io(io::Error),
}

/// A configuration problem, found before any byte is sent.
///
/// ```
/// use sslsock::{ConfigError, Error, Options, SslContext};
/// let err = SslContext::new(&Options::new().cert_file("/nonexistent/cert.pem")).unwrap_err();
/// match err {
///     Error::Config(ConfigError::File { path, reason }) => {
///         assert_eq!(path, std::path::Path::new("/nonexistent/cert.pem"));
///         println!("{reason}");
///     }
///     other => panic!("{other}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A certificate, key or CA could not be parsed or does not fit.
    Certificate(String),
    /// The protocol version string is malformed or selects nothing usable.
    Version {
        /// The string as given.
        spec: String,
        /// Why it is refused.
        reason: String,
    },
    /// The cipher string selects nothing or contains an unknown word.
    Cipher {
        /// The string as given.
        spec: String,
        /// Why it is refused.
        reason: String,
    },
    /// The group (curve) string is malformed or selects nothing.
    Groups {
        /// The string as given.
        spec: String,
        /// Why it is refused.
        reason: String,
    },
    /// A name or address is malformed.
    Name(String),
    /// An encrypted key or PKCS#12 file could not be opened.
    Password {
        /// Which file (or data) and what in it.
        what: String,
        /// True when no password was given, false when the given one is wrong.
        missing: bool,
    },
    /// Any other invalid option, with a sentence saying which and why.
    Invalid(String),
    /// An Encrypted Client Hello configuration is malformed or cannot be used.
    Ech(crate::ech::EchError),
    /// An IO::Socket::SSL-style argument ([`crate::args`]) that is unknown, refused or badly
    /// written.
    Argument {
        /// The key, as given (`SSL_version`).
        key: String,
        /// Why.
        reason: String,
    },
}

/// Why the peer's certificate was refused.
///
/// Each reason carries what a user needs to act (the names compared, the dates, the issuer)
/// and maps to the TLS alert that was sent ([`VerifyError::alert`]):
///
/// ```
/// use sslsock::x509::create::CertSpec;
/// use sslsock::{Options, SslListener, SslSocket, VerifyError};
///
/// let self_signed = CertSpec::new("localhost").san("localhost").self_signed()?;
/// let server = Options::new().cert_pem(self_signed.cert_pem).key_pem(self_signed.key_pem);
/// let listener = SslListener::bind("127.0.0.1:0", &server)?;
/// let addr = listener.local_addr()?.to_string();
/// std::thread::spawn(move || { let _ = listener.accept(); });
///
/// let err = SslSocket::connect_with(&addr, &Options::new().hostname("localhost")).unwrap_err();
/// let sslsock::Error::Verify(why) = err else { panic!("{err}") };
/// assert!(matches!(why, VerifyError::SelfSigned { .. } | VerifyError::UnknownIssuer { .. }), "{why}");
/// println!("{why} (alert {})", why.alert());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The identity does not match the names in the certificate.
    NameMismatch {
        /// The name we expected.
        expected: String,
        /// The DNS/IP names and common name found in the certificate.
        presented: Vec<String>,
        /// The hostname scheme used for the comparison.
        scheme: String,
    },
    /// No identity is known to check the certificate against.
    NoName,
    /// The certificate (or one in its chain) has expired.
    Expired {
        /// The notAfter of the certificate.
        not_after: SystemTime,
        /// The time of the check.
        now: SystemTime,
    },
    /// The certificate (or one in its chain) is not valid yet.
    NotYetValid {
        /// The notBefore of the certificate.
        not_before: SystemTime,
        /// The time of the check.
        now: SystemTime,
    },
    /// The certificate is self-signed and not among the trusted roots.
    SelfSigned {
        /// The certificate's subject.
        subject: String,
    },
    /// No path leads from the certificate to a trusted root.
    UnknownIssuer {
        /// The issuer named by the last certificate the peer sent.
        issuer: String,
    },
    /// The peer sent no certificate although one was required.
    NoPeerCertificate,
    /// The certificate is not allowed for this purpose (e.g. a client certificate used by a server).
    BadPurpose,
    /// A signature in the chain is invalid.
    BadSignature,
    /// The peer's handshake signature (CertificateVerify, or the TLS 1.2 key exchange) was
    /// refused: made with a key that is too weak or of an unsupported kind, or not verifying.
    HandshakeSignature {
        /// The key of the peer's certificate: `RSA 1024 bits`, `EC secp256k1`, ...
        key: String,
        /// Why the signature was refused.
        reason: String,
    },
    /// A name the certificate was accepted for lies outside the name constraints of a CA on
    /// the validated path.
    NameConstraint {
        /// The name (the host name checked, or the certificate name that matched it).
        name: String,
        /// The CA whose constraints it violates (subject, OpenSSL one-line form).
        ca: String,
        /// Which constraint, and how.
        violation: String,
    },
    /// The validated path carries more name constraints than are checked (see
    /// [`crate::verify::name_constraints::MAX_SUBTREES`]).
    TooManyNameConstraints {
        /// The limit.
        limit: usize,
    },
    /// A certificate of the chain is revoked.
    Revoked(Revocation),
    /// CRL checking is on but no CRL of the certificate's issuer is available.
    CrlMissing {
        /// The issuer whose CRL is missing.
        issuer: String,
    },
    /// Pins are given (and mandatory, or the chain failed too) but none matches the leaf.
    PinMismatch {
        /// The leaf's fingerprint, in the algorithm of the first pin.
        presented: String,
        /// The pins given.
        expected: Vec<String>,
    },
    /// The verify callback refused a certificate the engine accepted.
    RejectedByCallback {
        /// Depth of the refused certificate (0 = leaf).
        depth: usize,
        /// Its subject.
        subject: String,
    },
    /// A valid stapled OCSP response was required (by [`crate::ocsp::OcspMode::MUST_STAPLE`]
    /// or by a must-staple certificate) and not sent.
    StapleRequired {
        /// Why one was required.
        required_by: String,
        /// What was wrong with the staple sent, if one was.
        problem: Option<OcspError>,
    },
    /// An OCSP status could not be established and the mode makes that fatal
    /// ([`crate::ocsp::OcspMode::FAIL_HARD`]).
    Ocsp(OcspError),
    /// The OCSP staple callback refused the connection.
    RejectedByStapleCallback {
        /// The callback's reason.
        reason: String,
    },
    /// The certificate could not be parsed.
    BadEncoding(String),
    /// Anything else the path validator reported.
    Other(String),
    /// The server rejected Encrypted Client Hello and answered for the public name, but its
    /// certificate does not authenticate it for that name: its retry configurations cannot
    /// be trusted (RFC 9849 section 6.1.6), and nothing was sent to it.
    EchRetryUnauthenticated {
        /// The ECH configuration's public name.
        public_name: String,
        /// Why the certificate was refused for it.
        reason: Box<VerifyError>,
    },
}

impl VerifyError {
    /// The alert that tells the peer why its certificate was refused: the one table from
    /// refusal to alert, which both engines send. The choices follow RFC 8446 section 6.2
    /// (and RFC 5246 section 7.2.2 for TLS 1.2), as OpenSSL and BoringSSL send them. One
    /// exception is OpenSSL's: its verify callback cannot send `access_denied`, so the
    /// openssl engine sends `handshake_failure` for a pin or callback refusal.
    ///
    /// ```
    /// use sslsock::{Alert, VerifyError};
    /// assert_eq!(VerifyError::BadPurpose.alert().name(), Some("unsupported_certificate"));
    /// assert_eq!(VerifyError::NoName.alert(), Alert(46));
    /// ```
    pub fn alert(&self) -> Alert {
        match self {
            // "A certificate has expired or is not currently valid."
            VerifyError::Expired { .. } | VerifyError::NotYetValid { .. } => {
                Alert::CERTIFICATE_EXPIRED
            }
            // "The CA certificate could not be located or could not be matched with a known
            // trust anchor."
            VerifyError::UnknownIssuer { .. } | VerifyError::SelfSigned { .. } => Alert::UNKNOWN_CA,
            // Revocation status that cannot be told: unknown_ca, as OpenSSL, BoringSSL and
            // AWS-LC send (no alert names this case).
            VerifyError::CrlMissing { .. } | VerifyError::Ocsp(_) => Alert::UNKNOWN_CA,
            // RFC 6066 section 8 / RFC 8446 section 4.4.2.1: a required or invalid status.
            VerifyError::StapleRequired { .. } => Alert::BAD_CERTIFICATE_STATUS_RESPONSE,
            // "A certificate was revoked by its signer."
            VerifyError::Revoked(_) => Alert::CERTIFICATE_REVOKED,
            // "A handshake cryptographic operation failed, including being unable to
            // correctly verify a signature."
            VerifyError::BadSignature | VerifyError::HandshakeSignature { .. } => {
                Alert::DECRYPT_ERROR
            }
            // "A certificate was of an unsupported type": here, not for this purpose (EKU).
            VerifyError::BadPurpose => Alert::UNSUPPORTED_CERTIFICATE,
            // "A certificate was corrupt, contained signatures that did not verify
            // correctly, etc.": a certificate for other names, or outside its CA's
            // constraints, is a bad certificate for this connection.
            VerifyError::NameMismatch { .. }
            | VerifyError::NameConstraint { .. }
            | VerifyError::TooManyNameConstraints { .. }
            | VerifyError::BadEncoding(_) => Alert::BAD_CERTIFICATE,
            // "A valid certificate was received, but ... the receiver decided not to proceed":
            // a pin or the application's callback said no.
            VerifyError::PinMismatch { .. } | VerifyError::RejectedByCallback { .. } => {
                Alert::ACCESS_DENIED
            }
            // What was wrong with the certificate for the public name.
            VerifyError::EchRetryUnauthenticated { reason, .. } => reason.alert(),
            // "Some other (unspecified) issue arose in processing the certificate."
            _ => Alert::CERTIFICATE_UNKNOWN,
        }
    }
}

/// The details of a revocation, from the CRL entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Revocation {
    /// Subject of the revoked certificate.
    pub subject: String,
    /// Its serial number, upper-case hex.
    pub serial: String,
    /// When it was revoked.
    pub revoked_at: SystemTime,
    /// The CRL reason code (`keyCompromise`, ...), when given.
    pub reason: Option<String>,
}

/// A TLS protocol failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// The peer sent a fatal alert.
    AlertReceived(Alert),
    /// No common protocol version.
    NoCommonVersion(String),
    /// No common cipher suite, group, signature scheme or application protocol.
    NoCommonParameters {
        /// What could not be agreed on.
        parameter: Parameter,
        /// The engine's words.
        detail: String,
    },
    /// The peer sent something that is not valid TLS at this point.
    BadMessage(String),
    /// The server did not accept the Encrypted Client Hello configuration (RFC 9849): the
    /// handshake ran with the public name only, authenticated the server for it, and stopped.
    /// The real server name was not sent in the clear.
    EchRejected {
        /// The configurations the server offered for a new attempt, if it sent any (checked
        /// against the server's certificate for the public name).
        retry_configs: Option<crate::ech::EchConfigList>,
    },
    /// Any other protocol failure.
    Other(String),
}

/// What two TLS peers found no common value for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parameter {
    /// The cipher suite.
    CipherSuite,
    /// The key exchange group (curve).
    Group,
    /// The signature scheme.
    SignatureScheme,
    /// The application protocol (ALPN).
    ApplicationProtocol,
    /// A required extension.
    Extension,
}

/// A TLS alert, by its code (RFC 8446 section 6, RFC 5246 section 7.2).
///
/// ```
/// use sslsock::error::Alert;
/// assert_eq!(Alert(48).name(), Some("unknown_ca"));
/// assert_eq!(Alert::HANDSHAKE_FAILURE.to_string(), "handshake_failure");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert(pub u8);

impl Alert {
    /// handshake_failure (40).
    pub const HANDSHAKE_FAILURE: Alert = Alert(40);
    /// protocol_version (70).
    pub const PROTOCOL_VERSION: Alert = Alert(70);
    /// insufficient_security (71).
    pub const INSUFFICIENT_SECURITY: Alert = Alert(71);
    /// bad_certificate (42).
    pub const BAD_CERTIFICATE: Alert = Alert(42);
    /// unsupported_certificate (43).
    pub const UNSUPPORTED_CERTIFICATE: Alert = Alert(43);
    /// certificate_revoked (44).
    pub const CERTIFICATE_REVOKED: Alert = Alert(44);
    /// certificate_expired (45).
    pub const CERTIFICATE_EXPIRED: Alert = Alert(45);
    /// certificate_unknown (46).
    pub const CERTIFICATE_UNKNOWN: Alert = Alert(46);
    /// unknown_ca (48).
    pub const UNKNOWN_CA: Alert = Alert(48);
    /// access_denied (49).
    pub const ACCESS_DENIED: Alert = Alert(49);
    /// decrypt_error (51).
    pub const DECRYPT_ERROR: Alert = Alert(51);
    /// bad_certificate_status_response (113).
    pub const BAD_CERTIFICATE_STATUS_RESPONSE: Alert = Alert(113);

    /// The alert's name as the RFCs and OpenSSL write it, if it is a known one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            21 => "decryption_failed",
            22 => "record_overflow",
            30 => "decompression_failure",
            40 => "handshake_failure",
            41 => "no_certificate",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            49 => "access_denied",
            50 => "decode_error",
            51 => "decrypt_error",
            60 => "export_restriction",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            100 => "no_renegotiation",
            109 => "missing_extension",
            110 => "unsupported_extension",
            111 => "certificate_unobtainable",
            112 => "unrecognized_name",
            113 => "bad_certificate_status_response",
            114 => "bad_certificate_hash_value",
            115 => "unknown_psk_identity",
            116 => "certificate_required",
            120 => "no_application_protocol",
            121 => "encrypted_client_hello_required",
            _ => return None,
        })
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "alert {}", self.0),
        }
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Parameter::CipherSuite => "cipher suite",
            Parameter::Group => "key exchange group",
            Parameter::SignatureScheme => "signature scheme",
            Parameter::ApplicationProtocol => "application protocol (ALPN)",
            Parameter::Extension => "extension",
        })
    }
}

/// Which direction the TLS engine waits for, the `$SSL_ERROR` of the Perl module.
///
/// On a non-blocking transport an operation that cannot go on returns an I/O error of kind
/// `WouldBlock`, and [`SslSocket::want`](crate::SslSocket::want) says what to wait for
/// before calling it again (Perl's `SSL_WANT_READ` / `SSL_WANT_WRITE`):
///
/// ```no_run
/// use std::net::TcpStream;
/// use sslsock::{Error, Options, SslSocket, Want};
///
/// let tcp = TcpStream::connect("example.org:443")?;
/// tcp.set_nonblocking(true)?;
/// let mut tls = SslSocket::new_client(tcp, &Options::new(), "example.org")?;
/// loop {
///     match tls.connect_ssl() {
///         Ok(()) => break,
///         Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
///             match tls.want() {
///                 Want::Read => { /* wait until the socket is readable (poll, select, mio) */ }
///                 Want::Write => { /* wait until it is writable */ }
///                 _ => {}
///             }
///         }
///         Err(e) => return Err(e.into()),
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Want {
    /// Nothing is waited for.
    Nothing,
    /// The operation needs the transport to become readable.
    Read,
    /// The operation needs the transport to become writable.
    Write,
}

impl Words for Error {
    fn words(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "configuration error: {e}"),
            Error::Verify(e) => write!(f, "certificate verify failed: {e}"),
            Error::Tls(e) => write!(f, "TLS handshake or protocol failure: {e}"),
            Error::NotTls { first_bytes } => write!(
                f,
                "peer does not speak TLS: it sent \"{first_bytes}\" instead of a TLS record"
            ),
            Error::HandshakeEof => write!(f, "peer closed the connection during the TLS handshake"),
            Error::Timeout(what) => write!(f, "timed out while {what}"),
            Error::Resolve { host, reason } => write!(f, "cannot resolve \"{host}\": {reason}"),
            Error::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Error::Connect { addr, source } => write!(f, "cannot connect to {addr}: {source}"),
            Error::State(what) => write!(f, "invalid use: {what}"),
            Error::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl Words for ConfigError {
    fn words(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::File { path, reason } => write!(f, "{}: {reason}", path.display()),
            ConfigError::Certificate(s) | ConfigError::Name(s) | ConfigError::Invalid(s) => {
                f.write_str(s)
            }
            ConfigError::Ech(e) => write!(f, "ECH: {e}"),
            ConfigError::Argument { key, reason } => write!(f, "{key}: {reason}"),
            ConfigError::Version { spec, reason } => {
                write!(f, "protocol version \"{spec}\": {reason}")
            }
            ConfigError::Cipher { spec, reason } => write!(f, "cipher string \"{spec}\": {reason}"),
            ConfigError::Groups { spec, reason } => write!(f, "group string \"{spec}\": {reason}"),
            ConfigError::Password {
                what,
                missing: true,
            } => {
                write!(
                    f,
                    "{what}: it is encrypted and no password was given (key_password / passwd_cb)"
                )
            }
            ConfigError::Password {
                what,
                missing: false,
            } => {
                write!(f, "{what}: wrong password (or corrupt encrypted data)")
            }
        }
    }
}

impl Words for VerifyError {
    fn words(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::NameMismatch {
                expected,
                presented,
                scheme,
            } => write!(
                f,
                "hostname \"{expected}\" does not match certificate names [{}] (scheme {scheme})",
                presented.join(", ")
            ),
            VerifyError::NoName => f.write_str(
                "no hostname known to verify the certificate against: give one with hostname or verifycn_name (or pin the certificate, or use scheme \"none\" if you check the identity yourself)",
            ),
            VerifyError::Expired { not_after, now } => write!(
                f,
                "certificate has expired (notAfter {}, now {})",
                crate::timefmt::format_system_time(*not_after),
                crate::timefmt::format_system_time(*now)
            ),
            VerifyError::NotYetValid { not_before, now } => write!(
                f,
                "certificate is not yet valid (notBefore {}, now {})",
                crate::timefmt::format_system_time(*not_before),
                crate::timefmt::format_system_time(*now)
            ),
            VerifyError::SelfSigned { subject } => {
                write!(f, "self-signed certificate \"{subject}\" is not trusted")
            }
            VerifyError::UnknownIssuer { issuer } => write!(
                f,
                "unable to get local issuer certificate: issuer \"{issuer}\" is not a trusted CA"
            ),
            VerifyError::NoPeerCertificate => f.write_str("peer did not send a certificate"),
            VerifyError::BadPurpose => f.write_str(
                "bad key usage: the certificate's extended key usage does not allow this purpose",
            ),
            VerifyError::BadSignature => f.write_str(
                "a signature in the certificate chain does not verify (an issuer with that name is trusted, but its key did not sign the certificate)",
            ),
            VerifyError::HandshakeSignature { key, reason } => write!(
                f,
                "the peer's handshake signature was refused: {reason} (the key of its certificate: {key})"
            ),
            VerifyError::NameConstraint {
                name,
                ca,
                violation,
            } => write!(
                f,
                "name \"{name}\" violates the name constraints of CA \"{ca}\": {violation}"
            ),
            VerifyError::TooManyNameConstraints { limit } => write!(
                f,
                "the certificate path carries more than {limit} name constraints; refused rather than checked"
            ),
            VerifyError::Revoked(r) => write!(
                f,
                "certificate \"{}\" (serial {}) was revoked on {}, reason: {}",
                r.subject,
                r.serial,
                crate::timefmt::format_system_time(r.revoked_at),
                r.reason.as_deref().unwrap_or("unspecified")
            ),
            VerifyError::CrlMissing { issuer } => write!(
                f,
                "CRL checking is on but no CRL from issuer \"{issuer}\" is available (give crl_file)"
            ),
            VerifyError::PinMismatch { presented, expected } => write!(
                f,
                "certificate fingerprint {presented} matches none of the pinned fingerprints [{}]",
                expected.join(", ")
            ),
            VerifyError::RejectedByCallback { depth, subject } => {
                write!(f, "verify callback refused certificate \"{subject}\" at depth {depth}")
            }
            VerifyError::StapleRequired {
                required_by,
                problem: None,
            } => write!(
                f,
                "the server sent no OCSP staple, but {required_by} requires one"
            ),
            VerifyError::StapleRequired {
                required_by,
                problem: Some(p),
            } => write!(
                f,
                "the server's OCSP staple is not usable ({p}), but {required_by} requires a valid one"
            ),
            VerifyError::Ocsp(e) => write!(f, "revocation check failed: {e}"),
            VerifyError::RejectedByStapleCallback { reason } => {
                write!(f, "the OCSP staple callback refused the connection: {reason}")
            }
            VerifyError::BadEncoding(s) => write!(f, "certificate cannot be parsed: {s}"),
            VerifyError::EchRetryUnauthenticated {
                public_name,
                reason,
            } => write!(
                f,
                "the server rejected Encrypted Client Hello, and its certificate does not authenticate it for the public name \"{public_name}\", so its retry configurations cannot be trusted: {}",
                Raw(reason.as_ref())
            ),
            VerifyError::Other(s) => f.write_str(s),
        }
    }
}

impl Words for TlsError {
    fn words(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::AlertReceived(a)
                if *a == Alert::HANDSHAKE_FAILURE || *a == Alert::INSUFFICIENT_SECURITY =>
            {
                write!(
                    f,
                    "peer sent fatal alert {a} (often: no common cipher suite, group or signature algorithm; from a TLS 1.2 server also: it requires a client certificate and got none it accepts)"
                )
            }
            TlsError::AlertReceived(a) => write!(f, "peer sent fatal alert {a}"),
            TlsError::NoCommonVersion(s) => write!(f, "no common protocol version: {s}"),
            TlsError::NoCommonParameters { parameter, detail } => {
                write!(f, "no common {parameter}: {detail}")
            }
            TlsError::BadMessage(s) => write!(f, "invalid message from peer: {s}"),
            TlsError::EchRejected { retry_configs } => {
                f.write_str(
                    "the server rejected Encrypted Client Hello (ECH); the server name was not sent in the clear",
                )?;
                match retry_configs {
                    Some(list) => write!(
                        f,
                        "; it offers retry configs (public names {}): {}",
                        list.public_names().join(", "),
                        list.to_base64()
                    ),
                    None => f.write_str("; it sent no retry configs"),
                }
            }
            TlsError::Other(s) => f.write_str(s),
        }
    }
}

/// The message, as `Display` writes it; the alternate form (`{:#?}`) is the structured one.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return fmt::Display::fmt(self, f);
        }
        match self {
            Error::Config(e) => f.debug_tuple("Config").field(e).finish(),
            Error::Verify(e) => f.debug_tuple("Verify").field(e).finish(),
            Error::Tls(e) => f.debug_tuple("Tls").field(e).finish(),
            Error::NotTls { first_bytes } => f
                .debug_struct("NotTls")
                .field("first_bytes", first_bytes)
                .finish(),
            Error::HandshakeEof => f.write_str("HandshakeEof"),
            Error::Timeout(what) => f.debug_tuple("Timeout").field(what).finish(),
            Error::Resolve { host, reason } => f
                .debug_struct("Resolve")
                .field("host", host)
                .field("reason", reason)
                .finish(),
            Error::Bind { addr, source } => f
                .debug_struct("Bind")
                .field("addr", addr)
                .field("source", source)
                .finish(),
            Error::Connect { addr, source } => f
                .debug_struct("Connect")
                .field("addr", addr)
                .field("source", source)
                .finish(),
            Error::State(what) => f.debug_tuple("State").field(what).finish(),
            Error::Io(e) => f.debug_tuple("Io").field(e).finish(),
        }
    }
}

/// The text of an underlying I/O error is part of each message, so no error has a `source`:
/// a chain printer shows it once.
impl std::error::Error for Error {}
impl std::error::Error for VerifyError {}
impl std::error::Error for ConfigError {}
impl std::error::Error for TlsError {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        // An error that travelled through an io::Error (Read/Write impls) comes back typed.
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(Ok(inner)) = e.into_inner().map(|b| b.downcast::<Error>()) {
                return *inner;
            }
            unreachable!("the inner error was checked to be an sslsock::Error");
        }
        Error::Io(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        Error::Verify(e)
    }
}

impl From<crate::ech::EchError> for ConfigError {
    fn from(e: crate::ech::EchError) -> Self {
        ConfigError::Ech(e)
    }
}

impl From<crate::ech::EchError> for Error {
    fn from(e: crate::ech::EchError) -> Self {
        Error::Config(ConfigError::Ech(e))
    }
}

impl Error {
    /// The `io::ErrorKind` this error maps to when it travels through `Read`/`Write`.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::Io(e) | Error::Connect { source: e, .. } | Error::Bind { source: e, .. } => {
                e.kind()
            }
            Error::Timeout(_) => io::ErrorKind::TimedOut,
            Error::HandshakeEof => io::ErrorKind::UnexpectedEof,
            Error::Config(_) | Error::State(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        }
    }

    /// Converts into an `io::Error` that [`Error::from`] turns back into this value.
    pub fn into_io(self) -> io::Error {
        match self {
            Error::Io(e) => e,
            other => io::Error::new(other.io_kind(), other),
        }
    }

    /// True for `io::ErrorKind::WouldBlock`: a non-blocking operation must wait for
    /// [`crate::SslSocket::want`] and be repeated.
    pub fn is_would_block(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// True for failures of the network itself (resolution, refused, unreachable, timeout),
    /// as opposed to TLS, verification or configuration failures.
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            Error::Resolve { .. }
                | Error::Connect { .. }
                | Error::Bind { .. }
                | Error::Timeout(_)
                | Error::Io(_)
        )
    }
}

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

thread_local! {
    static LAST_ERROR: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Remembers `e` as this thread's last error (for [`errstr`]) and hands it back.
pub(crate) fn noted(e: Error) -> Error {
    LAST_ERROR.with(|l| *l.borrow_mut() = Some(e.to_string()));
    e
}

/// The last error of a connect, accept or `start_ssl` in this thread, for when no socket
/// exists to ask (`IO::Socket::SSL::errstr()`).
pub fn errstr() -> Option<String> {
    LAST_ERROR.with(|l| l.borrow().clone())
}

/// Why an OCSP response gave no usable status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OcspError {
    /// The bytes are not an OCSP response.
    Malformed(String),
    /// The responder answered with an error status (`tryLater`, `unauthorized`, ...).
    Unsuccessful(&'static str),
    /// The response holds no status for the certificate asked about.
    NoStatusFor {
        /// The certificate's subject.
        subject: String,
    },
    /// The response's signature does not verify with the key of its signer.
    BadSignature {
        /// Who signed it (the issuer, or the responder certificate's subject).
        signer: String,
        /// Why.
        reason: String,
    },
    /// The response is signed by neither the issuer nor a responder the issuer authorised.
    UnauthorizedResponder {
        /// The responder named in the response.
        responder: String,
        /// What is missing.
        reason: String,
    },
    /// thisUpdate lies in the future.
    NotYetValid {
        /// The response's thisUpdate.
        this_update: SystemTime,
    },
    /// nextUpdate has passed (or, without nextUpdate, the response is too old).
    Expired {
        /// Until when it was current.
        valid_until: SystemTime,
    },
    /// The response does not carry the nonce of the request.
    NonceMismatch,
    /// The responder does not know the certificate (status "unknown").
    StatusUnknown {
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate names no OCSP responder (no AIA OCSP URL).
    NoResponder {
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate names no CRL distribution point (with an http URL).
    NoCrlDistributionPoint {
        /// The certificate's subject.
        subject: String,
    },
    /// The CRL fetched for a certificate does not answer for it (RFC 5280, section 6.3.3:
    /// another distribution point, CA certificates only, some reasons only, a delta CRL).
    CrlOutOfScope {
        /// The certificate's subject.
        subject: String,
        /// Why the CRL does not answer for it.
        reason: String,
    },
    /// The issuer of a certificate is not known, so no request can be made.
    NoIssuer {
        /// The certificate's subject.
        subject: String,
    },
    /// The responder could not be asked.
    Http {
        /// The responder URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The certificate's CRL distribution point could not be fetched (`crl_fetch`).
    CrlFetch {
        /// The distribution point's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A fetched CRL cannot be parsed.
    CrlMalformed(String),
    /// A certificate could not be read.
    BadCertificate(String),
}

impl Words for OcspError {
    fn words(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OcspError::Malformed(s) => write!(f, "the OCSP response cannot be parsed: {s}"),
            OcspError::Unsuccessful(s) => write!(f, "the OCSP responder answered \"{s}\""),
            OcspError::NoStatusFor { subject } => write!(
                f,
                "the OCSP response holds no status for certificate \"{subject}\""
            ),
            OcspError::BadSignature { signer, reason } => write!(
                f,
                "the OCSP response's signature does not verify with the key of \"{signer}\": {reason}"
            ),
            OcspError::UnauthorizedResponder { responder, reason } => write!(
                f,
                "the OCSP response is signed by \"{responder}\", which is not authorised: {reason}"
            ),
            OcspError::NotYetValid { this_update } => write!(
                f,
                "the OCSP response is not yet valid (thisUpdate {})",
                crate::timefmt::format_system_time(*this_update)
            ),
            OcspError::Expired { valid_until } => write!(
                f,
                "the OCSP response is out of date (it was current until {})",
                crate::timefmt::format_system_time(*valid_until)
            ),
            OcspError::NonceMismatch => {
                f.write_str("the OCSP response does not carry the nonce of the request")
            }
            OcspError::StatusUnknown { subject } => write!(
                f,
                "the OCSP responder does not know certificate \"{subject}\" (status unknown)"
            ),
            OcspError::NoResponder { subject } => write!(
                f,
                "certificate \"{subject}\" names no OCSP responder (no OCSP URL in its authority information access)"
            ),
            OcspError::CrlOutOfScope { subject, reason } => write!(
                f,
                "the CRL fetched for certificate \"{subject}\" does not answer for it: {reason}"
            ),
            OcspError::NoCrlDistributionPoint { subject } => write!(
                f,
                "certificate \"{subject}\" names no CRL distribution point to fetch from"
            ),
            OcspError::NoIssuer { subject } => write!(
                f,
                "the issuer of certificate \"{subject}\" is not known, so its OCSP status cannot be asked"
            ),
            OcspError::Http { url, reason } => {
                write!(f, "OCSP responder {url} could not be asked: {reason}")
            }
            OcspError::CrlFetch { url, reason } => {
                write!(f, "the CRL at {url} could not be fetched: {reason}")
            }
            OcspError::CrlMalformed(s) => {
                write!(f, "the CRL fetched cannot be parsed: {s}")
            }
            OcspError::BadCertificate(s) => write!(f, "certificate cannot be read: {s}"),
        }
    }
}

impl std::error::Error for OcspError {}

escaped_display!(Error);

escaped_display!(ConfigError);

escaped_display!(VerifyError);

escaped_display!(TlsError);

escaped_display!(OcspError);
