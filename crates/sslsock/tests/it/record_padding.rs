//! TLS 1.3 record padding (RFC 8446, section 5.4) from a tlslite-ng client that pads every
//! record it sends, the Finished included: the largest legal padding is served on both
//! engines; one byte past the limit is record_overflow on the default engine, and on the
//! openssl engine whatever plain `openssl s_server` does (OpenSSL decides it, not the glue).

use std::process::Command;

use sslsock::Engine;

use crate::util::*;

/// What the padding client says against `port` with `extra` bytes past the legal padding.
fn padded_client(port: u16, extra: u8) -> String {
    require_python_module("tlslite");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls13_padding.py");
    let out = Command::new("python3")
        .args([script, &port.to_string(), &extra.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn ours(extra: u8) -> String {
    let (addr, h) = serve(server_opts().version("TLSv1_3"), 1, echo_once);
    let said = padded_client(addr.port(), extra);
    let _ = h.join();
    said
}

#[test]
fn the_largest_legal_padding_is_served() {
    assert_eq!(ours(0), "ok ping");
}

#[test]
fn padding_past_the_limit_is_record_overflow() {
    let said = ours(3);
    match test_engine() {
        Engine::OpenSsl => {
            // OpenSSL's own record layer decides: the same as plain s_server.
            let (_s, port) = s_server("srv-ec", &["-tls1_3", "-rev"]);
            let theirs = padded_client(port, 3);
            assert_eq!(
                said.split_whitespace().next(),
                theirs.split_whitespace().next(),
                "ours: {said}; s_server: {theirs}"
            );
        }
        _ => assert_eq!(said, "alert record_overflow"),
    }
}
