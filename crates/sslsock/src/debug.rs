//! The manual's `$IO::Socket::SSL::DEBUG` levels, as `log` levels and targets.
//!
//! sslsock logs through the `log` crate; whatever logger the program installs shows it
//! (`RUST_LOG=sslsock=debug` with env_logger; `sslsock -d`, `-dd`, `-ddd` in the command).
//!
//! | DEBUG | `log` level | what shows |
//! |---|---|---|
//! | 0 | warn | warnings only: dangerous settings, names dropped from cipher and group lists |
//! | 1 | info | also each handshake's outcome (version and cipher, or the error), soft revocation errors |
//! | 2 | debug | also the steps: each certificate of the verified chain, session reuse, ALPN fallback, the CA store chosen |
//! | 3 | trace | also the engine's own trace (target `rustls`) |
//!
//! Targets: `sslsock::handshake` (outcomes), `sslsock::verify` (each certificate),
//! `sslsock::session` (reuse), `sslsock::engine`, `sslsock::ocsp`, `sslsock::socket`.
//!
//! ```
//! assert_eq!(sslsock::debug::level_filter(2), log::LevelFilter::Debug);
//! ```

/// The `log` level that shows what `$IO::Socket::SSL::DEBUG = level` shows.
pub fn level_filter(level: u8) -> log::LevelFilter {
    match level {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        2 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}
