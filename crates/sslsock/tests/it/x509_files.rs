//! Certificates and keys: what we create passes openssl, what openssl makes loads here, and
//! servers work with every key format.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sslsock::x509::create::{CertSpec, Digest, KeyType};
use sslsock::x509::info::CertInfo;
use sslsock::x509::pkcs12::Pkcs12Encryption;
use sslsock::x509::{self, save, LoadError, Password};
use sslsock::{ConfigError, Error, FingerprintAlgorithm, Options, SslContext};

use crate::util::*;

fn dir(name: &str) -> PathBuf {
    let d = pki().path(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn openssl(args: &[&str]) -> String {
    require("openssl");
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Serves one connection with `opts` and checks `openssl s_client` verifies it against `ca`.
fn s_client_accepts(opts: Options, ca: &Path) {
    let (addr, h) = serve(opts, 1, echo_once);
    let out = run_with_input(
        Command::new("openssl")
            .args([
                "s_client",
                "-ign_eof",
                "-connect",
                &addr.to_string(),
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
                p(ca),
            ])
            .stderr(Stdio::piped()),
        b"key format\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    assert!(
        text.contains("Verify return code: 0 (ok)") && text.contains("key format"),
        "{text}"
    );
}

#[test]
fn created_chain_passes_openssl_verify_and_shows_what_was_asked() {
    let d = dir("created-chain");
    let root = CertSpec::with_subject(&[("C", "DE"), ("O", "Example"), ("CN", "Example Root")])
        .ca()
        .key_type(KeyType::Rsa3072)
        .digest(Digest::Sha384)
        .self_signed()
        .unwrap();
    let mid = CertSpec::new("Example Intermediate")
        .ca()
        .signed_by(&root)
        .unwrap();
    let leaf = CertSpec::with_subject(&[
        ("CN", "localhost"),
        ("OU", "Web"),
        ("O", "Example"),
        ("emailAddress", "admin@example.org"),
    ])
    .san("DNS:localhost")
    .san("IP:127.0.0.1")
    .san("IP:2001:db8::1")
    .san("email:x@example.org")
    .san("URI:https://example.org/")
    .purpose("server")
    .ocsp_url("http://ocsp.example/")
    .ca_issuers_url("http://ca.example/mid.crt")
    .crl_url("http://crl.example/mid.crl")
    .must_staple()
    .extension("1.2.3.4.5", vec![0x0c, 0x02, b'h', b'i'], false)
    .signed_by(&mid)
    .unwrap();
    for (name, i) in [("root", &root), ("mid", &mid), ("leaf", &leaf)] {
        std::fs::write(d.join(format!("{name}.pem")), &i.cert_pem).unwrap();
        std::fs::write(d.join(format!("{name}.key")), &i.key_pem).unwrap();
    }
    let verified = openssl(&[
        "verify",
        "-CAfile",
        p(&d.join("root.pem")),
        "-untrusted",
        p(&d.join("mid.pem")),
        p(&d.join("leaf.pem")),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    let text = openssl(&["x509", "-noout", "-text", "-in", p(&d.join("leaf.pem"))]);
    for want in [
        "Subject: CN = localhost, OU = Web, O = Example, emailAddress = admin@example.org",
        "DNS:localhost, IP Address:127.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1, email:x@example.org, URI:https://example.org/",
        "X509v3 Key Usage: critical",
        "Digital Signature, Key Encipherment",
        "TLS Web Server Authentication",
        "OCSP - URI:http://ocsp.example/",
        "CA Issuers - URI:http://ca.example/mid.crt",
        "URI:http://crl.example/mid.crl",
        "TLS Feature:",
        "status_request",
        "X509v3 Subject Key Identifier",
        "X509v3 Authority Key Identifier",
        "CA:FALSE",
        "1.2.3.4.5:",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(
        !text.contains("TLS Web Client Authentication"),
        "purpose server only:\n{text}"
    );
    let root_text = openssl(&["x509", "-noout", "-text", "-in", p(&d.join("root.pem"))]);
    assert!(
        root_text.contains("Subject: C = DE, O = Example, CN = Example Root"),
        "{root_text}"
    );
    assert!(
        root_text.contains("sha384WithRSAEncryption") && root_text.contains("(3072 bit)"),
        "{root_text}"
    );
    assert!(
        root_text.contains("CA:TRUE") && root_text.contains("Certificate Sign"),
        "{root_text}"
    );
    assert!(
        root_text.contains("SSL CA, S/MIME CA, Object Signing CA"),
        "{root_text}"
    );
    // And ours serves the chain to s_client.
    let chain = d.join("chain.pem");
    std::fs::write(&chain, format!("{}{}", leaf.cert_pem, mid.cert_pem)).unwrap();
    s_client_accepts(
        Options::new()
            .cert_file(&chain)
            .key_file(d.join("leaf.key")),
        &d.join("root.pem"),
    );
}

#[test]
fn every_key_type_makes_a_working_server() {
    let d = dir("key-types");
    let ca = CertSpec::new("Key Type CA").ca().self_signed().unwrap();
    std::fs::write(d.join("ca.pem"), &ca.cert_pem).unwrap();
    for kt in [
        KeyType::Rsa2048,
        KeyType::Rsa4096,
        KeyType::EcP256,
        KeyType::EcP384,
        KeyType::Ed25519,
    ] {
        let leaf = CertSpec::new("localhost")
            .san("localhost")
            .key_type(kt)
            .signed_by(&ca)
            .unwrap();
        let info = CertInfo::from_der(&leaf.cert_der, FingerprintAlgorithm::Sha256).unwrap();
        let expect = match kt {
            KeyType::Rsa2048 => ("RSA", 2048),
            KeyType::Rsa4096 => ("RSA", 4096),
            KeyType::EcP256 => ("EC", 256),
            KeyType::EcP384 => ("EC", 384),
            _ => ("ED25519", 253),
        };
        assert_eq!((info.pubkey_type.as_str(), info.pubkey_size), expect);
        s_client_accepts(
            Options::new()
                .cert_pem(leaf.cert_pem.clone())
                .key_pem(leaf.key_pem.clone()),
            &d.join("ca.pem"),
        );
    }
}

/// A CA and a localhost certificate made by openssl, with the key in `key`.
fn openssl_pair(d: &Path, newkey: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        newkey,
        "-nodes",
        "-keyout",
        p(&key),
        "-out",
        p(&cert),
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]);
    (cert, key)
}

fn config_error(opts: &Options) -> ConfigError {
    match SslContext::new(opts) {
        Err(Error::Config(e)) => e,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn openssl_made_keys_load_and_serve() {
    let d = dir("openssl-keys");
    let (cert, key) = openssl_pair(&d, "rsa:2048");
    let der_cert = d.join("cert.der");
    openssl(&[
        "x509",
        "-in",
        p(&cert),
        "-outform",
        "DER",
        "-out",
        p(&der_cert),
    ]);
    let variants: Vec<(&str, Vec<&str>)> = vec![
        (
            "pkcs8-aes256.pem",
            vec![
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-passout",
                "pass:secret",
            ],
        ),
        (
            "pkcs8-pbe1-3des.pem",
            vec![
                "pkcs8",
                "-topk8",
                "-v1",
                "PBE-SHA1-3DES",
                "-passout",
                "pass:secret",
            ],
        ),
        (
            "legacy-aes128.pem",
            vec!["rsa", "-aes128", "-traditional", "-passout", "pass:secret"],
        ),
        (
            "legacy-aes256.pem",
            vec!["rsa", "-aes256", "-traditional", "-passout", "pass:secret"],
        ),
        (
            "legacy-des3.pem",
            vec!["rsa", "-des3", "-traditional", "-passout", "pass:secret"],
        ),
        ("pkcs1.der", vec!["rsa", "-traditional", "-outform", "DER"]),
        (
            "pkcs8.der",
            vec!["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"],
        ),
        (
            "pkcs8-enc.der",
            vec![
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-128-cbc",
                "-passout",
                "pass:secret",
                "-outform",
                "DER",
            ],
        ),
    ];
    for (name, args) in &variants {
        let out = d.join(name);
        let mut all = args.clone();
        all.extend(["-in", p(&key), "-out", p(&out)]);
        openssl(&all);
        let encrypted = args.iter().any(|a| a.starts_with("pass:"));
        let opts = Options::new().cert_file(&der_cert).key_file(&out);
        if encrypted {
            // Missing and wrong passwords are precise configuration errors naming the file.
            match config_error(&opts) {
                ConfigError::Password {
                    what,
                    missing: true,
                } => assert!(what.contains(name), "{what}"),
                other => panic!("{name}: {other:?}"),
            }
            let wrong = config_error(&opts.clone().key_password("wrong"));
            assert!(
                matches!(wrong, ConfigError::Password { missing: false, .. }),
                "{name}: {wrong:?}"
            );
            assert!(wrong.to_string().contains("wrong password"), "{wrong}");
            s_client_accepts(opts.clone().passwd_cb(|| "secret".to_owned()), &cert);
        } else {
            s_client_accepts(opts, &cert);
        }
    }
}

#[test]
fn openssl_made_ec_and_ed25519_keys_load() {
    let d = dir("openssl-ec");
    let sec1 = d.join("sec1.pem");
    std::fs::write(
        &sec1,
        openssl(&["ecparam", "-genkey", "-name", "prime256v1"]),
    )
    .unwrap();
    let sec1_enc = d.join("sec1-enc.pem");
    openssl(&[
        "ec",
        "-in",
        p(&sec1),
        "-aes256",
        "-passout",
        "pass:pw",
        "-out",
        p(&sec1_enc),
    ]);
    let ed = d.join("ed25519.pem");
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", p(&ed)]);
    let ed_enc = d.join("ed25519-enc.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-aes256",
        "-pass",
        "pass:pw",
        "-out",
        p(&ed_enc),
    ]);
    for (key, pw) in [
        (&sec1, None),
        (&sec1_enc, Some("pw")),
        (&ed, None),
        (&ed_enc, Some("pw")),
    ] {
        let c = d.join("selfsigned.pem");
        let mut args = vec![
            "req",
            "-x509",
            "-key",
            p(key),
            "-out",
            p(&c),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ];
        if let Some(pw) = pw {
            args.extend(["-passin", if pw == "pw" { "pass:pw" } else { pw }]);
        }
        openssl(&args);
        let mut opts = Options::new().cert_file(&c).key_file(key);
        if let Some(pw) = pw {
            opts = opts.key_password(pw);
        }
        s_client_accepts(opts, &c);
    }
}

#[test]
fn openssl_made_pkcs12_loads_with_key_in_the_cert_file() {
    let d = dir("openssl-p12");
    let (cert, key) = openssl_pair(&d, "rsa:2048");
    for (name, extra) in [("modern.p12", vec![]), ("legacy.p12", vec!["-legacy"])] {
        let out = d.join(name);
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            p(&cert),
            "-inkey",
            p(&key),
            "-passout",
            "pass:p12pw",
            "-out",
            p(&out),
        ];
        args.extend(extra.iter());
        openssl(&args);
        let bytes = std::fs::read(&out).unwrap();
        assert!(x509::is_pkcs12(&bytes));
        let contents = x509::parse_pkcs12(&bytes, &Password::from("p12pw")).unwrap();
        assert!(
            contents.key.is_some() && contents.certs.len() == 1,
            "{name}"
        );
        assert_eq!(
            x509::parse_pkcs12(&bytes, &Password::from("nope")).unwrap_err(),
            LoadError::WrongPassword,
            "{name}"
        );
        assert_eq!(
            x509::parse_pkcs12(&bytes, &Password::None).unwrap_err(),
            LoadError::NeedPassword,
            "{name}"
        );
        // No key_file: the key comes from the PKCS#12 cert_file, as the manual says.
        s_client_accepts(Options::new().cert_file(&out).key_password("p12pw"), &cert);
        let err = config_error(
            &Options::new()
                .server(true)
                .cert_file(&out)
                .key_password("bad"),
        );
        assert!(
            err.to_string().contains(name) && err.to_string().contains("wrong password"),
            "{err}"
        );
    }
}

#[test]
fn round_trips_keep_certificate_and_key() {
    let d = dir("round-trip");
    let issued = CertSpec::new("localhost")
        .san("localhost")
        .key_type(KeyType::EcP384)
        .self_signed()
        .unwrap();
    let certs = x509::load_certificates(issued.cert_pem.as_bytes(), &Password::None).unwrap();
    let key = x509::parse_private_key(issued.key_pem.as_bytes(), &Password::None).unwrap();
    let key_der = save::key_to_der(&key).unwrap();
    // PEM, plain and encrypted.
    let pem = save::certs_to_pem(&certs);
    assert_eq!(
        x509::load_certificates(pem.as_bytes(), &Password::None).unwrap(),
        certs
    );
    let enc = save::key_to_pem(&key, Some("s3cret")).unwrap();
    assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let back = x509::parse_private_key(enc.as_bytes(), &Password::from("s3cret")).unwrap();
    assert_eq!(save::key_to_der(&back).unwrap(), key_der);
    // openssl reads our encrypted key too.
    let enc_path = d.join("enc.pem");
    std::fs::write(&enc_path, &enc).unwrap();
    openssl(&[
        "pkey",
        "-in",
        p(&enc_path),
        "-passin",
        "pass:s3cret",
        "-noout",
    ]);
    // DER.
    assert_eq!(
        x509::load_certificates(&certs[0], &Password::None).unwrap(),
        certs
    );
    assert_eq!(
        save::key_to_der(&x509::parse_private_key(&key_der, &Password::None).unwrap()).unwrap(),
        key_der
    );
    // PKCS#12, both encryptions, read back by us and by openssl.
    for enc in [Pkcs12Encryption::Aes256, Pkcs12Encryption::Legacy3Des] {
        let bytes = save::to_pkcs12(&certs, &key, "p12", enc).unwrap();
        let c = x509::parse_pkcs12(&bytes, &Password::from("p12")).unwrap();
        assert_eq!(c.certs, certs);
        assert_eq!(save::key_to_der(&c.key.unwrap()).unwrap(), key_der);
        let path = d.join("ours.p12");
        std::fs::write(&path, &bytes).unwrap();
        let mut args = vec![
            "pkcs12",
            "-in",
            p(&path),
            "-passin",
            "pass:p12",
            "-nodes",
            "-noout",
        ];
        if enc == Pkcs12Encryption::Legacy3Des {
            args.push("-legacy");
        }
        openssl(&args);
    }
    // PKCS#1 and SEC1 keys convert to PKCS#8.
    let sec1 = openssl(&[
        "ec",
        "-in",
        p(&{
            let k = d.join("k.pem");
            std::fs::write(&k, &issued.key_pem).unwrap();
            k
        }),
    ]);
    let sec1_key = x509::parse_private_key(sec1.as_bytes(), &Password::None).unwrap();
    assert!(matches!(sec1_key, pki_types::PrivateKeyDer::Sec1(_)));
    // The converted PKCS#8 key still belongs to the certificate (checked when configuring).
    let converted = save::key_to_pem(&sec1_key, None).unwrap();
    assert!(converted.starts_with("-----BEGIN PRIVATE KEY-----"));
    SslContext::new(
        &Options::new()
            .server(true)
            .cert_pem(issued.cert_pem.clone())
            .key_pem(converted),
    )
    .unwrap();
}

#[test]
fn bad_key_material_never_panics() {
    for junk in [
        &b""[..],
        b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,zz\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: RC5-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
        &[0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x03],
        &[0x30, 0x03, 0x02, 0x01, 0x03],
    ] {
        assert!(x509::load_private_key(junk, &Password::from("x")).is_err());
        assert!(x509::load_certificates(junk, &Password::from("x")).is_err());
    }
}
