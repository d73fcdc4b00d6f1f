//! Option strings: cipher lists, TLS 1.3 suites, versions, groups, fingerprints, OCSP modes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sslsock::{Options, SslContext};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sslsock::ocsp::OcspMode::parse(s);
    let _ = sslsock::x509::SubjectAltName::parse(s);
    let _ = SslContext::new(&Options::new().no_ca().cipher_list(s));
    let _ = SslContext::new(&Options::new().no_ca().ciphersuites(s));
    let _ = SslContext::new(&Options::new().no_ca().version(s));
    let _ = SslContext::new(&Options::new().no_ca().ecdh_curve(s));
    // Pins are parsed where a context is made.
    let _ = SslContext::new(&Options::new().no_ca().fingerprint(s));
});
