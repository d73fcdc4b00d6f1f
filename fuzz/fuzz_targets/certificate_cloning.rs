//! Intercept's cloning of arbitrary upstream certificates (DER): subject attributes of any
//! type, repeated or malformed, SANs of every kind. An error is fine; a panic is not.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sslsock::intercept::Interceptor;
use sslsock::x509::create::{CertSpec, KeyType};

fn proxy() -> &'static Interceptor {
    static PROXY: OnceLock<Interceptor> = OnceLock::new();
    PROXY.get_or_init(|| {
        let ca = CertSpec::new("Fuzz Proxy CA").ca().self_signed().unwrap();
        // One clone key: a fresh key per input would be all the fuzzer measures.
        let key = CertSpec::new("k").key_type(KeyType::EcP256).self_signed().unwrap();
        Interceptor::new(ca.cert_pem.as_bytes(), ca.key_pem.as_bytes(), &Default::default())
            .unwrap()
            .with_clone_key(&key.key_pem)
            .unwrap()
            .with_cache_size(1)
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = proxy().clone_cert(data);
});
