//! Building contexts on the openssl engine leaves nothing behind in OpenSSL: memory stays
//! flat over many builds (each context once took two ex data indexes, which OpenSSL never
//! frees, and every later connection grew with them). Its own binary, so that no other
//! test's allocations move the figures.
#![cfg(feature = "openssl")]

use sslsock::{Engine, Options, SslContext};

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

#[test]
fn many_context_builds_keep_memory_flat() {
    let opts = Options::new()
        .engine(Engine::OpenSsl)
        .ca_file(&sslsock_test_support::pki().ca)
        .hostname("localhost");
    let build = |n: usize| {
        for _ in 0..n {
            drop(SslContext::new(&opts).unwrap());
        }
    };
    // Warm up: allocator pools, OpenSSL's one-time tables.
    build(5_000);
    let before = rss_kib();
    let started = std::time::Instant::now();
    build(100_000);
    let after = rss_kib();
    eprintln!(
        "100000 context builds: {:?}, resident {before} KiB -> {after} KiB",
        started.elapsed()
    );
    // Two leaked indexes per build came to about 6 MiB per 100k builds (and slower
    // connections); allocator noise stays well under 2 MiB.
    assert!(
        after.saturating_sub(before) < 2048,
        "resident memory grew from {before} KiB to {after} KiB over 100000 builds"
    );
}
