//! Verification on DER, in sslsock's words ([`VerifyError`](crate::VerifyError)): chains,
//! CRLs, pins, hostname schemes, public suffixes, name constraints. No TLS engine types;
//! `crate::peer` puts them together with OCSP into the checks both engines run.

pub mod chain;
pub mod crl;
pub(crate) mod crl_scope;
pub mod fingerprint;
pub mod hostname;
pub mod name_constraints;
pub mod public_suffix;
pub(crate) mod signature;
