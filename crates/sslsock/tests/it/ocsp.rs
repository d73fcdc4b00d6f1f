//! OCSP against real responses: `openssl ocsp -index` makes them (directly, or behind the
//! lab's loopback responder), `openssl s_server -status_file` staples them, and
//! `openssl s_client -status` and `curl --cert-status` read our staples.

use std::process::Command;
use std::time::{Duration, SystemTime};

use sslsock::ocsp::{
    CertStatus, OcspError, OcspMode, OcspResponse, Revocation, StapleSource, StatusSource,
};
use sslsock::{Error, Options, SslSocket, VerifyError};
use sslsock_test_support::ocsp_lab::{lab, Signer};
use sslsock_test_support::{require, run_with_input, Peer};

fn der_of(name: &str) -> Vec<u8> {
    let pem = std::fs::read(lab().path(&format!("{name}.pem"))).unwrap();
    sslsock::x509::parse_certificates(&pem).unwrap()[0].to_vec()
}

fn check(
    resp: &[u8],
    cert: &str,
    ca: &str,
    at: SystemTime,
) -> Result<sslsock::ocsp::VerifiedStatus, OcspError> {
    OcspResponse::from_der(resp)?.verify(&der_of(cert), &der_of(ca), at, None)
}

fn client(mode: OcspMode) -> Options {
    Options::new()
        .ca_file(lab().path("root.pem"))
        .ocsp_mode(mode)
        .ocsp_cache(sslsock::ocsp::OcspCache::new(16))
}

/// `openssl s_server` with `leaf` (and its intermediate), stapling `staple` when given.
fn stapling_server(
    leaf: &str,
    ca: &str,
    staple: Option<&std::path::Path>,
    extra: &[&str],
) -> (Peer, u16) {
    lab().s_server(leaf, ca, staple, extra)
}

#[test]
fn responses_good_revoked_unknown() {
    let now = SystemTime::now();
    let good = lab().response("int", "good", Signer::Issuer, 60, false);
    let v = check(&good, "good", "int", now).unwrap();
    assert_eq!(v.status, CertStatus::Good);
    assert_eq!(v.responder, "/CN=OCSP Lab Intermediate");
    assert!(v.next_update.is_some_and(|n| n > now));

    let revoked = lab().response("int", "revoked", Signer::Issuer, 60, false);
    match check(&revoked, "revoked", "int", now).unwrap().status {
        CertStatus::Revoked { time, reason } => {
            assert_eq!(reason.as_deref(), Some("keyCompromise"));
            assert!(time <= now);
        }
        other => panic!("{other:?}"),
    }

    let unknown = lab().response("int", "unknown", Signer::Issuer, 60, false);
    assert_eq!(
        check(&unknown, "unknown", "int", now).unwrap().status,
        CertStatus::Unknown
    );

    // A response about another certificate says nothing about this one.
    let e = check(&good, "revoked", "int", now).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the OCSP response holds no status for certificate \"/CN=localhost\""
    );
}

