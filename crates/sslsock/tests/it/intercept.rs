//! Intercept: clones of upstream certificates under a proxy CA, checked with openssl and with
//! our own verifier; the cache, its serialisation and restoration.

use std::io::{BufRead, Write};

use sslsock::intercept::{Interceptor, Serial};
use sslsock::x509::create::CertSpec;
use sslsock::{Options, SslListener, SslSocket};
use sslsock_test_support::{openssl_in, scratch_dir};

use crate::util::*;

fn proxy_ca() -> (std::path::PathBuf, Interceptor) {
    // A directory per proxy CA: the tests run in parallel.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let d = scratch_dir(&format!(
        "intercept-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let ca = CertSpec::new("Test Proxy CA").ca().self_signed().unwrap();
    std::fs::write(d.join("proxy-ca.pem"), &ca.cert_pem).unwrap();
    std::fs::write(d.join("proxy-ca.key"), &ca.key_pem).unwrap();
    let i = Interceptor::from_files(d.join("proxy-ca.pem"), d.join("proxy-ca.key"), None).unwrap();
    (d, i)
}

fn der(pem_file: &std::path::Path) -> Vec<u8> {
    sslsock::x509::parse_certificates(&std::fs::read(pem_file).unwrap()).unwrap()[0].to_vec()
}

#[test]
fn a_clone_verifies_under_the_proxy_ca_and_looks_like_the_original() {
    let (d, proxy) = proxy_ca();
    let original = der(&pki().pair("srv-ec").cert);
    let forged = proxy.clone_cert(&original).unwrap();
    std::fs::write(d.join("forged.pem"), &forged.cert_pem).unwrap();
    let ok = String::from_utf8(openssl_in(
        &d,
        &["verify", "-CAfile", "proxy-ca.pem", "forged.pem"],
    ))
    .unwrap();
    assert_eq!(ok.trim(), "forged.pem: OK");
    let text = String::from_utf8(openssl_in(
        &d,
        &["x509", "-in", "forged.pem", "-noout", "-text"],
    ))
    .unwrap();
    assert!(text.contains("Subject: CN = localhost"), "{text}");
    assert!(text.contains("Issuer: CN = Test Proxy CA"), "{text}");
    assert!(text.contains("DNS:localhost"), "{text}");
    let orig_text = String::from_utf8(openssl_in(
        &d,
        &[
            "x509",
            "-in",
            &pki().file("srv-ec.pem"),
            "-noout",
            "-ext",
            "subjectAltName,extendedKeyUsage",
        ],
    ))
    .unwrap();
    let forged_text = String::from_utf8(openssl_in(
        &d,
        &[
            "x509",
            "-in",
            "forged.pem",
            "-noout",
            "-ext",
            "subjectAltName,extendedKeyUsage",
        ],
    ))
    .unwrap();
    assert_eq!(
        forged_text, orig_text,
        "SANs and extended key usage as the original's"
    );

    // Our own client, trusting the proxy CA, accepts it served by our server.
    std::fs::write(d.join("forged.key"), &forged.key_pem).unwrap();
    let server = Options::new()
        .server(true)
        .cert_file(d.join("forged.pem"))
        .key_file(d.join("forged.key"));
    let listener = SslListener::bind("127.0.0.1:0", &server).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        echo_once(s).unwrap();
    });
    let client = Options::new()
        .ca_file(d.join("proxy-ca.pem"))
        .hostname("localhost");
    let mut c = SslSocket::connect_with(&addr.to_string(), &client).unwrap();
    c.write_all(b"through\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "through\n");
    drop(c);
    h.join().unwrap();
}

#[test]
fn a_clone_carries_no_revocation_urls_of_the_original() {
    let (d, proxy) = proxy_ca();
    // An original with OCSP, CA issuers and CRL URLs.
    let issuer = CertSpec::new("Upstream CA").ca().self_signed().unwrap();
    let original = CertSpec::new("up.example")
        .san("DNS:up.example")
        .ocsp_url("http://ocsp.up.example/")
        .crl_url("http://crl.up.example/ca.crl")
        .signed_by(&issuer)
        .unwrap();
    let forged = proxy.clone_cert(&original.cert_der).unwrap();
    std::fs::write(d.join("noaia.pem"), &forged.cert_pem).unwrap();
    let text = String::from_utf8(openssl_in(
        &d,
        &["x509", "-in", "noaia.pem", "-noout", "-text"],
    ))
    .unwrap();
    assert!(!text.contains("Authority Information Access"), "{text}");
    assert!(!text.contains("CRL Distribution Points"), "{text}");
    assert!(text.contains("DNS:up.example"), "{text}");
}

