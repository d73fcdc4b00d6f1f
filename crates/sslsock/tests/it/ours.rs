//! Our client against our server over loopback.

use std::io::{BufRead, Read, Write};

use sslsock::{
    CertField, Error, FingerprintAlgorithm, Options, SslSocket, SubjectAltName, VerifyError,
    VerifyMode,
};

use crate::util::*;

#[test]
fn tls13_ecdsa_with_alpn_and_sni() {
    let (addr, h) = serve(
        server_opts().alpn_protocols(["h2", "http/1.1"]),
        1,
        |mut s| {
            assert_eq!(s.servername(), Some("localhost"));
            assert_eq!(s.alpn_selected().as_deref(), Some("http/1.1"));
            assert_eq!(s.version(), Some("TLSv1_3"));
            assert!(s.sock_certificate().is_some());
            let mut line = String::new();
            s.read_line(&mut line).unwrap();
            s.write_all(line.to_uppercase().as_bytes()).unwrap();
            s.close().map_err(|e| e.to_string())
        },
    );
    let mut c = SslSocket::connect_with(
        &addr.to_string(),
        &client_opts().alpn_protocols(["http/1.1"]),
    )
    .unwrap();
    assert_eq!(c.version(), Some("TLSv1_3"));
    assert_eq!(c.version_int(), Some(0x0304));
    assert_eq!(c.alpn_selected().as_deref(), Some("http/1.1"));
    assert!(c.cipher().unwrap().starts_with("TLS_"), "{:?}", c.cipher());
    assert_eq!(c.cipher(), c.cipher_iana());
    assert_eq!(c.group().as_deref(), Some("X25519MLKEM768"));
    assert!(!c.session_reused());
    c.write_all(b"hello tls\n").unwrap();
    let mut reply = String::new();
    c.read_line(&mut reply).unwrap();
    assert_eq!(reply, "HELLO TLS\n");
    assert_eq!(
        c.read(&mut [0u8; 8]).unwrap(),
        0,
        "close_notify reads as EOF"
    );
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn tls12_rsa() {
    let (addr, h) = serve(server_opts_with("srv-rsa"), 1, echo_once);
    let mut c =
        SslSocket::connect_with(&addr.to_string(), &client_opts().version("TLSv1_2")).unwrap();
    assert_eq!(c.version(), Some("TLSv1_2"));
    assert_eq!(c.version_int(), Some(0x0303));
    assert!(
        c.cipher().unwrap().starts_with("ECDHE-RSA-"),
        "{:?}",
        c.cipher()
    );
    assert!(c.cipher_iana().unwrap().starts_with("TLS_ECDHE_RSA_WITH_"));
    c.write_all(b"rsa\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "rsa\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn tls12_ecdsa_with_cipher_and_group_strings() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let opts = client_opts()
        .version("TLSv12")
        .cipher_list("ECDHE+AESGCM:!AES256")
        .ecdh_curve("P-256");
    let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    assert_eq!(c.cipher(), Some("ECDHE-ECDSA-AES128-GCM-SHA256"));
    assert_eq!(c.group().as_deref(), Some("secp256r1"));
    c.write_all(b"x\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn tls13_ciphersuites_string() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let opts = client_opts().ciphersuites("TLS_CHACHA20_POLY1305_SHA256");
    let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    assert_eq!(c.cipher(), Some("TLS_CHACHA20_POLY1305_SHA256"));
    c.write_all(b"x\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn ipv6_loopback_and_ip_identity() {
    let listener = sslsock::SslListener::bind("[::1]:0", &server_opts()).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (s, peer) = listener.accept().unwrap();
        assert!(peer.is_ipv6());
        // No SNI is sent for an IP address.
        assert_eq!(s.servername(), None);
        echo_once(s).unwrap();
    });
    let opts = Options::new()
        .ca_file(&pki().ca)
        .family(sslsock::Family::V6);
    let mut c = SslSocket::connect_with(&format!("[::1]:{}", addr.port()), &opts).unwrap();
    c.write_all(b"six\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "six\n");
    h.join().unwrap();
}

#[test]
fn sni_disabled_still_verifies_peer_name() {
    let (addr, h) = serve(server_opts(), 1, |s| {
        assert_eq!(s.servername(), None, "hostname \"\" disables SNI");
        echo_once(s)
    });
    let opts = Options::new()
        .ca_file(&pki().ca)
        .hostname("")
        .verifycn_name("localhost");
    let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    c.write_all(b"nosni\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn peer_certificate_fields_and_fingerprints() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    assert_eq!(
        c.peer_certificate(CertField::CommonName).as_deref(),
        Some("localhost")
    );
    assert_eq!(
        c.peer_certificate(CertField::Subject).as_deref(),
        Some("/CN=localhost")
    );
    assert_eq!(
        c.peer_certificate(CertField::Issuer).as_deref(),
        Some("/CN=sslsock Test CA/O=sslsock tests")
    );
    let sans = c.peer_subject_alt_names();
    assert!(sans.contains(&SubjectAltName::Dns("localhost".into())));
    assert!(sans.contains(&SubjectAltName::Ip("::1".parse().unwrap())));
    assert_eq!(c.peer_certificates().len(), 1);
    assert_eq!(
        c.dump_peer_certificate().unwrap(),
        "Subject Name: /CN=localhost\nIssuer  Name: /CN=sslsock Test CA/O=sslsock tests\n"
    );
    assert_eq!(c.opened(), sslsock::socket::Opened::Tls);
    assert_eq!(c.opened().as_perl(), 1);
    let fp = c.fingerprint(FingerprintAlgorithm::Sha256, false).unwrap();
    assert!(fp.starts_with("sha256$") && fp.len() == 7 + 64, "{fp}");
    let fp_pub = c.fingerprint(FingerprintAlgorithm::Sha256, true).unwrap();
    assert!(fp_pub.starts_with("sha256$pub$") && fp_pub != fp);
    assert_eq!(
        c.fingerprint_bin(FingerprintAlgorithm::Sha1, false)
            .unwrap()
            .len(),
        20
    );
    // The same fingerprint as openssl computes from the file.
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pki().pair("srv-ec").cert)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout)
        .to_lowercase()
        .replace(':', "");
    assert!(text.trim().ends_with(&fp[7..]), "{text} vs {fp}");
    c.verify_hostname("localhost", "http").unwrap();
    assert!(c.verify_hostname("example.org", "http").is_err());
    c.write_all(b"x\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn wrong_name_is_refused_and_verify_none_is_explicit() {
    let (addr, h) = serve(server_opts(), 2, echo_once);
    let err = SslSocket::connect_with(
        &addr.to_string(),
        &client_opts().verifycn_name("www.example.org"),
    )
    .unwrap_err();
    match &err {
        Error::Verify(VerifyError::NameMismatch {
            expected,
            presented,
            scheme,
        }) => {
            assert_eq!(expected, "www.example.org");
            assert!(presented.contains(&"localhost".to_string()));
            assert_eq!(scheme, "default");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains("does not match certificate names"),
        "{err}"
    );
    let mut c = SslSocket::connect_with(
        &addr.to_string(),
        &Options::new()
            .verify_mode(VerifyMode::NONE)
            .hostname("www.example.org"),
    )
    .unwrap();
    c.write_all(b"x\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    let results = h.join().unwrap();
    assert!(results[0].is_err(), "server sees the refused handshake");
    results[1].clone().unwrap();
}

#[test]
fn client_certificates() {
    let server = server_opts()
        .ca_file(&pki().ca)
        .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT);
    let (addr, h) = serve(server, 2, |s| {
        assert_eq!(
            s.peer_certificate(CertField::CommonName).as_deref(),
            Some("test client")
        );
        echo_once(s)
    });
    // Without a certificate: refused by the server.
    let r = SslSocket::connect_with(&addr.to_string(), &client_opts()).and_then(|mut c| {
        c.write_all(b"x\n")?;
        let mut line = String::new();
        c.read_line(&mut line)?;
        Ok(line)
    });
    assert!(
        r.is_err(),
        "a client without certificate must be refused: {r:?}"
    );
    let cli = pki().pair("client");
    let mut c = SslSocket::connect_with(
        &addr.to_string(),
        &client_opts().cert_file(cli.cert).key_file(cli.key),
    )
    .unwrap();
    assert!(c.sock_certificate().is_some());
    c.write_all(b"with cert\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "with cert\n");
    let results = h.join().unwrap();
    assert!(results[0].is_err());
    results[1].clone().unwrap();
}

#[test]
fn key_inside_cert_file_and_in_memory_material() {
    let opts = Options::new().cert_file(pki().path("srv-combined.pem"));
    let (addr, h) = serve(opts, 1, echo_once);
    let ca_pem = std::fs::read(&pki().ca).unwrap();
    let mut c = SslSocket::connect_with(
        &addr.to_string(),
        &Options::new().ca_cert(ca_pem).hostname("localhost"),
    )
    .unwrap();
    c.write_all(b"mem\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "mem\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn ca_path_directory() {
    let dir = pki().path("capath");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&pki().ca, dir.join("ca.pem")).unwrap();
    std::fs::write(dir.join("README"), "not a certificate").unwrap();
    let (addr, h) = serve(server_opts(), 1, echo_once);
    // Only unreadable directories: a configuration error naming them (one readable
    // directory in a list is enough, as the manual says: options_applied).
    let err = sslsock::SslContext::new(&Options::new().ca_path("/nonexistent-ca-dir")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent-ca-dir"), "{err}");
    let opts = Options::new()
        .ca_path(dir.display().to_string())
        .hostname("localhost");
    let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    c.write_all(b"dir\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn no_ca_fails_closed() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let err = SslSocket::connect_with(
        &addr.to_string(),
        &Options::new().no_ca().hostname("localhost"),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::UnknownIssuer { .. })),
        "{err:?}"
    );
    assert!(h.join().unwrap()[0].is_err());
}

#[test]
fn version_mismatch_between_ours() {
    let (addr, h) = serve(server_opts().version("TLSv1_2"), 1, echo_once);
    let err =
        SslSocket::connect_with(&addr.to_string(), &client_opts().version("TLSv1_3")).unwrap_err();
    assert!(
        matches!(err, Error::Tls(sslsock::TlsError::NoCommonVersion(_))),
        "{err:?}"
    );
    assert!(h.join().unwrap()[0].is_err());
}

#[test]
fn service_name_ports_and_connect_errors() {
    // Nothing listens: a network error, not a TLS one.
    let port = free_port();
    let err = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &client_opts()).unwrap_err();
    assert!(
        matches!(err, Error::Connect { .. }) && err.is_network(),
        "{err:?}"
    );
    let err = SslSocket::connect("no-such-host.invalid:https").unwrap_err();
    assert!(matches!(err, Error::Resolve { .. }), "{err:?}");
    let err = SslSocket::connect("localhost:no-such-service").unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn der_certificate_and_key_files() {
    require("openssl");
    let pair = pki().pair("srv-rsa");
    let cert_der = pki().path("srv-rsa.der");
    let key_der = pki().path("srv-rsa-key.der");
    let ok = |args: &[&std::ffi::OsStr]| {
        openssl_in(std::path::Path::new("."), args);
    };
    ok(&[
        "x509".as_ref(),
        "-in".as_ref(),
        pair.cert.as_os_str(),
        "-outform".as_ref(),
        "DER".as_ref(),
        "-out".as_ref(),
        cert_der.as_os_str(),
    ]);
    // A PKCS#1 RSA key in DER, the traditional form.
    ok(&[
        "rsa".as_ref(),
        "-traditional".as_ref(),
        "-in".as_ref(),
        pair.key.as_os_str(),
        "-outform".as_ref(),
        "DER".as_ref(),
        "-out".as_ref(),
        key_der.as_os_str(),
    ]);
    let (addr, h) = serve(
        Options::new().cert_file(&cert_der).key_file(&key_der),
        1,
        echo_once,
    );
    // The CA as DER too.
    let ca_der = pki().path("ca.der");
    ok(&[
        "x509".as_ref(),
        "-in".as_ref(),
        pki().ca.as_os_str(),
        "-outform".as_ref(),
        "DER".as_ref(),
        "-out".as_ref(),
        ca_der.as_os_str(),
    ]);
    let mut c = SslSocket::connect_with(
        &addr.to_string(),
        &Options::new().ca_file(&ca_der).hostname("localhost"),
    )
    .unwrap();
    assert_eq!(
        c.peer_certificate(CertField::CommonName).as_deref(),
        Some("localhost")
    );
    c.write_all(b"der\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "der\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn shared_context_resumes_sessions() {
    let (addr, h) = serve(server_opts(), 2, echo_once);
    let ctx = sslsock::SslContext::new(&client_opts()).unwrap();
    let mut reused = Vec::new();
    for _ in 0..2 {
        let mut c = SslSocket::connect_with(&addr.to_string(), &ctx).unwrap();
        reused.push(c.session_reused());
        // Reading the reply also takes in the TLS 1.3 session tickets.
        c.write_all(b"again\n").unwrap();
        let mut line = String::new();
        c.read_line(&mut line).unwrap();
        assert_eq!(line, "again\n");
        assert_eq!(
            c.peer_certificate(CertField::CommonName).as_deref(),
            Some("localhost")
        );
    }
    assert_eq!(reused, [false, true]);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn self_signed_named_like_a_trusted_certificate_is_reported_as_self_signed() {
    // A trusted certificate with the same subject but another key (the Debian snakeoil case).
    for trusted in ["selfsigned2", "selfsigned-rsa"] {
        let (addr, h) = serve(server_opts_with("selfsigned"), 1, echo_once);
        let opts = Options::new()
            .ca_file(pki().pair(trusted).cert)
            .hostname("localhost");
        let err = SslSocket::connect_with(&addr.to_string(), &opts).unwrap_err();
        assert!(
            matches!(err, Error::Verify(VerifyError::SelfSigned { .. })),
            "{trusted}: {err:?}"
        );
        assert!(h.join().unwrap()[0].is_err());
    }
}

#[test]
fn new_from_fd_upgrades_a_connected_descriptor() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let fd: std::os::fd::OwnedFd = std::net::TcpStream::connect(addr).unwrap().into();
    let mut s = SslSocket::new_from_fd(fd, &client_opts().hostname("localhost"))
        .map_err(|e| e.error)
        .unwrap();
    assert_eq!(s.opened(), sslsock::Opened::Tls);
    s.write_all(b"fd\n").unwrap();
    let mut line = String::new();
    s.read_line(&mut line).unwrap();
    assert_eq!(line, "fd\n");
    drop(s);
    h.join().unwrap().remove(0).unwrap();
}
