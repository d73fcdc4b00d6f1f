//! Host names checked against a certificate under every scheme, and public suffix splits.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sslsock::verify::hostname::{verify_hostname, Scheme};
use sslsock::verify::public_suffix::PublicSuffix;
use sslsock::x509::create::CertSpec;

fn cert() -> &'static Vec<u8> {
    static CERT: OnceLock<Vec<u8>> = OnceLock::new();
    CERT.get_or_init(|| {
        CertSpec::new("*.example.com")
            .san("*.example.com")
            .san("www*.example.org")
            .san("192.0.2.1")
            .self_signed()
            .unwrap()
            .cert_der
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    for scheme in Scheme::NAMES {
        if let Some(s) = Scheme::named(scheme) {
            let _ = verify_hostname(cert(), name, &s);
        }
    }
    let psl = PublicSuffix::builtin();
    let _ = psl.public_suffix(name, 0);
    let _ = psl.public_suffix(name, usize::MAX);
    let _ = psl.is_public_suffix(name);
});
