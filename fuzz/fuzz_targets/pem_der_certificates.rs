//! Certificates as PEM (any number of blocks) or one DER certificate.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(certs) = sslsock::x509::parse_certificates(data) {
        for c in &certs {
            let _ = sslsock::CertInfo::from_der(c, sslsock::FingerprintAlgorithm::Sha256);
        }
    }
});
