//! Certificate inspection of arbitrary DER: summary, fingerprints, names, OCSP fields.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sslsock::FingerprintAlgorithm;

fuzz_target!(|data: &[u8]| {
    let _ = sslsock::CertInfo::from_der(data, FingerprintAlgorithm::Sha256);
    let _ = sslsock::verify::fingerprint::fingerprint(data, FingerprintAlgorithm::Sha1, true);
    let _ = sslsock::ocsp::must_staple(data);
    let _ = sslsock::ocsp::ocsp_urls(data);
});
