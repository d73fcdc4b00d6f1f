//! Verification policy: CA sources, hostname schemes, fingerprints. No TLS engine types.

pub mod fingerprint;
pub mod hostname;
pub mod public_suffix;
pub mod roots;
