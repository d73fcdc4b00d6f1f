//! Encrypted Client Hello against BoringSSL's `bssl-tool server`, through a loopback relay that
//! keeps every byte the client sent, so the tests can show where the real name travelled.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sslsock::ech::{EchConfigList, EchMode, EchStatus};
use sslsock::error::{ConfigError, TlsError, VerifyError};
use sslsock::{Error, Options, SslContext, SslSocket};
use sslsock_test_support::ech_lab::{ech_lab, BsslServer, PUBLIC_NAME, SECRET_NAME};
use sslsock_test_support::{require, s_server};

/// Relays one connection to `port` and returns what the client sent.
fn relay(port: u16) -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay_port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let server = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let pump = |mut from: TcpStream, mut to: TcpStream, keep: Option<Arc<Mutex<Vec<u8>>>>| {
            std::thread::spawn(move || {
                let mut buf = [0u8; 16_384];
                while let Ok(n) = from.read(&mut buf) {
                    if n == 0 || to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    if let Some(k) = &keep {
                        k.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                }
                let _ = to.shutdown(Shutdown::Write);
            })
        };
        let up = pump(
            client.try_clone().unwrap(),
            server.try_clone().unwrap(),
            Some(sent.clone()),
        );
        let down = pump(server, client, None);
        up.join().unwrap();
        down.join().unwrap();
        let bytes = sent.lock().unwrap().clone();
        bytes
    });
    (relay_port, handle)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn client(mode: EchMode) -> Options {
    Options::new()
        .ca_file(&ech_lab().ca)
        .hostname(SECRET_NAME)
        .ech(mode)
}

fn lab_list() -> EchConfigList {
    EchConfigList::from_file(&ech_lab().list).unwrap()
}

#[test]
fn accepted_the_name_travels_encrypted_and_is_the_one_verified() {
    // The certificate names only the inner name: success means it was verified for it.
    let server = BsslServer::start("inner", true);
    let (port, sent) = relay(server.port);
    let s = SslSocket::connect_with(
        &format!("127.0.0.1:{port}"),
        &client(EchMode::Config(lab_list())),
    )
    .unwrap();
    assert_eq!(s.ech_status(), EchStatus::Accepted);
    assert_eq!(s.version(), Some("TLSv1_3"));
    let _ = s.close();
    let sent = sent.join().unwrap();
    assert!(
        contains(&sent, PUBLIC_NAME),
        "the public name goes in the clear"
    );
    assert!(
        !contains(&sent, SECRET_NAME),
        "the inner name must not appear in the clear"
    );
    let out = server.wait_for("Encrypted ClientHello: yes", 1);
    assert!(out.contains("Encrypted ClientHello: yes"), "{out}");
    assert!(
        out.contains(&format!("Client sent SNI: {SECRET_NAME}")),
        "{out}"
    );
}

#[test]
fn rejected_never_sends_the_name_and_reports_the_retry_configs() {
    let server = BsslServer::start("both", true);
    let (port, sent) = relay(server.port);
    let other = EchConfigList::from_file(&ech_lab().other_list).unwrap();
    let err = SslSocket::connect_with(
        &format!("127.0.0.1:{port}"),
        &client(EchMode::Config(other)),
    )
    .unwrap_err();
    let Error::Tls(TlsError::EchRejected { retry_configs }) = &err else {
        panic!("not an ECH rejection: {err:?}");
    };
    let text = err.to_string();
    assert!(
        text.contains("rejected Encrypted Client Hello (ECH)"),
        "{text}"
    );
    assert!(text.contains("not sent in the clear"), "{text}");
    // The server's own configuration comes back, in base64 in the message as well.
    let retry = retry_configs
        .clone()
        .expect("the server sent retry configs");
    assert_eq!(retry, lab_list());
    assert!(text.contains(&retry.to_base64()), "{text}");
    let sent = sent.join().unwrap();
    assert!(!contains(&sent, SECRET_NAME), "the inner name leaked");
    let out = server.wait_for(&format!("Client sent SNI: {PUBLIC_NAME}"), 1);
    assert!(!out.contains(SECRET_NAME), "{out}");

    // The retry configs work.
    let s = SslSocket::connect_with(
        &format!("127.0.0.1:{}", server.port),
        &client(EchMode::Config(retry)),
    )
    .unwrap();
    assert_eq!(s.ech_status(), EchStatus::Accepted);
}

#[test]
fn rejected_with_verifycn_name_set_still_reports_the_retry_configs() {
    // On a rejection the server is authenticated for the public name (RFC 9849 6.1.6), not
    // for the name the application asked to check (which the certificate does not have).
    let server = BsslServer::start("both", true);
    let other = EchConfigList::from_file(&ech_lab().other_list).unwrap();
    let opts = client(EchMode::Config(other)).verifycn_name("elsewhere.example");
    let err = SslSocket::connect_with(&format!("127.0.0.1:{}", server.port), &opts).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tls(TlsError::EchRejected {
                retry_configs: Some(_)
            })
        ),
        "{err:?}"
    );
    // Accepted, the name asked for is the one checked.
    let opts = client(EchMode::Config(lab_list())).verifycn_name("wrong.example");
    let err = SslSocket::connect_with(&format!("127.0.0.1:{}", server.port), &opts).unwrap_err();
    assert!(err.to_string().contains("wrong.example"), "{err}");
}