#[test]
fn the_cache_hits_and_survives_serialisation() {
    let (d, proxy) = proxy_ca();
    let original = der(&pki().pair("srv-ec").cert);
    let first = proxy.clone_cert(&original).unwrap();
    let second = proxy.clone_cert(&original).unwrap();
    assert_eq!(
        first.cert_der, second.cert_der,
        "the second clone comes from the cache"
    );
    assert_eq!(proxy.cached(), 1);
    let saved = proxy.serialize();
    let again =
        Interceptor::from_files(d.join("proxy-ca.pem"), d.join("proxy-ca.key"), None).unwrap();
    assert_eq!(again.restore(&saved).unwrap(), 1);
    assert_eq!(
        again.clone_cert(&original).unwrap().cert_der,
        first.cert_der
    );
    // Clones of another CA are not taken.
    let (_, other) = proxy_ca();
    let e = other.restore(&saved).unwrap_err();
    assert!(e.to_string().contains("not signed by this proxy CA"), "{e}");
    // A single key for every clone: a different cache entry, the same key in each clone.
    let key = CertSpec::new("k").self_signed().unwrap().key_pem;
    let single = Interceptor::from_files(d.join("proxy-ca.pem"), d.join("proxy-ca.key"), None)
        .unwrap()
        .with_clone_key(&key)
        .unwrap();
    let a = single.clone_cert(&original).unwrap();
    let b = single
        .clone_cert(&der(&pki().pair("wrongname").cert))
        .unwrap();
    assert_eq!(a.key_pem, b.key_pem);
    assert_ne!(a.cert_der, b.cert_der);
}

#[test]
fn serials_random_per_clone_a_counter_or_a_callback() {
    let (d, proxy) = proxy_ca();
    let original = der(&pki().pair("srv-ec").cert);
    let serial = |pem: &str| {
        std::fs::write(d.join("s.pem"), pem).unwrap();
        String::from_utf8(openssl_in(
            &d,
            &["x509", "-in", "s.pem", "-noout", "-serial"],
        ))
        .unwrap()
    };
    // The default: each forged certificate its own serial, also for the same original in
    // another process (or after an eviction), where the clone has another key.
    let first = serial(&proxy.clone_cert(&original).unwrap().cert_pem);
    let restarted =
        Interceptor::from_files(d.join("proxy-ca.pem"), d.join("proxy-ca.key"), None).unwrap();
    let second = serial(&restarted.clone_cert(&original).unwrap().cert_pem);
    assert_ne!(
        first, second,
        "two clones with different keys share a serial"
    );
    for s in [&first, &second] {
        let hex = s.trim().trim_start_matches("serial=");
        assert_eq!(hex.len(), 32, "a 16-byte serial: {s}");
    }
    let counted = Interceptor::from_files(d.join("proxy-ca.pem"), d.join("proxy-ca.key"), None)
        .unwrap()
        .with_serial(Serial::Counter(std::sync::Arc::new(
            std::sync::atomic::AtomicU64::new(0x1000),
        )));
    assert_eq!(
        serial(&counted.clone_cert(&original).unwrap().cert_pem).trim(),
        "serial=1000"
    );
    assert_eq!(
        serial(
            &counted
                .clone_cert(&der(&pki().pair("wrongname").cert))
                .unwrap()
                .cert_pem
        )
        .trim(),
        "serial=1001"
    );
    let called = Interceptor::from_files(d.join("proxy-ca.pem"), d.join("proxy-ca.key"), None)
        .unwrap()
        .with_serial(Serial::Callback(std::sync::Arc::new(|_| 0x4242)));
    assert_eq!(
        serial(&called.clone_cert(&original).unwrap().cert_pem).trim(),
        "serial=4242"
    );
}

