//! What the library's and the CLI's tests share: a test PKI made at run time (removed when
//! the test process ends), real TLS peers started on free loopback ports, loopback servers,
//! and a name-constrained PKI made with openssl.
//!
//! Peers are required, never skipped: a missing one fails the test with the command that
//! installs it (`scripts/test` does).

pub mod constrained;
pub mod ech_lab;
pub mod ocsp_lab;
pub mod pebble;
mod peers;
mod pki;
pub mod redis;
mod servers;

pub use peers::*;
pub use pki::*;
pub use servers::*;
