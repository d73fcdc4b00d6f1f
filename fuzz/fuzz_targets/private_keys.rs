//! Private keys: PKCS#8 (plain and encrypted), PKCS#1, SEC1, legacy encrypted PEM.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sslsock::x509::Password;

fuzz_target!(|data: &[u8]| {
    let _ = sslsock::x509::parse_private_key(data, &Password::None);
    let _ = sslsock::x509::parse_private_key(data, &Password::from("secret"));
});
