//! Verification policy: CA sources, chains, CRLs, pins, hostname schemes, public suffixes.
//! No TLS engine types.

pub mod chain;
pub mod crl;
pub(crate) mod crl_scope;
pub mod fingerprint;
pub mod hostname;
pub mod name_constraints;
pub mod public_suffix;
pub mod roots;
pub(crate) mod signature;