#[test]
fn a_proxy_ca_must_be_a_ca_with_its_own_key() {
    let leaf = CertSpec::new("not a ca").self_signed().unwrap();
    let e = Interceptor::new(
        leaf.cert_pem.as_bytes(),
        leaf.key_pem.as_bytes(),
        &sslsock::x509::Password::None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("not a CA"), "{e}");
    let ca = CertSpec::new("CA").ca().self_signed().unwrap();
    let e = Interceptor::new(
        ca.cert_pem.as_bytes(),
        leaf.key_pem.as_bytes(),
        &sslsock::x509::Password::None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not belong"), "{e}");
}

/// An upstream leaf made by openssl under a CA of its own, with the given subject and
/// extensions (`-addext` lines); its DER.
fn upstream(d: &std::path::Path, name: &str, subject: &str, exts: &[&str]) -> Vec<u8> {
    let exts: Vec<&str> = exts.iter().flat_map(|e| ["-addext", e]).collect();
    upstream_with(d, name, subject, &exts)
}

/// [`upstream`] with other `openssl req` arguments (`-config`, `-extensions`).
fn upstream_with(d: &std::path::Path, name: &str, subject: &str, extra: &[&str]) -> Vec<u8> {
    upstream_ca(d);
    let mut args: Vec<String> = [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-CA",
        "up-ca.pem",
        "-CAkey",
        "up-ca.key",
        "-days",
        "30",
        "-subj",
        subject,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend([
        "-keyout".into(),
        format!("{name}.key"),
        "-out".into(),
        format!("{name}.pem"),
    ]);
    args.extend(extra.iter().map(|e| (*e).to_owned()));
    openssl_in(d, &args);
    der(&d.join(format!("{name}.pem")))
}

/// The upstream CA of `d` (`up-ca.pem`, `up-ca.key`), made on first use.
fn upstream_ca(d: &std::path::Path) {
    if !d.join("up-ca.pem").exists() {
        openssl_in(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "up-ca.key",
                "-out",
                "up-ca.pem",
                "-subj",
                "/CN=Upstream CA",
                "-days",
                "30",
                "-addext",
                "basicConstraints=critical,CA:true",
            ],
        );
    }
}

fn openssl_shows(d: &std::path::Path, pem: &str, what: &[&str]) -> String {
    std::fs::write(d.join("shown.pem"), pem).unwrap();
    String::from_utf8(openssl_in(
        d,
        &[
            &["x509", "-in", "shown.pem", "-noout", "-nameopt", "RFC2253"][..],
            what,
        ]
        .concat(),
    ))
    .unwrap()
}

#[test]
fn a_common_name_no_subject_alt_name_proves_is_not_forged() {
    let (d, proxy) = proxy_ca();
    // CN=bank.example, but the names the upstream CA vouched for are elsewhere.
    let original = upstream(
        &d,
        "bank",
        "/O=Upstream/CN=bank.example",
        &["subjectAltName=DNS:www.inside.example,DNS:localhost"],
    );
    let forged = proxy.clone_cert(&original).unwrap();
    let subject = openssl_shows(&d, &forged.cert_pem, &["-subject"]);
    assert_eq!(subject.trim(), "subject=O=Upstream", "{subject}");
    // Served by our server, a client matching the CN (our default scheme) refuses the clone
    // for bank.example and accepts it for a name it carries.
    for (name, accepted) in [("bank.example", false), ("localhost", true)] {
        let listener = SslListener::bind(
            "127.0.0.1:0",
            &Options::new()
                .cert_pem(forged.cert_pem.clone())
                .key_pem(forged.key_pem.clone()),
        )
        .unwrap();
        let addr = listener.local_addr().unwrap();
        let h = std::thread::spawn(move || drop(listener.accept()));
        let client = Options::new()
            .ca_file(d.join("proxy-ca.pem"))
            .hostname(name);
        let got = SslSocket::connect_with(&addr.to_string(), &client);
        assert_eq!(got.is_ok(), accepted, "{name}: {:?}", got.err());
        let _ = h.join();
    }
    // A CN that is one of the SANs stays.
    let original = upstream(
        &d,
        "proved",
        "/O=Upstream/CN=localhost",
        &["subjectAltName=DNS:localhost"],
    );
    let forged = proxy.clone_cert(&original).unwrap();
    let subject = openssl_shows(&d, &forged.cert_pem, &["-subject"]);
    assert_eq!(
        subject.trim(),
        "subject=CN=localhost,O=Upstream",
        "{subject}"
    );
}

#[test]
fn unusual_and_repeated_subject_attributes_clone_as_they_are() {
    let (d, proxy) = proxy_ca();
    let original = upstream(
        &d,
        "odd",
        "/OU=first/OU=second/1.2.3.4.5=odd value/CN=localhost",
        &["subjectAltName=DNS:localhost"],
    );
    let forged = proxy.clone_cert(&original).unwrap();
    let (_, a) = x509_parser::parse_x509_certificate(&original).unwrap();
    let (_, b) = x509_parser::parse_x509_certificate(&forged.cert_der).unwrap();
    assert_eq!(
        a.subject().as_raw(),
        b.subject().as_raw(),
        "the subject as DER"
    );
    std::fs::write(d.join("odd-forged.pem"), &forged.cert_pem).unwrap();
    let ok = String::from_utf8(openssl_in(
        &d,
        &["verify", "-CAfile", "proxy-ca.pem", "odd-forged.pem"],
    ))
    .unwrap();
    assert_eq!(ok.trim(), "odd-forged.pem: OK");
    // An OID DER cannot encode: an error, not a panic.
    let e = CertSpec::new("x")
        .subject("3.7", "x")
        .self_signed()
        .unwrap_err();
    assert!(e.to_string().contains("3.7"), "{e}");
}

#[test]
fn subject_alt_names_keep_their_types() {
    let (d, proxy) = proxy_ca();
    // A directory name needs a section of its own: a configuration file.
    std::fs::write(
        d.join("sans.cnf"),
        "[req]\ndistinguished_name = dn\n[dn]\n[ext]\nsubjectAltName = @alt\n\
         [alt]\nDNS.1 = localhost\ndirName.1 = dir_sect\n\
         otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:user@example\nRID.1 = 1.2.3.4\n\
         email.1 = a@example.org\nURI.1 = https://example.org/\n\
         [dir_sect]\nCN = evil.example\nO = Directory\n",
    )
    .unwrap();
    let original = upstream_with(
        &d,
        "sans",
        "/CN=localhost",
        &["-config", "sans.cnf", "-extensions", "ext"],
    );

    let forged = proxy.clone_cert(&original).unwrap();
    std::fs::write(d.join("sans-forged.pem"), &forged.cert_pem).unwrap();
    let show = |file: &str| {
        String::from_utf8(openssl_in(
            &d,
            &["x509", "-in", file, "-noout", "-ext", "subjectAltName"],
        ))
        .unwrap()
    };
    let forged_sans = show("sans-forged.pem");
    assert_eq!(forged_sans, show("sans.pem"));
    assert!(forged_sans.contains("DirName:"), "{forged_sans}");
    assert!(
        !forged_sans.contains("DNS:CN") && !forged_sans.contains("DNS:evil"),
        "{forged_sans}"
    );
}

/// An application's clone store (Intercept's `cache` object with get and put).
#[derive(Default)]
struct AppClones(std::sync::Mutex<std::collections::HashMap<String, sslsock::intercept::Forged>>);

impl sslsock::intercept::CloneStore for AppClones {
    fn get(&self, key: &str) -> Option<sslsock::intercept::Forged> {
        self.0.lock().unwrap().get(key).cloned()
    }
    fn put(&self, key: &str, clone: sslsock::intercept::Forged) {
        self.0.lock().unwrap().insert(key.to_owned(), clone);
    }
}

/// Clones go to the application's store and come back from it, for another proxy with the
/// same CA too; a store shared with another proxy CA gives clones this one does not use.
#[test]
fn an_application_clone_store_is_used() {
    let (d, proxy) = proxy_ca();
    let store = std::sync::Arc::new(AppClones::default());
    let proxy = proxy.with_store(store.clone());
    let original = der(&pki().pair("srv-ec").cert);
    let first = proxy.clone_cert(&original).unwrap();
    assert_eq!(store.0.lock().unwrap().len(), 1);
    assert_eq!(proxy.cached(), 0, "the proxy's own cache is not used");
    let twin = Interceptor::from_files(d.join("proxy-ca.pem"), d.join("proxy-ca.key"), None)
        .unwrap()
        .with_store(store.clone());
    assert_eq!(
        twin.clone_cert(&original).unwrap().cert_der,
        first.cert_der,
        "the second proxy takes the first one's clone from the store"
    );
    let (_, other) = proxy_ca();
    let other = other.with_store(store.clone());
    assert!(other.cached_clone(&original).is_none());
    let own = other.clone_cert(&original).unwrap();
    assert_ne!(own.cert_der, first.cert_der);
}
