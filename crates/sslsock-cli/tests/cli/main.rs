//! The `sslsock` command against real peers: exit codes, one-line errors, reports, one
//! module per command.

mod common;

mod bench;
mod cert;
mod commands;
mod connect;
mod fleet;
mod inspect;
mod intercept;
mod ocsp;
mod serve;
mod starttls;
