//! Verification policy over real handshakes: pins, CRLs, the verify callback, names, and
//! client certificates with real clients.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use sslsock::verify::fingerprint::{fingerprint, FingerprintAlgorithm};
use sslsock::x509::create::CertSpec;
use sslsock::{CertField, Error, Options, Scheme, SslSocket, VerifyError, VerifyMode};

use crate::util::*;

fn pem_der(path: &PathBuf) -> Vec<u8> {
    sslsock::x509::parse_certificates(&std::fs::read(path).unwrap()).unwrap()[0].to_vec()
}

fn openssl_out(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(i) = input {
        child.stdin.take().unwrap().write_all(i).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn fingerprints_equal_what_openssl_prints() {
    require("openssl");
    for pair in ["srv-ec", "srv-rsa"] {
        let path = pki().pair(pair).cert;
        let der = pem_der(&path);
        for algo in ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] {
            let hex = openssl_fingerprint(&path, algo);
            let ours =
                fingerprint(&der, FingerprintAlgorithm::parse(algo).unwrap(), false).unwrap();
            assert_eq!(ours, format!("{algo}${hex}"), "{pair} {algo}");
        }
        // The public key: the DER SubjectPublicKeyInfo, as this pipeline hashes it.
        let pubkey_pem = openssl_out(
            &["x509", "-pubkey", "-noout", "-in", path.to_str().unwrap()],
            None,
        );
        let spki = openssl_out(&["pkey", "-pubin", "-outform", "DER"], Some(&pubkey_pem));
        for algo in ["sha1", "sha256"] {
            let digest = openssl_out(&["dgst", &format!("-{algo}"), "-r"], Some(&spki));
            let hex = String::from_utf8(digest)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            let ours = fingerprint(&der, FingerprintAlgorithm::parse(algo).unwrap(), true).unwrap();
            assert_eq!(ours, format!("{algo}$pub${hex}"), "{pair} pubkey {algo}");
        }
    }
}

#[test]
fn pins_accept_a_self_signed_server_and_nothing_else() {
    let der = pem_der(&pki().pair("selfsigned").cert);
    let pin = fingerprint(&der, FingerprintAlgorithm::Sha256, false).unwrap();
    let pub_pin = fingerprint(&der, FingerprintAlgorithm::Sha1, true).unwrap();
    let bare = pin.trim_start_matches("sha256$").to_uppercase();
    let colons: Vec<String> = bare
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let wrong = format!("sha256${}", "00".repeat(32));
    let (addr, h) = serve(server_opts_with("selfsigned"), 6, echo_once);
    let talk = |opts: Options| -> Result<(), Error> {
        let mut c = SslSocket::connect_with(&addr.to_string(), &opts)?;
        c.write_all(b"pinned\n")?;
        let mut line = String::new();
        c.read_line(&mut line)?;
        assert_eq!(line, "pinned\n");
        Ok(())
    };
    // Without a pin: refused. With any form of the right pin: accepted, whatever the name.
    assert!(matches!(
        talk(client_opts()),
        Err(Error::Verify(VerifyError::SelfSigned { .. }))
    ));
    talk(
        Options::new()
            .fingerprint(&pin)
            .hostname("any.name.example"),
    )
    .unwrap();
    talk(Options::new().fingerprint(&pub_pin).hostname("localhost")).unwrap();
    talk(
        Options::new()
            .fingerprint(colons.join(":"))
            .hostname("localhost"),
    )
    .unwrap();
    talk(
        Options::new()
            .fingerprint(&wrong)
            .fingerprint(&pin)
            .hostname("localhost"),
    )
    .unwrap();
    let err = talk(Options::new().fingerprint(&wrong).hostname("localhost")).unwrap_err();
    match &err {
        Error::Verify(VerifyError::PinMismatch {
            presented,
            expected,
        }) => {
            assert_eq!(presented, &pin);
            assert_eq!(expected, std::slice::from_ref(&wrong));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("matches none of the pinned fingerprints"),
        "{err}"
    );
    let results = h.join().unwrap();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 4);
}

#[test]
fn wrong_pin_with_a_verifying_chain_is_refused_only_when_forced() {
    let (addr, h) = serve(server_opts(), 2, echo_once);
    let wrong = format!("sha256${}", "11".repeat(32));
    let mut c =
        SslSocket::connect_with(&addr.to_string(), &client_opts().fingerprint(&wrong)).unwrap();
    c.write_all(b"x\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    let err = SslSocket::connect_with(
        &addr.to_string(),
        &client_opts().fingerprint(&wrong).force_fingerprint(true),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::PinMismatch { .. })),
        "{err:?}"
    );
    let results = h.join().unwrap();
    assert!(results[0].is_ok() && results[1].is_err());
}