#[test]
fn freshness_is_checked() {
    let resp = lab().response("int", "good", Signer::Issuer, 1, false);
    let later = SystemTime::now() + Duration::from_secs(60 * 10);
    let e = check(&resp, "good", "int", later).unwrap_err();
    assert!(matches!(e, OcspError::Expired { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("the OCSP response is out of date (it was current until "),
        "{e}"
    );

    let earlier = SystemTime::now() - Duration::from_secs(3600);
    let e = check(&resp, "good", "int", earlier).unwrap_err();
    assert!(matches!(e, OcspError::NotYetValid { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("the OCSP response is not yet valid (thisUpdate "),
        "{e}"
    );
}

#[test]
fn responder_authorisation() {
    let now = SystemTime::now();
    let delegated = lab().response("int", "good", Signer::Delegated, 60, false);
    let v = check(&delegated, "good", "int", now).unwrap();
    assert_eq!(v.responder, "/CN=Lab OCSP Signer");

    let no_eku = lab().response("int", "good", Signer::NoEku, 60, false);
    let e = check(&no_eku, "good", "int", now).unwrap_err();
    assert!(
        matches!(e, OcspError::UnauthorizedResponder { .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("lacks the extended key usage OCSPSigning"),
        "{e}"
    );

    let rogue = lab().response("int", "good", Signer::Rogue, 60, false);
    let e = check(&rogue, "good", "int", now).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the OCSP response is signed by \"/CN=Rogue Responder\", which is not authorised: its certificate is not issued by \"/CN=OCSP Lab Intermediate\""
    );

    // The issuer's name with another key: the signature is what fails.
    let twin = lab().response("int", "good", Signer::Twin, 60, false);
    let e = check(&twin, "good", "int", now).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the OCSP response's signature does not verify with the key of \"/CN=OCSP Lab Intermediate\": the signature is wrong"
    );
    // A response from another issuer's responder says nothing of this certificate.
    let by_int = lab().response("int", "good", Signer::Issuer, 60, false);
    let e = check(&by_int, "good2", "int2", now).unwrap_err();
    assert!(matches!(e, OcspError::NoStatusFor { .. }), "{e:?}");
}

#[test]
fn nonce_must_match() {
    let resp = lab().response("int", "good", Signer::Issuer, 60, true);
    let parsed = OcspResponse::from_der(&resp).unwrap();
    let sent = parsed.nonce().expect("the responder echoes the nonce");
    let ok = parsed.verify(
        &der_of("good"),
        &der_of("int"),
        SystemTime::now(),
        Some(&sent),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let e = parsed
        .verify(
            &der_of("good"),
            &der_of("int"),
            SystemTime::now(),
            Some(b"another nonce"),
        )
        .unwrap_err();
    assert_eq!(e, OcspError::NonceMismatch);
}

#[test]
fn garbage_is_a_parse_error() {
    let e = OcspResponse::from_der(b"\x30\x03\x0a\x01\x03").unwrap_err();
    assert_eq!(e.to_string(), "the OCSP responder answered \"tryLater\"");
    let e = OcspResponse::from_der(b"not der").unwrap_err();
    assert!(matches!(e, OcspError::Malformed(_)), "{e:?}");
}

#[test]
fn stapled_good_and_revoked_in_tls12_and_tls13() {
    stapled_good_and_revoked(sslsock::Engine::Rustls);
}

/// The same staples checked on the openssl engine: the same policy, the same outcomes.
#[cfg(feature = "openssl")]
#[test]
fn stapled_good_and_revoked_on_the_openssl_engine() {
    stapled_good_and_revoked(sslsock::Engine::OpenSsl);
}

fn stapled_good_and_revoked(engine: sslsock::Engine) {
    let client = |mode| client(mode).engine(engine);
    for version in ["-tls1_3", "-tls1_2"] {
        let good = lab().save(
            &format!("staple-good{version}.der"),
            &lab().response("int", "good", Signer::Issuer, 60, false),
        );
        let (_srv, port) = stapling_server("good", "int", Some(&good), &[version]);
        let sock =
            SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
                .unwrap();
        assert!(
            matches!(
                sock.revocation(),
                Revocation::Good {
                    source: StatusSource::Staple,
                    ..
                }
            ),
            "{version}: {:?}",
            sock.revocation()
        );
        assert_eq!(sock.revocation().to_string(), "good (stapled)");

        let revoked = lab().save(
            &format!("staple-revoked{version}.der"),
            &lab().response("int", "revoked", Signer::Issuer, 60, false),
        );
        let (_srv, port) = stapling_server("revoked", "int", Some(&revoked), &[version]);
        let e =
            SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
                .unwrap_err();
        assert!(
            matches!(e, Error::Verify(VerifyError::Revoked(_))),
            "{version}: {e:?}"
        );
        let text = e.to_string();
        assert!(text.contains("certificate \"/CN=localhost\""), "{text}");
        assert!(text.contains("reason: keyCompromise"), "{text}");
    }
}

/// A client that refuses the server's staple tells the server why with an alert: the
/// revocation itself (`certificate_revoked`, 44) when it can, OpenSSL's status-response alert
/// (113) where the openssl engine checks a TLS 1.2 staple in OpenSSL's status callback.
fn a_refused_staple_is_an_alert_to_s_server(engine: sslsock::Engine, alerts: [(&str, u8); 2]) {
    let revoked = lab().save(
        "staple-revoked-alert.der",
        &lab().response("int", "revoked", Signer::Issuer, 60, false),
    );
    for (version, alert) in alerts {
        let (srv, port) = sslsock_test_support::spawn_listening(|port| {
            let mut cmd = Command::new("openssl");
            cmd.current_dir(&lab().dir)
                .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
                .args(["-cert", "revoked.pem", "-key", "revoked.key"])
                .args(["-cert_chain", "int.pem", "-www", version])
                // The readiness probe is the first connection.
                .args(["-naccept", "2"])
                .arg("-status_file")
                .arg(&revoked)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd
        });
        let e = SslSocket::connect_with(
            &format!("127.0.0.1:{port}"),
            &client(OcspMode::TRY_STAPLE).engine(engine),
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::Verify(VerifyError::Revoked(_))),
            "{version}: {e:?}"
        );
        let (out, err, _) = srv.finish(10);
        assert!(
            err.contains(&format!("SSL alert number {alert}"))
                || out.contains(&format!("SSL alert number {alert}")),
            "{engine:?} {version}: {out}\n{err}"
        );
    }
}

#[test]
fn a_refused_staple_is_an_alert() {
    a_refused_staple_is_an_alert_to_s_server(
        sslsock::Engine::Rustls,
        [("-tls1_3", 44), ("-tls1_2", 44)],
    );
}

#[cfg(feature = "openssl")]
#[test]
fn a_refused_staple_is_an_alert_on_the_openssl_engine() {
    a_refused_staple_is_an_alert_to_s_server(
        sslsock::Engine::OpenSsl,
        [("-tls1_3", 44), ("-tls1_2", 113)],
    );
}

#[test]
fn staple_of_another_certificate_is_a_soft_error() {
    let other = lab().save(
        "staple-other.der",
        &lab().response("int", "revoked", Signer::Issuer, 60, false),
    );
    let (_srv, port) = stapling_server("good", "int", Some(&other), &[]);
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
        .unwrap();
    match sock.revocation() {
        Revocation::Unknown { soft_errors } => {
            assert!(
                matches!(soft_errors[..], [OcspError::NoStatusFor { .. }]),
                "{soft_errors:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn must_staple() {
    // A must-staple certificate without a staple: refused, whatever the mode but NO_CHECK.
    let (_srv, port) = stapling_server("staple", "int", None, &[]);
    for mode in [OcspMode::TRY_STAPLE, OcspMode::NO_STAPLE] {
        let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(mode)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "certificate verify failed: the server sent no OCSP staple, but the certificate (marked must-staple, RFC 7633) requires one",
            "{mode}"
        );
    }
    let sock =
        SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::NO_CHECK)).unwrap();
    assert_eq!(sock.revocation(), Revocation::Off);

    // With a good staple it is accepted.
    let good = lab().save(
        "staple-must.der",
        &lab().response("int", "staple", Signer::Issuer, 60, false),
    );
    let (_srv, port) = stapling_server("staple", "int", Some(&good), &[]);
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
        .unwrap();
    assert_eq!(sock.revocation().to_string(), "good (stapled)");

    // With an out-of-date one it is refused, saying why.
    let expired = lab().response("int", "staple", Signer::Rogue, 60, false);
    let bad = lab().save("staple-must-rogue.der", &expired);
    let (_srv, port) = stapling_server("staple", "int", Some(&bad), &[]);
    let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
        .unwrap_err();
    assert!(
        e.to_string().contains("the server's OCSP staple is not usable (the OCSP response is signed by \"/CN=Rogue Responder\""),
        "{e}"
    );
}

#[test]
fn must_staple_mode() {
    let (_srv, port) = stapling_server("good", "int", None, &[]);
    let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::MUST_STAPLE))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "certificate verify failed: the server sent no OCSP staple, but the OCSP mode \"must\" requires one"
    );
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
        .unwrap();
    assert_eq!(
        sock.revocation().to_string(),
        "unknown (no stapled response)"
    );
}

#[test]
fn resolver_asks_the_responder() {
    let (_srv, port) = stapling_server("good", "int", None, &[]);
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
        .unwrap();
    let mut resolver = sock.ocsp_resolver();
    let requests = resolver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, lab().url("int"));
    resolver.resolve_blocking(Duration::from_secs(10)).unwrap();
    assert_eq!(resolver.good(), ["/CN=localhost"]);
    assert!(
        resolver.soft_errors().is_empty(),
        "{:?}",
        resolver.soft_errors()
    );

    let (_srv, port) = stapling_server("revoked", "int", None, &[]);
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
        .unwrap();
    let e = sock
        .ocsp_resolver()
        .resolve_blocking(Duration::from_secs(10))
        .unwrap_err();
    assert!(matches!(e, VerifyError::Revoked(_)), "{e:?}");
}

