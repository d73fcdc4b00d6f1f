//! CRLs, PEM or DER.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sslsock::verify::crl::check(data);
});
