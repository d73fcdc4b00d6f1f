//! Verification on DER, in sslsock's words ([`VerifyError`](crate::VerifyError)): chains,
//! CRLs, pins, hostname schemes, public suffixes, name constraints. No TLS engine types;
//! `crate::peer` puts them together with OCSP into the checks both engines run.
//!
//! A connection runs all of them from its [`Options`](crate::Options); the pieces are also
//! usable on their own, on any certificate:
//!
//! ```
//! use sslsock::verify::{fingerprint, hostname};
//! use sslsock::x509::create::CertSpec;
//! use sslsock::FingerprintAlgorithm;
//!
//! let cert = CertSpec::new("www.example.org").san("www.example.org").self_signed()?.cert_der;
//! hostname::verify_hostname(&cert, "www.example.org", &hostname::Scheme::default())?;
//! let pin = fingerprint::fingerprint(&cert, FingerprintAlgorithm::Sha256, false)?;
//! assert!(pin.starts_with("sha256$"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod chain;
pub mod crl;
pub(crate) mod crl_scope;
pub mod fingerprint;
pub mod hostname;
pub mod name_constraints;
pub mod public_suffix;
pub(crate) mod signature;