#[test]
fn resolver_soft_and_hard() {
    let (_srv, port) = stapling_server("unknown", "int", None, &[]);
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
        .unwrap();
    let mut soft = sock.ocsp_resolver();
    soft.resolve_blocking(Duration::from_secs(10)).unwrap();
    assert_eq!(
        soft.soft_errors()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["the OCSP responder does not know certificate \"/CN=localhost\" (status unknown)"]
    );
    // s_server -www serves one connection at a time.
    drop(sock);

    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::FAIL_HARD))
        .unwrap();
    let e = sock
        .ocsp_resolver()
        .resolve_blocking(Duration::from_secs(10))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "revocation check failed: the OCSP responder does not know certificate \"/CN=localhost\" (status unknown)"
    );
}

#[test]
fn full_chain_finds_a_revoked_intermediate() {
    let (_srv, port) = stapling_server("good2", "int2", None, &[]);
    let leaf_only =
        SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::TRY_STAPLE))
            .unwrap();
    leaf_only
        .ocsp_resolver()
        .resolve_blocking(Duration::from_secs(10))
        .unwrap();
    drop(leaf_only);

    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::FULL_CHAIN))
        .unwrap();
    let mut resolver = sock.ocsp_resolver();
    let urls: Vec<String> = resolver.requests().into_iter().map(|(u, _)| u).collect();
    assert_eq!(urls, [lab().url("int2"), lab().url("root")]);
    let e = resolver
        .resolve_blocking(Duration::from_secs(10))
        .unwrap_err();
    let VerifyError::Revoked(r) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(r.subject, "/CN=OCSP Lab Revoked Intermediate");
}

