//! Integration tests over loopback. One binary keeps link time down.

#![allow(unreachable_pub)]

#[cfg(feature = "acme")]
mod acme;
#[cfg(feature = "tokio")]
mod async_tokio;
mod bad_input;
mod context_boundary;
mod crl_scope;
mod ech;
#[cfg(feature = "redis")]
mod fleet;
mod hostname_table;
#[cfg(feature = "hyper")]
mod http_hyper;
#[cfg(feature = "hyper")]
#[path = "../../examples/hyper_server.rs"]
#[allow(dead_code)]
mod hyper_server;
mod manual_examples;
mod module_graph;
// The examples' servers, driven by the tests.
mod hostile_peers;
mod intercept;
mod keying;
#[cfg(feature = "mio")]
#[path = "../../examples/mio_echo.rs"]
#[allow(dead_code)]
mod mio_echo;
mod name_constraints;
mod nonblocking;
mod ocsp;
#[cfg(feature = "openssl")]
mod openssl_engine;
#[cfg(feature = "openssl")]
mod openssl_hardening;
mod openssl_server;
mod options_applied;
mod ours;
mod peers;
mod perl_args;
mod record_padding;
mod records;
mod reload;
mod server_features;
mod session_identity;
mod starttls;
mod target;
#[cfg(feature = "tokio")]
#[path = "../../examples/tokio_echo.rs"]
#[allow(dead_code)]
mod tokio_echo;
mod util;
mod verification;
mod x509_files;
