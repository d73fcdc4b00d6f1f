//! PKCS#12 files, with and without a password.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sslsock::x509::Password;

fuzz_target!(|data: &[u8]| {
    let _ = sslsock::x509::is_pkcs12(data);
    let _ = sslsock::x509::parse_pkcs12(data, &Password::from("secret"));
    let _ = sslsock::x509::parse_pkcs12(data, &Password::None);
});