#[test]
fn staple_callback_replaces_the_check() {
    let revoked = lab().save(
        "staple-cb.der",
        &lab().response("int", "revoked", Signer::Issuer, 60, false),
    );
    let (_srv, port) = stapling_server("revoked", "int", Some(&revoked), &[]);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(0usize));
    let s = seen.clone();
    let opts = client(OcspMode::TRY_STAPLE).ocsp_staple_callback(move |info| {
        *s.lock().unwrap() = info.staple.map_or(0, <[u8]>::len);
        Err("no thanks".to_owned())
    });
    let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap_err();
    assert_eq!(
        e.to_string(),
        "certificate verify failed: the OCSP staple callback refused the connection: no thanks"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        std::fs::metadata(&revoked).unwrap().len() as usize
    );
}

/// Our server, stapling from `source`, on a free port.
fn our_server(leaf: &str, source: StapleSource) -> u16 {
    our_server_on(sslsock::Engine::Rustls, leaf, source)
}

fn our_server_on(engine: sslsock::Engine, leaf: &str, source: StapleSource) -> u16 {
    let lab = lab();
    let opts = Options::new()
        .server(true)
        .engine(engine)
        .cert_file(lab.path(&format!("{leaf}-chain.pem")))
        .key_file(lab.path(&format!("{leaf}.key")))
        .ocsp_staple(source);
    let listener = sslsock::SslListener::bind("127.0.0.1:0", &opts).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for _ in 0..20 {
            if let Ok((mut s, _)) = listener.accept() {
                use std::io::Write;
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
                let _ = s.close();
            }
        }
    });
    port
}

fn s_client_status(port: u16) -> String {
    s_client_status_with(port, &[])
}

fn s_client_status_with(port: u16, extra: &[&str]) -> String {
    let out = run_with_input(
        Command::new("openssl")
            .current_dir(&lab().dir)
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-CAfile",
                "root.pem",
                "-status",
            ])
            .args(extra)
            .stderr(std::process::Stdio::null()),
        b"",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The openssl engine staples as the default engine does: fetched from the responder and
