//! Revocation checks with OCSP (RFC 6960): stapled responses, the resolver that asks the
//! responders, the response cache, must-staple (RFC 7633) and server-side stapling.
//!
//! The modes are the manual's `SSL_ocsp_mode` flags ([`OcspMode`]). By default a client that
//! verifies its peer checks a stapled response when the server sends one
//! ([`OcspMode::TRY_STAPLE`]); a certificate marked must-staple is refused without a valid
//! staple whatever the mode (except [`OcspMode::NO_CHECK`]). A verified "revoked" is always
//! fatal. Anything else that keeps a status from being established (no responder, a
//! response that does not verify, "unknown") is a soft error, fatal only under
//! [`OcspMode::FAIL_HARD`] when the responders are asked ([`OcspResolver`]).
//!
//! ```no_run
//! use sslsock::{ocsp::OcspMode, Options, SslSocket};
//! let opts = Options::new().ocsp_mode(OcspMode::FULL_CHAIN | OcspMode::FAIL_HARD);
//! let sock = SslSocket::connect_with("example.org:443", &opts)?;
//! // The leaf was checked by its staple if there was one; ask the responders for the rest.
//! sock.ocsp_resolver().resolve_blocking(std::time::Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Must-staple, and what a connection learned ([`SslSocket::revocation`](crate::SslSocket::revocation)):
//! a certificate with the TLS feature extension is refused without a staple, and a client can
//! ask the same of every server with [`OcspMode::MUST_STAPLE`]:
//!
//! ```
//! use sslsock::ocsp::{OcspMode, Revocation};
//! use sslsock::x509::create::CertSpec;
//! use sslsock::{Error, Options, SslListener, SslSocket, VerifyError};
//!
//! let ca = CertSpec::new("Example CA").ca().self_signed()?;
//! let serve = |leaf: sslsock::x509::create::Issued| -> Result<String, sslsock::Error> {
//!     let opts = Options::new().cert_pem(leaf.cert_pem).key_pem(leaf.key_pem);
//!     let listener = SslListener::bind("127.0.0.1:0", &opts)?;
//!     let addr = listener.local_addr()?.to_string();
//!     std::thread::spawn(move || while listener.accept().is_ok() {});
//!     Ok(addr)
//! };
//! let plain = serve(CertSpec::new("localhost").san("localhost").signed_by(&ca)?)?;
//! let marked = serve(CertSpec::new("localhost").san("localhost").must_staple().signed_by(&ca)?)?;
//! let client = Options::new().ca_cert(ca.cert_pem.clone()).hostname("localhost");
//!
//! // The default mode checks a staple when there is one; these servers send none.
//! let sock = SslSocket::connect_with(&plain, &client)?;
//! assert!(matches!(sock.revocation(), Revocation::Unknown { .. }));
//! println!("revocation: {}", sock.revocation()); // "unknown (no stapled response)"
//!
//! // A must-staple certificate without a staple is refused, whatever the client's mode.
//! let err = SslSocket::connect_with(&marked, &client).unwrap_err();
//! assert!(matches!(err, Error::Verify(VerifyError::StapleRequired { .. })), "{err}");
//!
//! // MUST_STAPLE asks the same of every server.
//! let strict = client.clone().ocsp_mode(OcspMode::MUST_STAPLE);
//! let err = SslSocket::connect_with(&plain, &strict).unwrap_err();
//! assert!(matches!(err, Error::Verify(VerifyError::StapleRequired { .. })), "{err}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod asn1;
mod cache;
mod codec;
mod crl_fetch;
mod http;
mod mode;
mod resolver;
mod response;
mod staple;
mod stapler;

use std::fmt;
use std::time::SystemTime;

pub use cache::{OcspCache, OcspStore};
pub use codec::{must_staple, ocsp_urls, CertId, HashAlgorithm, OcspRequest};
pub use mode::OcspMode;
pub use resolver::{query, OcspResolver};
pub use response::{CertStatus, OcspResponse, VerifiedStatus};
pub(crate) use staple::StaplePolicy;
pub use staple::{StapleCallback, StapleInfo};
pub(crate) use stapler::{keep_current, obtain, renew_shared, Renewal, StapleSlot};
pub use stapler::{StapleSource, StapleStore};

pub use crate::error::OcspError;

/// Responses an [`OcspCache`] holds by default (the Perl module's `OCSP_Cache` default);
/// also [`crate::defaults::OCSP_CACHE_SIZE`].
pub const DEFAULT_CACHE_SIZE: usize = 100;

/// How long the resolver and the stapling server wait for a responder; also
/// [`crate::defaults::OCSP_TIMEOUT`].
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How soon a stapling server asks its responder again after a failure; also
/// [`crate::defaults::OCSP_RETRY`].
pub const DEFAULT_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a response without nextUpdate is taken as current (RFC 6960 leaves it open; a
/// response that never expires would defeat revocation).
pub const LIFETIME_WITHOUT_NEXT_UPDATE: std::time::Duration = std::time::Duration::from_secs(3600);

/// How far thisUpdate may lie in the future, and nextUpdate in the past, for clock skew.
pub const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(300);

/// Where a revocation status was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StatusSource {
    /// An OCSP response stapled by the server.
    Staple,
    /// An OCSP responder asked by the client.
    Responder,
    /// The OCSP response cache.
    Cache,
    /// A CRL.
    Crl,
}

impl fmt::Display for StatusSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StatusSource::Staple => "stapled",
            StatusSource::Responder => "responder",
            StatusSource::Cache => "cache",
            StatusSource::Crl => "CRL",
        })
    }
}

/// What is known about the revocation of the peer's certificates after the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// Not checked: verification is off, or [`OcspMode::NO_CHECK`], or a pinned leaf.
    Off,
    /// The leaf's status is not established (no staple, or a soft error on the staple); the
    /// resolver can ask the responders.
    Unknown {
        /// The soft errors met, if any.
        soft_errors: Vec<OcspError>,
    },
    /// The leaf is good by a verified response, or by a CRL that answers for it (a CRL file
    /// with `check_crl`, or one fetched with `crl_fetch`).
    Good {
        /// Where the response came from.
        source: StatusSource,
        /// When the response stops being current.
        valid_until: SystemTime,
    },
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revocation::Off => f.write_str("not checked"),
            Revocation::Unknown { soft_errors } if soft_errors.is_empty() => {
                f.write_str("unknown (no stapled response)")
            }
            Revocation::Unknown { soft_errors } => {
                write!(f, "unknown ({})", join(soft_errors))
            }
            Revocation::Good { source, .. } => write!(f, "good ({source})"),
        }
    }
}

/// Errors joined for one line.
pub(crate) fn join(errors: &[OcspError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
