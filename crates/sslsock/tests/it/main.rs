//! Integration tests over loopback. One binary keeps link time down.

#![allow(unreachable_pub)]

mod bad_input;
mod hostname_table;
mod openssl_server;
mod ours;
mod peers;
mod records;
mod starttls;
mod util;
mod verification;
mod x509_files;
