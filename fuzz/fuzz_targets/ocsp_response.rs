//! OCSP responses: parsed, then checked against a certificate and its issuer.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sslsock::x509::create::CertSpec;

/// A CA and a leaf it issued, made once.
fn pair() -> &'static (Vec<u8>, Vec<u8>) {
    static PAIR: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let ca = CertSpec::new("Fuzz CA").ca().self_signed().unwrap();
        let leaf = CertSpec::new("leaf.example")
            .san("leaf.example")
            .signed_by(&ca)
            .unwrap();
        (leaf.cert_der, ca.cert_der)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = sslsock::ocsp::OcspResponse::from_der(data) {
        let (leaf, ca) = pair();
        let _ = r.nonce();
        let _ = r.verify(leaf, ca, std::time::SystemTime::now(), Some(b"nonce"));
    }
});