#[test]
fn bad_pin_strings_are_configuration_errors() {
    for bad in ["sha256$abc", "sha7$00", "zz", "sha256$pub$", "md5$0011"] {
        let err = sslsock::SslContext::new(&Options::new().fingerprint(bad)).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{bad}: {err:?}");
        assert!(err.to_string().contains(bad), "{bad}: {err}");
    }
}

#[test]
fn no_name_is_refused_before_any_byte_unless_scheme_none_or_pinned() {
    // Nothing must be sent when the name is missing.
    let (addr, h) = serve_tcp(1, |mut tcp| {
        let mut buf = Vec::new();
        let _ = tcp.read_to_end(&mut buf);
        assert!(buf.is_empty(), "bytes were sent: {}", buf.len());
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let err = SslSocket::start_ssl(tcp, &Options::new().ca_file(&pki().ca)).unwrap_err();
    assert!(
        matches!(err.error, Error::Verify(VerifyError::NoName)),
        "{:?}",
        err.error
    );
    assert!(
        err.to_string()
            .contains("give one with hostname or verifycn_name"),
        "{err}"
    );
    h.join().unwrap();

    let (addr, h) = serve(server_opts(), 2, echo_once);
    for opts in [
        Options::new()
            .ca_file(&pki().ca)
            .verifycn_scheme(Scheme::named("none").unwrap()),
        Options::new().fingerprint(
            fingerprint(
                &pem_der(&pki().pair("srv-ec").cert),
                FingerprintAlgorithm::Sha256,
                false,
            )
            .unwrap(),
        ),
    ] {
        let tcp = TcpStream::connect(addr).unwrap();
        let mut s = SslSocket::start_ssl(tcp, &opts).unwrap();
        s.write_all(b"nameless\n").unwrap();
        let mut line = String::new();
        s.read_line(&mut line).unwrap();
        assert_eq!(line, "nameless\n");
    }
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn verify_callback_sees_the_chain_root_first_and_decides() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (addr, h) = serve(server_opts(), 3, echo_once);
    let log = seen.clone();
    let opts = client_opts().verify_callback(move |info| {
        log.lock().unwrap().push((
            info.depth,
            info.ok,
            info.subject.clone(),
            info.error.is_some(),
        ));
        true
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    c.write_all(b"cb\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (
                1,
                true,
                "/CN=sslsock Test CA/O=sslsock tests".to_owned(),
                false
            ),
            (0, true, "/CN=localhost".to_owned(), false)
        ]
    );
    // Refusing a good chain.
    let err = SslSocket::connect_with(
        &addr.to_string(),
        &client_opts().verify_callback(|info| info.depth != 0),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Verify(VerifyError::RejectedByCallback { depth: 0, .. })
        ),
        "{err:?}"
    );
    // Overriding an unknown issuer: the callback gets the error at the top of the chain.
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    let opts = Options::new()
        .no_ca()
        .hostname("localhost")
        .verify_callback(move |info| {
            log2.lock()
                .unwrap()
                .push((info.depth, info.ok, info.error.map(|e| e.to_string())));
            true
        });
    let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    c.write_all(b"cb\n").unwrap();
    line.clear();
    c.read_line(&mut line).unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    assert!(
        !log[0].1 && log[0].2.as_deref().unwrap().contains("not a trusted CA"),
        "{log:?}"
    );
    let results = h.join().unwrap();
    assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
}

#[test]
fn verify_callback_cannot_override_the_host_name() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let err = SslSocket::connect_with(
        &addr.to_string(),
        &client_opts()
            .verifycn_name("other.example")
            .verify_callback(|_| true),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::NameMismatch { .. })),
        "{err:?}"
    );
    assert!(h.join().unwrap()[0].is_err());
}

