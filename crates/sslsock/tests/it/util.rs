//! The helpers shared with the CLI's tests.

pub use sslsock_test_support::*;
