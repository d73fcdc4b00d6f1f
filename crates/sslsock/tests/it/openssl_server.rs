//! Our client against `openssl s_server`: success, and a precise refusal for each failure class.

use std::io::{Read, Write};

use sslsock::{Error, Options, SslSocket, TlsError, VerifyError};

use crate::util::*;

fn connect(port: u16, opts: &Options) -> Result<SslSocket, Error> {
    SslSocket::connect_with(&format!("127.0.0.1:{port}"), opts)
}

#[test]
fn success_with_ca_file() {
    let (_peer, port) = s_server("srv-ec", &["-www", "-alpn", "foo,bar"]);
    let mut c = connect(port, &client_opts().alpn_protocols(["bar"])).unwrap();
    assert_eq!(c.alpn_selected().as_deref(), Some("bar"));
    assert_eq!(c.version(), Some("TLSv1_3"));
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let body = read_all(&mut c);
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with("HTTP/1.0 200 ok"), "{text}");
    assert!(text.contains("TLSv1.3"), "{text}");
}

#[test]
fn success_tls12_rsa() {
    let (_peer, port) = s_server("srv-rsa", &["-www", "-tls1_2"]);
    let mut c = connect(port, &client_opts()).unwrap();
    assert_eq!(c.version(), Some("TLSv1_2"));
    assert!(
        c.cipher().unwrap().starts_with("ECDHE-RSA-AES"),
        "{:?}",
        c.cipher()
    );
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut first = [0u8; 8];
    c.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.0");
}

#[test]
fn refuses_wrong_host_name() {
    let (_peer, port) = s_server("srv-ec", &["-www"]);
    let err = connect(
        port,
        &Options::new()
            .ca_file(&pki().ca)
            .hostname("www.example.org"),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::NameMismatch { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "certificate verify failed: hostname \"www.example.org\" does not match certificate names [localhost, 127.0.0.1, ::1] (scheme default)"
    );
}

#[test]
fn refuses_self_signed() {
    let (_peer, port) = s_server("selfsigned", &["-www"]);
    let err = connect(port, &client_opts()).unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::SelfSigned { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("self-signed certificate \"/CN=localhost\""),
        "{err}"
    );
}

#[test]
fn refuses_expired() {
    let (_peer, port) = s_server("expired", &["-www"]);
    let err = connect(port, &client_opts()).unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::Expired { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("certificate has expired (notAfter "),
        "{err}"
    );
}

#[test]
fn refuses_unknown_ca() {
    let (_peer, port) = s_server("unknown-ca", &["-www"]);
    let err = connect(port, &client_opts()).unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::UnknownIssuer { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("issuer \"/CN=Unknown Test CA\" is not a trusted CA"),
        "{err}"
    );
}

#[test]
fn refuses_version_mismatch() {
    let (_peer, port) = s_server("srv-ec", &["-www", "-tls1_2"]);
    let err = connect(port, &client_opts().version("TLSv1_3")).unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::NoCommonVersion(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("protocol_version"), "{err}");
}

#[test]
fn refuses_not_yet_valid() {
    let (_peer, port) = s_server("future", &["-www"]);
    let err = connect(port, &client_opts()).unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::NotYetValid { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("certificate is not yet valid (notBefore "),
        "{err}"
    );
}

#[test]
fn refuses_bad_key_usage() {
    let (_peer, port) = s_server("clientonly", &["-www"]);
    let err = connect(port, &client_opts()).unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::BadPurpose)),
        "{err:?}"
    );
    assert!(err.to_string().contains("bad key usage"), "{err}");
}

#[test]
fn refuses_pin_mismatch() {
    let (_peer, port) = s_server("srv-ec", &["-www"]);
    let wrong = format!("sha256${}", "ab".repeat(32));
    let err = connect(
        port,
        &client_opts().fingerprint(&wrong).force_fingerprint(true),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::PinMismatch { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains(&wrong), "{err}");
}

#[test]
fn refuses_revoked() {
    let p = pki();
    let crl = openssl_crl(&p.dir, "ca", &[(&p.pair("srv-rsa").cert, "superseded")]);
    let (_peer, port) = s_server("srv-rsa", &["-www"]);
    let err = connect(port, &client_opts().crl_file(&crl)).unwrap_err();
    assert!(
        matches!(err, Error::Verify(VerifyError::Revoked(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("reason: superseded"), "{err}");
}