/// from a file, in TLS 1.2 and 1.3, seen by `openssl s_client -status` and by our client.
#[cfg(feature = "openssl")]
#[test]
fn our_openssl_server_staples_in_tls12_and_tls13() {
    let engine = sslsock::Engine::OpenSsl;
    let fetched = our_server_on(engine, "good", StapleSource::Auto);
    let good = lab().save(
        "file-good-ossl.der",
        &lab().response("int", "good", Signer::Issuer, 60, false),
    );
    let filed = our_server_on(engine, "good", StapleSource::File(good));
    for port in [fetched, filed] {
        for version in ["-tls1_2", "-tls1_3"] {
            let out = s_client_status_with(port, &[version]);
            assert!(out.contains("Cert Status: good"), "{version}: {out}");
        }
        let sock = SslSocket::connect_with(
            &format!("127.0.0.1:{port}"),
            &client(OcspMode::MUST_STAPLE).engine(engine),
        )
        .unwrap();
        assert_eq!(sock.revocation().to_string(), "good (stapled)");
    }
    // A staple file for another certificate is refused when the context is made.
    let other = lab().save(
        "file-other-ossl.der",
        &lab().response("int", "revoked", Signer::Issuer, 60, false),
    );
    let opts = Options::new()
        .server(true)
        .engine(engine)
        .cert_file(lab().path("good-chain.pem"))
        .key_file(lab().path("good.key"))
        .ocsp_staple(StapleSource::File(other));
    let e = sslsock::SslContext::new(&opts).unwrap_err();
    assert!(
        e.to_string()
            .contains("ocsp_staple: the OCSP response holds no status for certificate"),
        "{e}"
    );
}

#[test]
fn our_server_staples_from_the_responder() {
    require("curl");
    let port = our_server("good", StapleSource::Auto);
    let out = s_client_status(port);
    assert!(out.contains("Cert Status: good"), "{out}");

    let curl = Command::new("curl")
        .args(["-sS", "--cert-status", "--cacert"])
        .arg(lab().path("root.pem"))
        .arg(format!("https://localhost:{port}/"))
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .output()
        .unwrap();
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    assert_eq!(curl.stdout, b"ok");

    // Our client agrees.
    let sock =
        SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(OcspMode::MUST_STAPLE))
            .unwrap();
    assert_eq!(sock.revocation().to_string(), "good (stapled)");
}

#[test]
fn our_server_staples_a_file_and_refuses_a_wrong_one() {
    let good = lab().save(
        "file-good.der",
        &lab().response("int", "good", Signer::Issuer, 60, false),
    );
    let port = our_server("good", StapleSource::File(good));
    assert!(s_client_status(port).contains("Cert Status: good"));

    let other = lab().save(
        "file-other.der",
        &lab().response("int", "revoked", Signer::Issuer, 60, false),
    );
    let opts = Options::new()
        .server(true)
        .cert_file(lab().path("good-chain.pem"))
        .key_file(lab().path("good.key"))
        .ocsp_staple(StapleSource::File(other));
    let e = sslsock::SslContext::new(&opts).unwrap_err();
    assert_eq!(
        e.to_string(),
        "configuration error: ocsp_staple: the OCSP response holds no status for certificate \"/CN=localhost\""
    );
}

