//! The helpers shared with the CLI's tests.

pub use sslsock_test_support::*;

/// A tokio runtime of two workers, for the tests of async sockets, hyper and ACME.
#[cfg(feature = "tokio")]
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