#[test]
fn rejected_by_a_server_without_ech_and_a_certificate_for_the_inner_name_only() {
    // No ECH key on the server: it answers the outer hello for the public name with a
    // certificate that does not cover it. The handshake fails on that name, never on the
    // inner one, and the inner name is not sent in the clear.
    let server = BsslServer::start("inner", false);
    let (port, sent) = relay(server.port);
    let err = SslSocket::connect_with(
        &format!("127.0.0.1:{port}"),
        &client(EchMode::Config(lab_list())),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(PUBLIC_NAME), "{text}");
    // The refusal says that ECH was rejected, and why the retry could not be authenticated.
    match &err {
        Error::Verify(VerifyError::EchRetryUnauthenticated {
            public_name,
            reason,
        }) => {
            assert_eq!(public_name, PUBLIC_NAME);
            assert!(
                matches!(**reason, VerifyError::NameMismatch { .. }),
                "{reason:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        text.contains("the server rejected Encrypted Client Hello, and its certificate does not authenticate it for the public name"),
        "{text}"
    );
    assert!(!contains(&sent.join().unwrap(), SECRET_NAME));
}

#[test]
fn grease_against_bssl_and_openssl() {
    let server = BsslServer::start("both", true);
    let s = SslSocket::connect_with(
        &format!("127.0.0.1:{}", server.port),
        &client(EchMode::Grease),
    )
    .unwrap();
    assert_eq!(s.ech_status(), EchStatus::Grease);
    drop(s);
    let out = server.wait_for("Encrypted ClientHello: no", 1);
    assert!(out.contains("Encrypted ClientHello: no"), "{out}");
    assert!(
        out.contains(&format!("Client sent SNI: {SECRET_NAME}")),
        "{out}"
    );

    require("openssl");
    let (_peer, port) = s_server("srv-ec", &["-www"]);
    let opts = sslsock_test_support::client_opts()
        .engine(sslsock::Engine::Rustls)
        .ech(EchMode::Grease);
    let s = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap();
    assert_eq!(s.ech_status(), EchStatus::Grease);
    assert_eq!(s.version(), Some("TLSv1_3"));
}

#[test]
fn ech_needs_tls13_refused_with_tls12_only_narrowed_otherwise() {
    for mode in [EchMode::Config(lab_list()), EchMode::Grease] {
        let err = SslContext::new(&client(mode.clone()).version("TLSv1_2")).unwrap_err();
        assert!(
            matches!(&err, Error::Config(ConfigError::Ech(_))),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("needs TLS 1.3"), "{text}");
        assert!(text.contains("only TLS 1.2"), "{text}");
        // The reason fits the mode: GREASE hides no name, real ECH would lose it.
        let (fits, not) = match mode {
            EchMode::Grease => ("a TLS 1.3 extension", "in the clear"),
            _ => ("in the clear", "a TLS 1.3 extension"),
        };
        assert!(text.contains(fits) && !text.contains(not), "{text}");
    }
    // Both allowed: TLS 1.3 only (said in a warning), so a TLS 1.2-only server is refused
    // rather than given the name in the clear.
    let server = BsslServer::start("both", true);
    let ctx = SslContext::new(&client(EchMode::Config(lab_list())).version("SSLv23")).unwrap();
    let s = SslSocket::connect_with(&format!("127.0.0.1:{}", server.port), &ctx).unwrap();
    assert_eq!(s.version(), Some("TLSv1_3"));
    require("openssl");
    let (_peer, port) = s_server("srv-ec", &["-www", "-tls1_2"]);
    let opts = sslsock_test_support::client_opts()
        .engine(sslsock::Engine::Rustls)
        .ech(EchMode::Grease);
    let err = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
}

#[test]
fn ech_is_a_client_option() {
    let err = SslContext::new(
        &sslsock_test_support::server_opts()
            .server(true)
            .ech(EchMode::Config(lab_list())),
    )
    .unwrap_err();
    assert!(err.to_string().contains("ech"), "{err}");
}

#[test]
fn bad_configuration_files_are_refused_with_reasons() {
    let dir = sslsock_test_support::scratch_dir("ech-bad");
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, b"\x00\x05\xfe\x0d\x00\x09\x07").unwrap();
    let err = EchConfigList::from_file(&garbage).unwrap_err().to_string();
    assert!(err.contains("ends inside"), "{err}");
    let text = dir.join("text");
    std::fs::write(&text, "this is not a configuration").unwrap();
    let err = EchConfigList::from_file(&text).unwrap_err().to_string();
    assert!(err.contains("ECH"), "{err}");
    // The base64 form from a DNS record, in a file.
    let b64 = dir.join("b64");
    std::fs::write(&b64, format!("ech=\"{}\"\n", lab_list().to_base64())).unwrap();
    assert_eq!(EchConfigList::from_file(&b64).unwrap(), lab_list());
}