#[test]
fn our_server_renews_the_staple_before_next_update() {
    // Responses for `short` are current for one minute: renewed after half of it.
    let before = lab().requests().1;
    let port = our_server("short", StapleSource::Auto);
    assert_eq!(lab().requests().1, before + 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while lab().requests().1 < before + 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the staple was not renewed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = s_client_status(port);
    assert!(out.contains("Cert Status: good"), "{out}");
}

#[test]
fn crl_fetched_from_the_distribution_point() {
    let (_srv, port) = stapling_server("good", "int", None, &[]);
    let opts = client(OcspMode::TRY_STAPLE).crl_fetch(true);
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap();
    assert!(
        matches!(
            sock.revocation(),
            Revocation::Good {
                source: StatusSource::Crl,
                ..
            }
        ),
        "{:?}",
        sock.revocation()
    );
    assert_eq!(sock.revocation().to_string(), "good (CRL)");
    drop(sock);

    let (_srv, port) = stapling_server("revoked", "int", None, &[]);
    let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Verify(VerifyError::Revoked(_))), "{e:?}");
    assert!(text.contains("reason: keyCompromise"), "{text}");

    // No distribution point: a soft error, fatal under FAIL_HARD.
    let (_srv, port) = stapling_server("short", "int", None, &[]);
    let sock = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap();
    assert_eq!(
        sock.revocation().to_string(),
        "unknown (certificate \"/CN=localhost\" names no CRL distribution point to fetch from)"
    );
    drop(sock);
    let hard = client(OcspMode::FAIL_HARD).crl_fetch(true);
    let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &hard).unwrap_err();
    assert_eq!(
        e.to_string(),
        "certificate verify failed: revocation check failed: certificate \"/CN=localhost\" names no CRL distribution point to fetch from"
    );
}

/// What Perl IO::Socket::SSL says connecting to `port` with `mode` (its SSL_OCSP_* flags
/// joined by `|`); with `resolve`, the outcome of its ocsp_resolver too.
fn perl_says(port: u16, mode: &str, resolve: bool) -> String {
    sslsock_test_support::require_perl_ssl();
    let script = format!(
        r#"use IO::Socket::SSL;
        my $c = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:{port}", SSL_verifycn_name => "localhost",
            SSL_verifycn_scheme => "http", SSL_ca_file => "root.pem", SSL_ocsp_mode => {mode})
            or do {{ print "failed: $SSL_ERROR\n"; exit }};
        if ({resolve}) {{
            my $err = $c->ocsp_resolver->resolve_blocking(timeout => 10);
            print defined $err && $err ne "" ? "resolver: $err\n" : "resolver ok\n";
        }} else {{ print "connected\n" }}"#,
        resolve = u8::from(resolve)
    );
    let out = Command::new("perl")
        .current_dir(&lab().dir)
        .args(["-e", &script])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A scenario: what, leaf, staple file, Perl's mode, ours, whether the resolver runs, and
/// how both outcomes start.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a std::path::Path>,
    &'a str,
    OcspMode,
    bool,
    &'a str,
);

/// The same scenarios through sslsock and through Perl IO::Socket::SSL: they agree.
#[test]
fn perl_io_socket_ssl_agrees() {
    let ours = |port: u16, mode: OcspMode, resolve: bool| -> String {
        match SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client(mode)) {
            Err(e) => format!("failed: {e}"),
            Ok(s) if resolve => match s.ocsp_resolver().resolve_blocking(Duration::from_secs(10)) {
                Ok(()) => "resolver ok".to_owned(),
                Err(e) => format!("resolver: {e}"),
            },
            Ok(_) => "connected".to_owned(),
        }
    };
    let good = lab().save(
        "perl-good.der",
        &lab().response("int", "good", Signer::Issuer, 60, false),
    );
    let revoked = lab().save(
        "perl-revoked.der",
        &lab().response("int", "revoked", Signer::Issuer, 60, false),
    );
    let cases: [Case<'_>; 7] = [
        (
            "full chain, revoked intermediate",
            "good2",
            None,
            "SSL_OCSP_FULL_CHAIN",
            OcspMode::FULL_CHAIN,
            true,
            "resolver:",
        ),
        (
            "hard, status unknown",
            "unknown",
            None,
            "SSL_OCSP_FAIL_HARD",
            OcspMode::FAIL_HARD,
            true,
            "resolver:",
        ),
        (
            "good staple",
            "good",
            Some(&good),
            "SSL_OCSP_TRY_STAPLE",
            OcspMode::TRY_STAPLE,
            false,
            "connected",
        ),
        (
            "revoked staple",
            "revoked",
            Some(&revoked),
            "SSL_OCSP_TRY_STAPLE",
            OcspMode::TRY_STAPLE,
            false,
            "failed",
        ),
        (
            "no staple, must",
            "good",
            None,
            "SSL_OCSP_MUST_STAPLE",
            OcspMode::MUST_STAPLE,
            false,
            "failed",
        ),
        (
            "resolver, good leaf",
            "good",
            None,
            "SSL_OCSP_TRY_STAPLE",
            OcspMode::TRY_STAPLE,
            true,
            "resolver ok",
        ),
        (
            "resolver, revoked leaf",
            "revoked",
            None,
            "SSL_OCSP_TRY_STAPLE",
            OcspMode::TRY_STAPLE,
            true,
            "resolver:",
        ),
    ];
    for (what, leaf, staple, perl_mode, mode, resolve, expect) in cases {
        let ca = if leaf == "good2" { "int2" } else { "int" };
        let (srv, port) = stapling_server(leaf, ca, staple, &[]);
        let mine = ours(port, mode, resolve);
        drop(srv);
        let (_srv, port) = stapling_server(leaf, ca, staple, &[]);
        let perl = perl_says(port, perl_mode, resolve);
        eprintln!("| {what} | {mine} | {perl} |");
        assert!(mine.starts_with(expect), "{what}: sslsock said {mine}");
        assert!(perl.starts_with(expect), "{what}: Perl said {perl}");
    }
    // Where they differ, on purpose: Perl does not enforce must-staple (RFC 7633).
    let (srv, port) = stapling_server("staple", "int", None, &[]);
    let mine = ours(port, OcspMode::TRY_STAPLE, false);
    drop(srv);
    let (_srv, port) = stapling_server("staple", "int", None, &[]);
    let perl = perl_says(port, "SSL_OCSP_TRY_STAPLE", false);
    eprintln!("| must-staple certificate, no staple | {mine} | {perl} |");
    assert!(mine.contains("marked must-staple"), "{mine}");
    assert_eq!(perl, "connected");
}