/// A root, an intermediate and two leaves under the intermediate, written to `dir`.
fn chain_pki(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let save = |name: &str, i: &sslsock::x509::create::Issued| {
        std::fs::write(dir.join(format!("{name}.pem")), &i.cert_pem).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), &i.key_pem).unwrap();
    };
    let root = CertSpec::new("CRL Root")
        .ca()
        .purpose("cRLSign")
        .self_signed()
        .unwrap();
    let mid = CertSpec::new("CRL Intermediate")
        .ca()
        .purpose("cRLSign")
        .signed_by(&root)
        .unwrap();
    let good = CertSpec::new("localhost")
        .san("localhost")
        .san("127.0.0.1")
        .signed_by(&mid)
        .unwrap();
    let bad = CertSpec::new("localhost")
        .san("localhost")
        .san("127.0.0.1")
        .signed_by(&mid)
        .unwrap();
    save("root", &root);
    save("mid", &mid);
    save("good", &good);
    save("bad", &bad);
    for (name, leaf) in [("good", &good), ("bad", &bad)] {
        std::fs::write(
            dir.join(format!("{name}-chain.pem")),
            format!("{}{}", leaf.cert_pem, mid.cert_pem),
        )
        .unwrap();
    }
}

#[test]
fn crls_from_openssl_ca_refuse_revoked_leaves_and_intermediates() {
    let dir = pki().path("crl");
    chain_pki(&dir);
    let root_crl_empty = openssl_crl(&dir, "root", &[]);
    let mid_crl = openssl_crl(&dir, "mid", &[(&dir.join("bad.pem"), "keyCompromise")]);
    let server = |leaf: &str| {
        Options::new()
            .cert_file(dir.join(format!("{leaf}-chain.pem")))
            .key_file(dir.join(format!("{leaf}.key")))
    };
    let client = || {
        Options::new()
            .ca_file(dir.join("root.pem"))
            .hostname("localhost")
    };

    // A good leaf with both CRLs.
    let (addr, h) = serve(server("good"), 1, echo_once);
    let mut c = SslSocket::connect_with(
        &addr.to_string(),
        &client().crl_file(&mid_crl).crl_file(&root_crl_empty),
    )
    .unwrap();
    // The CRL that answered for the leaf is its revocation status, current until its
    // nextUpdate.
    match c.revocation() {
        sslsock::ocsp::Revocation::Good {
            source: sslsock::ocsp::StatusSource::Crl,
            valid_until,
        } => assert!(valid_until > std::time::SystemTime::now()),
        other => panic!("revocation after a passed CRL check: {other:?}"),
    }
    c.write_all(b"ok\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());

    // A revoked leaf: date and reason in the error.
    let (addr, h) = serve(server("bad"), 3, echo_once);
    let err = SslSocket::connect_with(&addr.to_string(), &client().crl_file(&mid_crl)).unwrap_err();
    match &err {
        Error::Verify(VerifyError::Revoked(r)) => {
            assert_eq!(r.subject, "/CN=localhost");
            assert_eq!(r.reason.as_deref(), Some("keyCompromise"));
            let now = std::time::SystemTime::now();
            let age = now.duration_since(r.revoked_at).unwrap();
            assert!(age < std::time::Duration::from_secs(600), "{r:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("was revoked on")
            && err.to_string().contains("reason: keyCompromise"),
        "{err}"
    );
    // Without CRL checking the same leaf passes; with checking but no CRL of its issuer, refused.
    let mut c = SslSocket::connect_with(&addr.to_string(), &client()).unwrap();
    c.write_all(b"unchecked\n").unwrap();
    line.clear();
    c.read_line(&mut line).unwrap();
    let err = SslSocket::connect_with(&addr.to_string(), &client().crl_file(&root_crl_empty))
        .unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::CrlMissing { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("CRL Intermediate"), "{err}");
    let results = h.join().unwrap();
    assert!(results[0].is_err() && results[1].is_ok() && results[2].is_err());

    // A revoked intermediate, listed in the root's CRL.
    let root_crl = openssl_crl(&dir, "root", &[(&dir.join("mid.pem"), "cACompromise")]);
    let mid_crl_empty = openssl_crl(&dir, "mid", &[]);
    let (addr, h) = serve(server("good"), 1, echo_once);
    let err = SslSocket::connect_with(
        &addr.to_string(),
        &client().crl_file(&root_crl).crl_file(&mid_crl_empty),
    )
    .unwrap_err();
    match &err {
        Error::Verify(VerifyError::Revoked(r)) => {
            assert_eq!(r.subject, "/CN=CRL Intermediate");
            assert_eq!(r.reason.as_deref(), Some("cACompromise"));
        }
        other => panic!("{other:?}"),
    }
    assert!(h.join().unwrap()[0].is_err());

    // CRLs inside the CA file are used by check_crl.
    let bundle = dir.join("root-and-crls.pem");
    std::fs::write(
        &bundle,
        [dir.join("root.pem"), mid_crl.clone()]
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect::<String>(),
    )
    .unwrap();
    let (addr, h) = serve(server("bad"), 1, echo_once);
    let err = SslSocket::connect_with(
        &addr.to_string(),
        &Options::new()
            .ca_file(&bundle)
            .hostname("localhost")
            .check_crl(true),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::Revoked(_))),
        "{err:?}"
    );
    assert!(h.join().unwrap()[0].is_err());
}

fn client_cert_server(mode: VerifyMode) -> Options {
    server_opts()
        .ca_file(&pki().ca)
        .client_ca_file(&pki().ca)
        .verify_mode(mode)
}

fn greet_client(mut s: SslSocket) -> Result<(), String> {
    let who = s
        .peer_certificate(CertField::CommonName)
        .unwrap_or_else(|| "anonymous".into());
    let mut line = String::new();
    s.read_line(&mut line).map_err(|e| e.to_string())?;
    s.write_all(format!("hello {who}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    s.close().map_err(|e| e.to_string())
}

#[test]
fn server_requires_client_certificates_from_openssl_s_client() {
    require("openssl");
    let (addr, h) = serve(
        client_cert_server(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT),
        2,
        greet_client,
    );
    let cli = pki().pair("client");
    let run = |with_cert: bool| {
        let mut cmd = Command::new("openssl");
        cmd.args([
            "s_client",
            "-ign_eof",
            "-connect",
            &addr.to_string(),
            "-servername",
            "localhost",
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(&pki().ca);
        if with_cert {
            cmd.arg("-cert").arg(&cli.cert).arg("-key").arg(&cli.key);
        }
        let mut p = Peer::spawn(
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        p.child.stdin.take().unwrap().write_all(b"hi\n").unwrap();
        p.finish(20)
    };
    let (out, _, _) = run(true);
    assert!(out.contains("hello test client"), "{out}");
    assert!(
        out.contains("Acceptable client certificate CA names")
            && out.contains("CN = sslsock Test CA"),
        "{out}"
    );
    let (out, err, _) = run(false);
    assert!(!out.contains("hello"), "{out}");
    let results = h.join().unwrap();
    assert!(results[0].is_ok());
    let refused = results[1].as_ref().unwrap_err();
    assert!(
        refused.contains("peer did not send a certificate"),
        "{refused} / {err}"
    );
}

#[test]
fn server_requests_client_certificates_and_serves_clients_without() {
    let (addr, h) = serve(client_cert_server(VerifyMode::PEER), 2, greet_client);
    let cli = pki().pair("client");
    for (opts, want) in [
        (
            client_opts().cert_file(&cli.cert).key_file(&cli.key),
            "hello test client\n",
        ),
        (client_opts(), "hello anonymous\n"),
    ] {
        let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
        c.write_all(b"hi\n").unwrap();
        let mut line = String::new();
        c.read_line(&mut line).unwrap();
        assert_eq!(line, want);
    }
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn client_certificate_from_an_unknown_ca_is_refused() {
    let (addr, h) = serve(client_cert_server(VerifyMode::PEER), 1, greet_client);
    let stranger = pki().pair("unknown-ca");
    let r = SslSocket::connect_with(
        &addr.to_string(),
        &client_opts()
            .cert_file(&stranger.cert)
            .key_file(&stranger.key),
    )
    .and_then(|mut c| {
        c.write_all(b"hi\n")?;
        let mut line = String::new();
        c.read_line(&mut line)?;
        Ok(line)
    });
    assert!(r.is_err(), "{r:?}");
    let refused = h.join().unwrap().remove(0).unwrap_err();
    assert!(refused.contains("Unknown Test CA"), "{refused}");
}

#[test]
fn server_requires_client_certificates_from_curl_and_perl() {
    require("curl");
    require_perl_ssl();
    let (addr, h) = serve(
        client_cert_server(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT),
        2,
        |mut s| {
            let who = s
                .peer_certificate(CertField::CommonName)
                .unwrap_or_default();
            let mut line = String::new();
            loop {
                line.clear();
                s.read_line(&mut line).map_err(|e| e.to_string())?;
                if line == "\r\n" || line == "\n" || line.is_empty() {
                    break;
                }
            }
            let body = format!("hello {who}\n");
            s.write_all(
                format!(
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .map_err(|e| e.to_string())?;
            s.close().map_err(|e| e.to_string())
        },
    );
    let cli = pki().pair("client");
    let out = Command::new("curl")
        .args([
            "-sS",
            "--resolve",
            &format!("localhost:{}:127.0.0.1", addr.port()),
            "--cacert",
        ])
        .arg(&pki().ca)
        .arg("--cert")
        .arg(&cli.cert)
        .arg("--key")
        .arg(&cli.key)
        .arg(format!("https://localhost:{}/", addr.port()))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello test client\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = r#"
use IO::Socket::SSL;
my ($port, $ca, $cert, $key) = @ARGV;
my $c = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$port", SSL_hostname => "localhost",
    SSL_ca_file => $ca, SSL_cert_file => $cert, SSL_key_file => $key) or die "connect: $SSL_ERROR";
print $c "GET / HTTP/1.0\r\n\r\n";
my @l = <$c>; print $l[-1];
"#;
    let out = Command::new("perl")
        .args(["-e", script, &addr.port().to_string()])
        .arg(&pki().ca)
        .arg(&cli.cert)
        .arg(&cli.key)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello test client\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

/// Each refusal tells the server why with the alert of `VerifyError::alert()`, the one table
/// both engines follow: `openssl s_server` reports the alert it received.
#[test]
fn refusals_send_the_alert_of_the_one_table() {
    let other_ca = CertSpec::new("Another CA").ca().self_signed().unwrap();
    let other_ca_file = scratch_dir("alert-table").join("other-ca.pem");
    std::fs::write(&other_ca_file, &other_ca.cert_pem).unwrap();
    type Expected = fn(&VerifyError) -> bool;
    let cases: Vec<(&str, Options, Expected)> = vec![
        (
            "srv-ec",
            Options::new().ca_file(&other_ca_file).hostname("localhost"),
            |e| matches!(e, VerifyError::UnknownIssuer { .. }),
        ),
        ("wrongname", client_opts(), |e| {
            matches!(e, VerifyError::NameMismatch { .. })
        }),
        ("expired", client_opts(), |e| {
            matches!(e, VerifyError::Expired { .. })
        }),
        (
            "srv-ec",
            client_opts()
                .fingerprint(format!("sha256${}", "00".repeat(32)))
                .force_fingerprint(true),
            |e| matches!(e, VerifyError::PinMismatch { .. }),
        ),
    ];
    for (leaf, opts, expected) in cases {
        let pair = pki().pair(leaf);
        let (srv, port) = spawn_listening(|port| {
            let mut cmd = Command::new("openssl");
            cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
                .arg("-cert")
                .arg(&pair.cert)
                .arg("-key")
                .arg(&pair.key)
                .args(["-www", "-naccept", "2"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd
        });
        let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts.engine(test_engine()))
            .unwrap_err();
        let Error::Verify(v) = &e else {
            panic!("{leaf}: not a verification error: {e}");
        };
        assert!(expected(v), "{leaf}: {v:?}");
        let (out, err, _) = srv.finish(10);
        // OpenSSL's verify callback has no code for access_denied: the openssl engine sends
        // handshake_failure for the application's refusals (documented at its table).
        let sent = match (test_engine(), v.alert()) {
            (sslsock::Engine::OpenSsl, sslsock::Alert::ACCESS_DENIED) => {
                sslsock::Alert::HANDSHAKE_FAILURE
            }
            (_, alert) => alert,
        };
        let said = format!("SSL alert number {}", sent.0);
        assert!(
            out.contains(&said) || err.contains(&said),
            "{leaf} ({:?}): the server did not get {said}\n{out}\n{err}",
            v.alert().name()
        );
    }
}