/// An application's OCSP store (`SSL_ocsp_cache` as an object with get and put).
#[derive(Default)]
struct AppStore(
    std::sync::Mutex<
        std::collections::HashMap<sslsock::ocsp::CertId, sslsock::ocsp::VerifiedStatus>,
    >,
);

impl sslsock::ocsp::OcspStore for AppStore {
    fn get(&self, id: &sslsock::ocsp::CertId) -> Option<sslsock::ocsp::VerifiedStatus> {
        self.0.lock().unwrap().get(id).cloned()
    }
    fn put(&self, id: sslsock::ocsp::CertId, status: sslsock::ocsp::VerifiedStatus) {
        self.0.lock().unwrap().insert(id, status);
    }
}

/// The application's OCSP store keeps the revocation a staple told, and a later connection
/// to a server that staples nothing is refused from it; a client with an empty store of its
/// own knows nothing.
#[test]
fn an_application_ocsp_store_is_used() {
    let with_store = |store: &std::sync::Arc<AppStore>| {
        Options::new()
            .ca_file(lab().path("root.pem"))
            .engine(sslsock_test_support::test_engine())
            .ocsp_mode(OcspMode::TRY_STAPLE)
            .ocsp_cache(sslsock::ocsp::OcspCache::with_store(store.clone()))
    };
    let store = std::sync::Arc::new(AppStore::default());
    let revoked = lab().save(
        "staple-revoked-app-store.der",
        &lab().response("int", "revoked", Signer::Issuer, 60, false),
    );
    let (_srv, port) = stapling_server("revoked", "int", Some(&revoked), &[]);
    let addr = format!("127.0.0.1:{port}");
    let e = SslSocket::connect_with(&addr, &with_store(&store)).unwrap_err();
    assert!(e.to_string().contains("keyCompromise"), "{e}");
    let held: Vec<_> = store.0.lock().unwrap().values().cloned().collect();
    assert!(
        held.len() == 1 && matches!(held[0].status, CertStatus::Revoked { .. }),
        "{held:?}"
    );

    let (_srv, port) = stapling_server("revoked", "int", None, &[]);
    let addr = format!("127.0.0.1:{port}");
    let e = SslSocket::connect_with(&addr, &with_store(&store)).unwrap_err();
    assert!(
        e.to_string().contains("keyCompromise"),
        "from the store: {e}"
    );

    let empty = std::sync::Arc::new(AppStore::default());
    let sock = SslSocket::connect_with(&addr, &with_store(&empty)).unwrap();
    assert_eq!(
        sock.revocation().to_string(),
        "unknown (no stapled response)"
    );
}
